# Generated from course/solutions/autoencoder.py by `grader stubs`; do not edit by hand.
"""A deep autoencoder with a 2-D code, a corruption process for denoising, and interpolation.

Handouts: CPSC 453 PS3 section 3 (the 784-1000-500-250-2 autoencoder of Hinton & Salakhutdinov,
2006) and CPSC 663 (2021) Exercise III P3 (a denoising autoencoder, walks in code space).

Conventions for every function here:
- images are flattened to (B, 784), pixel values in [0, 1]; the code has L = 2 dimensions;
- the dtype and device of the inputs are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

__all__ = [
    "Autoencoder",
    "corrupt",
    "interpolate",
    "TrainConfig",
    "FULL",
]


class Autoencoder(nn.Module):
    """784-1000-500-250-2 encoder and its mirror image as decoder.

    encode(x) = A4(tanh(A3(tanh(A2(tanh(A1(x)))))))   (linear into the code)
    decode(z) = out(A8(tanh(A7(tanh(A6(tanh(A5(z))))))))

    where each A is an affine layer with a bias and ``out`` is the sigmoid or the identity.

    Parameters
    ----------
    out_activation : str or None, default "sigmoid"
        "sigmoid" for outputs in (0, 1), "linear" or None for the identity.

    Raises
    ------
    ValueError
        For any other ``out_activation``.

    Shapes
    ------
    encode : x (B, 784) or (B, 1, 28, 28) -> (B, 2)
    decode : z (B, 2) -> (B, 784)
    forward : x -> decode(encode(x)), (B, 784)
    """

    def __init__(self, out_activation: Optional[str] = "sigmoid"):
        super().__init__()
        raise NotImplementedError("__init__: replace this line with your implementation")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("encode: replace this line with your implementation")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("decode: replace this line with your implementation")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: replace this line with your implementation")


def corrupt(x: torch.Tensor, noise_std: float = 0.5, drop_prob: float = 0.0) -> torch.Tensor:
    """Draw a corrupted copy x~ ~ C(x~ | x): Gaussian noise, then masking, within the pixel range.

    x~ = m * clip(x + noise_std * eps, 0, 1),  eps ~ N(0, I),  m ~ Bernoulli(1 - drop_prob)

    with eps and m independent for every element and drawn anew at every call. Masked
    elements are 0; survivors are not rescaled. ``x`` itself is never modified.

    Parameters
    ----------
    x : torch.Tensor
        Clean inputs in [0, 1].
    noise_std : float, default 0.5
        Standard deviation of the additive noise.
    drop_prob : float, default 0.0
        Probability that an element is masked (set to 0).

    Returns
    -------
    torch.Tensor
        Like ``x``, values in [0, 1].

    Shapes
    ------
    x : any shape, e.g. (B, 784) or (B, 1, 28, 28)
    returns : like ``x``
    """
    raise NotImplementedError("corrupt: replace this line with your implementation")


def interpolate(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor, steps: int) -> torch.Tensor:
    """Decoded images along the straight line between the codes of two images.

    out[k] = model.decode((1 - t_k) z1 + t_k z2),  t = linspace(0, 1, steps),  z_i = model.encode(x_i)

    so the first row is the reconstruction of x1 and the last that of x2.

    Parameters
    ----------
    model : nn.Module
        Any object with ``encode`` and ``decode`` as :class:`Autoencoder` has.
    x1, x2 : torch.Tensor
        Two single images.
    steps : int
        Number of points on the line, both ends included.

    Returns
    -------
    torch.Tensor
        One decoded image per point.

    Shapes
    ------
    x1, x2 : (784,), (1, 784), (28, 28) or (1, 28, 28)
    returns : (steps, 784)
    """
    raise NotImplementedError("interpolate: replace this line with your implementation")


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): training settings of the MNIST autoencoder.


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the 2-D MNIST autoencoder (the handout's where it gives them)."""

    steps: int = 5000  # Adam steps, the handout's
    batch_size: int = 128  # the handout's
    lr: float = 1e-3  # ours: Adam's default
    out_activation: str = "sigmoid"
    noise_std: float = 0.0  # > 0 trains a denoising autoencoder on corrupt(x, noise_std, drop_prob)
    drop_prob: float = 0.0
    seed: int = 0


FULL = TrainConfig()
