# Generated from course/solutions/gan.py by `grader stubs`; do not edit by hand.
r"""The GAN divergence game: variational divergences, gradient penalties, a training step.

Handout: the GAN practical (losses and regularisers for a critic, exponential moving average
of the generator, alternating updates), first on the "dirac" game, then on CIFAR-10.

Conventions for every function here:
- the critic scores REAL data positive; ``cp`` are its outputs on real samples ``p``, ``cq``
  on fake samples ``q``, one value per sample;
- N is the batch size; samples may be scalars ``(N,)``, vectors ``(N, 1)``/``(N, D)`` or
  images ``(N, C, H, W)``; norms are taken over all non-batch dims;
- results are 0-d tensors of the inputs' dtype and device.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "jsd", "w1", "r1gp", "ogp", "make_losses", "apply_exponential_moving_average", "make_train_step",
    "DiracGenerator", "DiracCritic", "DiracConfig", "DIRAC_CONFIGS",
]

Critic = Callable[[torch.Tensor], torch.Tensor]


def _input_gradient(x: torch.Tensor, critic: Critic) -> torch.Tensor:
    """d critic(x) / dx per sample, kept differentiable w.r.t. the critic's parameters."""
    x = x.detach().requires_grad_(True)  # data from a loader does not require grad
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)  # samples are independent
    return grad.reshape(grad.shape[0], -1)  # (N, D)


def jsd(cp: torch.Tensor, cq: torch.Tensor) -> torch.Tensor:
    """Variational estimate of the Jensen-Shannon divergence from critic logits.

    JSD ~ log 2 + 0.5 mean_i log sigmoid(cp_i) + 0.5 mean_j log(1 - sigmoid(cq_j))

    where cp are the critic's logits on real samples and cq on fake ones. The estimate is at
    most log 2 and equals JSD(P, Q) for the optimal critic cp = log(p / q).

    Parameters
    ----------
    cp, cq : torch.Tensor
        Critic logits on samples of P (real) and of Q (fake); their sizes may differ.

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Shapes
    ------
    cp : (N,); cq : (M,)
    returns : ()

    Notes
    -----
    Uses log-sigmoid, log(1 - sigmoid(x)) = log sigmoid(-x), so that logits of +-1e3 give
    finite values.
    """
    raise NotImplementedError("jsd: replace this line with your implementation")


def w1(cp: torch.Tensor, cq: torch.Tensor) -> torch.Tensor:
    """Kantorovich-Rubinstein estimate of the 1-Wasserstein distance from critic values.

    W1 ~ mean_i cp_i - mean_j cq_j

    which equals W1(P, Q) when the critic is the optimal 1-Lipschitz function.

    Parameters
    ----------
    cp, cq : torch.Tensor
        Critic values on samples of P (real) and of Q (fake); their sizes may differ.

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Shapes
    ------
    cp : (N,); cq : (M,)
    returns : ()
    """
    raise NotImplementedError("w1: replace this line with your implementation")


def r1gp(p: torch.Tensor, cp: torch.Tensor, q: torch.Tensor, cq: torch.Tensor, critic: Critic) -> torch.Tensor:
    """Zero-centred R1 gradient penalty on real data.

    R1 = (1/N) sum_i || grad_x critic(p_i) ||^2

    where the squared norm runs over all non-batch dims of a sample. ``q`` and ``cq`` are not
    needed. The penalty stays differentiable w.r.t. the critic's parameters (computed with
    ``create_graph=True``) so that the critic can minimise it.

    Parameters
    ----------
    p : torch.Tensor
        Real samples; need not require grad (build the point to differentiate at yourself).
    cp, q, cq : torch.Tensor
        critic(p), fake samples and critic(q) (unused; do not rely on ``cp``'s graph).
    critic : callable
        Maps a batch of samples to one value per sample.

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Shapes
    ------
    p : (N,), (N, D) or (N, C, H, W); cp : (N,)
    returns : ()
    """
    raise NotImplementedError("r1gp: replace this line with your implementation")


def ogp(p: torch.Tensor, cp: torch.Tensor, q: torch.Tensor, cq: torch.Tensor, critic: Critic) -> torch.Tensor:
    """One-centred gradient penalty of WGAN-GP on random interpolates of real and fake data.

    GP = (1/N) sum_i ( || grad_x critic(x_i) || - 1 )^2,  x_i = eps_i p_i + (1 - eps_i) q_i

    where eps_i ~ U[0, 1] is drawn once per sample (not per batch, not per element) and the
    norm runs over all non-batch dims. No coefficient (lambda) is applied here. The penalty
    stays differentiable w.r.t. the critic's parameters (``create_graph=True``).

    Parameters
    ----------
    p : torch.Tensor
        Real samples; need not require grad.
    q : torch.Tensor
        Fake samples; may differ from ``p``'s shape by trailing singleton dims (the dirac game
        passes real (1, 1) and fake (1,)): it is brought to ``p``'s shape.
    cp, cq : torch.Tensor
        critic(p) and critic(q) (unused).
    critic : callable
        Maps a batch of samples to one value per sample.

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Shapes
    ------
    p, q : (N,), (N, D) or (N, C, H, W); eps : (N, 1, ..., 1)
    returns : ()
    """
    raise NotImplementedError("ogp: replace this line with your implementation")


def make_losses(loss_type: str, reg_type: Optional[str] = None, reg_cf: float = 1.0):
    """Build the generator's ``metric`` and the critic's ``critic_loss``.

    metric(p, q, critic) = div(critic(p), critic(q))
    critic_loss(p, q, critic) = -div(critic(p), critic(q)) + reg_cf * penalty(p, cp, q, cq, critic)

    where div is :func:`jsd` (``'JSD'``) or :func:`w1` (``'W1'``) and penalty is :func:`ogp`
    (``'GP'``), :func:`r1gp` (``'R1'``) or nothing (``None``). The generator minimises
    ``metric``; the critic minimises ``critic_loss`` (it maximises the divergence).

    Parameters
    ----------
    loss_type : {'JSD', 'W1'}
        The divergence; names are case-sensitive.
    reg_type : {'GP', 'R1', None}, default None
        The critic's regulariser.
    reg_cf : float, default 1.0
        Its coefficient, > 0.

    Returns
    -------
    tuple of callables
        ``(metric, critic_loss)``, each ``f(p, q, critic) -> 0-d tensor``.

    Shapes
    ------
    p : (N, ...) real samples; q : (N, ...) fake samples
    returns : (), for each callable

    Raises
    ------
    AssertionError
        If ``reg_cf <= 0`` (checked first).
    NotImplementedError
        For any other ``loss_type`` or ``reg_type``.
    """
    raise NotImplementedError("make_losses: replace this line with your implementation")


def apply_exponential_moving_average(source: nn.Module, target: nn.Module, alpha: float = 0.998) -> None:
    """Move ``target``'s parameters towards ``source``'s: an exponential moving average.

    theta_target <- alpha * theta_target + (1 - alpha) * theta_source

    for every parameter of ``target``, paired by name with ``source``'s; in place, without
    autograd history; buffers are left alone.

    Parameters
    ----------
    source : nn.Module
        The trained model (the generator).
    target : nn.Module
        A copy holding the averaged parameters (the test generator); updated in place.
    alpha : float, default 0.998
        Weight of the old average.

    Returns
    -------
    None

    Shapes
    ------
    each target parameter : the shape of the source parameter of the same name
    """
    raise NotImplementedError("apply_exponential_moving_average: replace this line with your implementation")


def make_train_step(
    loss_type: str,
    critic_inner_iters: int = 1,
    reg_type: Optional[str] = None,
    reg_cf: float = 1.0,
    alpha_ema: Optional[float] = None,
):
    """Build one iteration of alternating critic and generator updates.

    ``train_step(train_data_iter, critic, critic_optim, generator, test_generator,
    generator_optim)`` does, in order:

    1. ``critic_inner_iters`` times: draw a fresh real batch ``next(train_data_iter)`` and a
       fresh fake batch ``generator()`` that carries no gradient to the generator (detached),
       zero the critic's gradients, and take one ``critic_optim`` step on ``critic_loss``;
    2. draw a fresh real batch and a fresh fake batch, zero the generator's gradients, and take
       one ``generator_optim`` step on ``metric`` (the generator minimises the divergence);
    3. if ``alpha_ema`` is set, :func:`apply_exponential_moving_average` from ``generator``
       into ``test_generator``;

    and returns the generator's ``metric`` from step 2. The losses come from
    :func:`make_losses`.

    Parameters
    ----------
    loss_type, reg_type, reg_cf
        As in :func:`make_losses`.
    critic_inner_iters : int, default 1
        Critic updates per generator update, >= 1.
    alpha_ema : float or None, default None
        EMA weight in (0, 1), or None for no averaging.

    Returns
    -------
    callable
        ``train_step(...) -> 0-d tensor`` (the generator's metric).

    Shapes
    ------
    next(train_data_iter), generator() : (N, ...) sample batches
    train_step returns : ()

    Raises
    ------
    AssertionError
        If ``critic_inner_iters < 1`` or ``alpha_ema`` is not None and not in (0, 1).
    NotImplementedError
        For an unknown ``loss_type`` or ``reg_type`` (from :func:`make_losses`).
    """
    raise NotImplementedError("make_train_step: replace this line with your implementation")


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): the dirac game and its twenty configurations.


class DiracGenerator(nn.Module):
    """The dirac game's generator: one parameter theta, which is its one generated point.

    Shapes
    ------
    forward() : () -> (1,), a batch of one fake sample
    """

    def __init__(self) -> None:
        super().__init__()
        self.param = nn.Parameter(0.7 * torch.randn(1))  # theta ~ N(0, 0.7^2)

    def forward(self) -> torch.Tensor:
        return self.param  # (1,)


class DiracCritic(nn.Module):
    """The dirac game's critic C(x) = psi_0 x + psi_1, psi ~ N(0, 0.49 I).

    Shapes
    ------
    forward : (N,) or (N, 1) -> (N,)
    """

    def __init__(self) -> None:
        super().__init__()
        self.param = nn.Parameter(0.7 * torch.randn(2))  # (psi_0, psi_1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.param[0] * x.reshape(x.shape[0]) + self.param[1]  # (N,)


@dataclass(frozen=True)
class DiracConfig:
    """One configuration of the dirac game (the handout's ``Dirac_Hps``)."""

    loss_type: str  # 'JSD' or 'W1'
    reg_type: Optional[str] = None  # 'R1', 'GP' or None
    reg_cf: float = 1.0  # regulariser coefficient (unused without one)
    alpha_ema: Optional[float] = None  # EMA of the generator, or None
    dirac_target: float = 0.0  # the real data: always this point, batches of shape (1, 1)
    lr: float = 0.1  # plain SGD, generator and critic alike
    critic_inner_iters: int = 1
    max_iters: int = 5000
    seed: int = 31415


def _dirac_configs() -> dict[str, DiracConfig]:
    regs = [(None, 1.0), ("R1", 0.01), ("R1", 0.1), ("GP", 0.01), ("GP", 0.1)]  # 1-5; 6-10 add EMA
    return {
        f"dirac-{loss.lower()}-{i + 1 + 5 * (ema is not None)}": DiracConfig(loss, reg, cf, ema)
        for loss in ("JSD", "W1") for ema in (None, 0.998) for i, (reg, cf) in enumerate(regs)
    }


DIRAC_CONFIGS: dict[str, DiracConfig] = _dirac_configs()
