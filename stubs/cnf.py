# Generated from course/solutions/cnf.py by `grader stubs`; do not edit by hand.
r"""A continuous normalizing flow (FFJORD-style, exact trace) with a kinetic-energy regulariser.

Handout: CPSC 663 Exercise III (2022), problem 4. A neural ODE dx/dt = f(t, x) carries single
cells (principal components of the embryoid-body time course) at t = 1 to a standard Gaussian at
t = 0; along the way the log-density changes by the trace of the Jacobian (Chen et al., 2018;
Grathwohl et al., 2019), and the energy of the path, the integral of ||f||^2, regularises it
(Finlay et al., 2020; Tong et al., 2020).

Conventions for every function here:
- B is the batch size, D (``dim``) the data dimension; t is a number, a 0-d or a 1-element
  tensor;
- data live at t = 1 and the base N(0, I) at t = 0; with z the image of x at t = 0,
  log p(x) = log N(z; 0, I) - int_0^1 Tr(df/dx)(t, x(t)) dt;
- integration uses torchdyn's ``NeuralODE`` (``from torchdyn.core import NeuralODE``) with an
  adaptive solver (dopri5); its "rk4" is only first-order for a time-dependent field in torchdyn 1.0.6.

Needs the ``cells`` extra: ``pip install 'gradekit[cells]'`` (torchdyn).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["ODEFunc", "trace_df_dx", "CNF", "cnf_nll", "kinetic_energy", "sample", "TrainConfig", "QUICK", "FULL"]


class ODEFunc(nn.Module):
    """A time-dependent vector field f(t, x): an MLP of [x, t] with tanh activations.

    f(t, x) = W3 tanh(W2 tanh(W1 [x, t] + b1) + b2) + b3

    A smooth activation keeps Tr(df/dx) smooth in x (with ReLU it would be piecewise constant).

    Parameters
    ----------
    dim : int
        D, the data dimension.
    hidden : int
        Width of the two hidden layers.

    Shapes
    ------
    forward : t (number, () or (1,)), x (B, D) -> (B, D)
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        raise NotImplementedError("__init__: replace this line with your implementation")

    def forward(self, t: Any, x: torch.Tensor, args: Any = None) -> torch.Tensor:
        """The velocity of each sample at time t; ``args`` is what torchdyn passes, unused."""
        raise NotImplementedError("forward: replace this line with your implementation")


def trace_df_dx(f: Callable[[Any, torch.Tensor], torch.Tensor], t: Any, x: torch.Tensor) -> torch.Tensor:
    """The exact trace of the Jacobian of f with respect to x, per sample.

    Tr(df/dx)(t, x_b) = sum_i d f_i(t, x_b) / d x_{b,i}

    computed with one backward pass per dimension (not a stochastic Hutchinson estimate). The
    result keeps its graph (``create_graph``), so a loss built on it trains f's parameters.
    Works whether or not ``x`` requires grad; f must treat the samples independently.

    Parameters
    ----------
    f : callable
        The vector field, called as ``f(t, x)`` -> (B, D).
    t : float or torch.Tensor
        The time.
    x : torch.Tensor
        The states.

    Returns
    -------
    torch.Tensor
        One trace per sample.

    Shapes
    ------
    x : (B, D); f(t, x) : (B, D)
    returns : (B,)
    """
    raise NotImplementedError("trace_df_dx: replace this line with your implementation")


class CNF(nn.Module):
    """A continuous normalizing flow: ``func`` (an :class:`ODEFunc`) integrated by torchdyn.

    forward(x) integrates [x, int Tr(df/dx) dt, int ||f||^2 dt] from t = 1 (data) to t = 0 (base):

    z = x(0),  delta_logp = int_0^1 Tr(df/dx)(t, x(t)) dt,  kinetic = int_0^1 ||f(t, x(t))||^2 dt

    so that log p(x) = log N(z; 0, I) - delta_logp.

    Parameters
    ----------
    dim : int
        D.
    hidden : int
        Width of the vector field's hidden layers.

    Attributes
    ----------
    func : ODEFunc
        The vector field, ``ODEFunc(dim, hidden)``.

    Shapes
    ------
    forward : x (B, D) -> (z (B, D), delta_logp (B,), kinetic (B,))
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        raise NotImplementedError("__init__: replace this line with your implementation")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Data at t = 1 -> (z at t = 0, int Tr, int ||f||^2)."""
        raise NotImplementedError("forward: replace this line with your implementation")


def cnf_nll(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of data under the flow, per sample.

    -log p(x) = -[ log N(z; 0, I) - delta_logp ],  log N(z; 0, I) = -0.5 (D log(2 pi) + ||z||^2)

    where ``(z, delta_logp, kinetic) = model(x)`` as :class:`CNF` returns them.

    Parameters
    ----------
    model : CNF
        Any module whose ``forward(x)`` returns ``(z, delta_logp, kinetic)``.
    x : torch.Tensor
        Data (at t = 1).

    Returns
    -------
    torch.Tensor
        One value per sample (not averaged).

    Shapes
    ------
    x, z : (B, D); delta_logp : (B,)
    returns : (B,)
    """
    raise NotImplementedError("cnf_nll: replace this line with your implementation")


def kinetic_energy(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The energy of each sample's path, the regulariser of the flow.

    E(x) = int_0^1 ||f(t, x(t))||^2 dt

    along the path x(t) of the model's vector field that ends at x(1) = x.

    Parameters
    ----------
    model : CNF
        Any module whose ``forward(x)`` returns ``(z, delta_logp, kinetic)``.
    x : torch.Tensor
        Data (at t = 1).

    Returns
    -------
    torch.Tensor
        One value per sample.

    Shapes
    ------
    x : (B, D)
    returns : (B,)
    """
    raise NotImplementedError("kinetic_energy: replace this line with your implementation")


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): sampling and the training settings.


def sample(model: CNF, z: torch.Tensor) -> torch.Tensor:
    """Carry base draws z ~ N(0, I) at t = 0 to data space at t = 1 along ``model.func``.

    Shapes
    ------
    z : (n, D)
    returns : (n, D)
    """
    from torchdyn.core import NeuralODE

    ode = NeuralODE(model.func, solver="dopri5", atol=1e-5, rtol=1e-5, return_t_eval=False)
    with torch.no_grad():
        return ode(z, torch.tensor([0.0, 1.0], dtype=z.dtype, device=z.device))[-1]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the CNF on the embryoid-body cells (handout values in ``FULL``)."""

    n_pcs: int = 5  # principal components of each cell (the cached EB file holds 5)
    hidden: int = 64  # width of the vector field
    energy_weight: float = 0.0  # lambda of the kinetic regulariser: loss = nll + lambda * kinetic
    lr: float = 1e-3  # Adam
    batch_size: int = 256
    iterations: int = 2000
    held_out: float = 0.2  # fraction of the cells kept for the held-out NLL
    seed: int = 0


FULL = TrainConfig()
QUICK = TrainConfig(iterations=200)
