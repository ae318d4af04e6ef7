r"""A planar normalizing flow: the transformation, its log-determinant, and both objectives.

Handout: the VAE/GAN/flow assignment (planar flows of Rezende & Mohamed, 2015), fitted by
maximum likelihood to 2-D sample sets (``loss1``) and by reverse KL to unnormalised densities
(``loss2``).

Conventions for every function here:
- B is the batch size, d the dimension of the data (2 in the handout);
- one planar layer has parameters ``u``, ``w`` of shape (1, d) and ``b`` of shape (1,);
- per-example results have shape (B, 1); the dtype and device of the inputs are kept.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "planar_transformation",
    "get_logdet",
    "loss1",
    "loss2",
    "PlanarTransformation",
    "Flow",
    "density_arcs",
    "density_sine",
    "TrainConfig",
    "QUICK",
    "FULL",
]


def _log_standard_normal(z0: torch.Tensor) -> torch.Tensor:
    """log N(z0; 0, I) per row, with the 2 pi constant; (B, d) -> (B, 1)."""
    d = z0.shape[1]
    return -0.5 * (d * math.log(2 * math.pi) + z0.pow(2).sum(dim=1, keepdim=True))


def planar_transformation(z: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """One planar layer.

    f(z) = z + u tanh(z w^T + b)

    Parameters
    ----------
    z : torch.Tensor
        Points.
    u, w : torch.Tensor
        The layer's direction and normal (rows).
    b : torch.Tensor
        The layer's offset.

    Returns
    -------
    torch.Tensor
        The transformed points.

    Shapes
    ------
    z : (B, d); u, w : (1, d); b : (1,)
    returns : (B, d)
    """
    # BEGIN SOLUTION
    return z + u * torch.tanh(z @ w.T + b)  # (B, 1) broadcast along u
    # END SOLUTION


def get_logdet(z: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """log |det df/dz| of one planar layer, at the layer's input z.

    logdet = log( |1 + u^T psi(z)| + eps ),  psi(z) = (1 - tanh^2(z w^T + b)) w

    where eps sits outside the absolute value.

    Parameters
    ----------
    z : torch.Tensor
        The layer's input (not its output).
    u, w : torch.Tensor
        The layer's direction and normal.
    b : torch.Tensor
        The layer's offset.
    eps : float, default 1e-8
        Keeps the log finite where the determinant vanishes.

    Returns
    -------
    torch.Tensor
        One log-determinant per example.

    Shapes
    ------
    z : (B, d); u, w : (1, d); b : (1,); psi : (B, d)
    returns : (B, 1)
    """
    # BEGIN SOLUTION
    psi = (1 - torch.tanh(z @ w.T + b).pow(2)) * w  # (B, d)
    return torch.log(torch.abs(1 + psi @ u.T) + eps)  # (B, 1)
    # END SOLUTION


def loss1(z0: torch.Tensor, logdet: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of data mapped to the base space by the flow.

    loss1 = -[ log N(z0; 0, I) + logdet ],  log N(z0; 0, I) = -0.5 (d log(2 pi) + ||z0||^2)

    Parameters
    ----------
    z0 : torch.Tensor
        The data after the flow (points of the base space).
    logdet : torch.Tensor
        The flow's accumulated log |det|.

    Returns
    -------
    torch.Tensor
        One value per example.

    Shapes
    ------
    z0 : (B, d); logdet : (B, 1)
    returns : (B, 1)
    """
    # BEGIN SOLUTION
    return -(_log_standard_normal(z0) + logdet)
    # END SOLUTION


def loss2(target_density: torch.Tensor, z0: torch.Tensor, logdet: torch.Tensor) -> torch.Tensor:
    """Reverse-KL objective of a flow fitted to an unnormalised density exp(-U).

    loss2 = log N(z0; 0, I) - logdet + U(z_K)

    where z0 ~ N(0, I) are base samples, z_K the flow's outputs, logdet the accumulated
    log |det| and U the energy (negative log of the unnormalised target density); the 2 pi
    constant is included.

    Parameters
    ----------
    target_density : torch.Tensor
        U(z_K), the energy of each flow output.
    z0 : torch.Tensor
        Base samples.
    logdet : torch.Tensor
        The flow's accumulated log |det|.

    Returns
    -------
    torch.Tensor
        One value per example.

    Shapes
    ------
    target_density : (B,); z0 : (B, d); logdet : (B, 1)
    returns : (B, 1)
    """
    # BEGIN SOLUTION
    energy = target_density.reshape(-1, 1)  # (B, 1); (B,) + (B, 1) would broadcast to (B, B)
    return _log_standard_normal(z0) - logdet + energy
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): the flow, the target energies and the training settings.


class PlanarTransformation(nn.Module):
    """One planar layer with parameters u, w ~ N(0, 0.01^2) and b = 0.

    ``adjust_u`` returns u_hat = u + (m(w^T u) - w^T u) w / ||w||^2, m(x) = -1 + softplus(x),
    so that w^T u_hat > -1 and the layer is invertible; ``forward`` uses u_hat.

    Shapes
    ------
    forward : (B, d) -> ((B, d), (B, 1) log-determinant at the layer's input)
    """

    def __init__(self, dim: int):
        super().__init__()
        self.u = nn.Parameter(0.01 * torch.randn(1, dim))
        self.w = nn.Parameter(0.01 * torch.randn(1, dim))
        self.b = nn.Parameter(torch.zeros(1))

    def adjust_u(self) -> torch.Tensor:
        wu = self.w @ self.u.T  # (1, 1)
        return self.u + (-1 + F.softplus(wu) - wu) * self.w / self.w.pow(2).sum()

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = self.adjust_u()
        return planar_transformation(z, u, self.w, self.b), get_logdet(z, u, self.w, self.b)


class Flow(nn.Module):
    """``num_layers`` planar layers; the log-determinant of each is taken at its own input.

    Shapes
    ------
    forward : (B, d) -> ((B, d) output, (B, 1) sum of the layers' log-determinants)
    """

    def __init__(self, dim: int, num_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(PlanarTransformation(dim) for _ in range(num_layers))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(z.shape[0], 1, dtype=z.dtype, device=z.device)
        for layer in self.layers:
            z, layer_logdet = layer(z)
            logdet = logdet + layer_logdet
        return z, logdet


def density_arcs(z: torch.Tensor) -> torch.Tensor:
    """Energy U1 of Rezende & Mohamed: a ring cut into two arcs; (B, 2) -> (B,)."""
    z1, norm = z[:, 0], z.norm(dim=1)
    arcs = torch.stack([-0.5 * ((z1 - 2) / 0.6) ** 2, -0.5 * ((z1 + 2) / 0.6) ** 2], dim=1)
    return 0.5 * ((norm - 2) / 0.4) ** 2 - torch.logsumexp(arcs, dim=1)


def density_sine(z: torch.Tensor) -> torch.Tensor:
    """Energy U2 of Rezende & Mohamed: a sine wave; (B, 2) -> (B,)."""
    w1 = torch.sin(2 * math.pi * z[:, 0] / 4)
    return 0.5 * ((z[:, 1] - w1) / 0.4) ** 2


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the planar flows (handout values in ``FULL``)."""

    num_layers: tuple[int, ...] = (2, 8, 32)  # k, one flow per value
    lr: float = 5e-4  # RMSprop
    batch_size: int = 128
    iterations: int = 20_000
    num_samples: int = 5000  # size of the 2-D sample sets arcs and sine
    seed: int = 0


FULL = TrainConfig()
QUICK = TrainConfig(num_layers=(2, 8), iterations=2000)
