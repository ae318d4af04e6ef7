# Generated from course/solutions/cgan.py by `grader stubs`; do not edit by hand.
"""BCE GANs, conditional GANs and imputation of a digit's centre.

Handout: the RNN/VAE/conditional-GAN homework (an MLP GAN on MNIST, the same GAN conditioned
on the digit's label, then a GAN that fills in a digit from its centre patch).

Conventions for every function here:
- the discriminator outputs probabilities D(x) in (0, 1), one per example, (B, 1) or (B,);
- B is the batch size, C the number of classes, images are 28x28, (B, 1, 28, 28);
- losses are 0-d tensors averaged over the batch; the dtype and device of the inputs are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "discriminator_loss",
    "generator_loss",
    "train_discriminator",
    "train_generator",
    "one_hot",
    "conditional_input",
    "center_patch",
    "imputation_generator_loss",
    "Generator",
    "Discriminator",
    "TrainConfig",
    "FULL",
]

IMAGE_SIDE = 28


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the discriminator: real labelled 1, fake labelled 0.

    L_D = -0.5 mean_i log D(x_i) - 0.5 mean_j log(1 - D(G(z_j)))

    Parameters
    ----------
    d_real : torch.Tensor
        D's probabilities on real examples.
    d_fake : torch.Tensor
        D's probabilities on generated examples.

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Shapes
    ------
    d_real : (B, 1) or (B,); d_fake : (M, 1) or (M,)
    returns : ()
    """
    raise NotImplementedError("discriminator_loss: replace this line with your implementation")


def generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss.

    L_G = -0.5 mean_j log D(G(z_j))

    (not the saturating 0.5 mean log(1 - D(G(z))), whose gradient vanishes when D wins).

    Parameters
    ----------
    d_fake : torch.Tensor
        D's probabilities on generated examples.

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Shapes
    ------
    d_fake : (B, 1) or (B,)
    returns : ()
    """
    raise NotImplementedError("generator_loss: replace this line with your implementation")


def _discriminate(discriminator: nn.Module, x: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
    return discriminator(x) if labels is None else discriminator(x, labels)


def train_discriminator(
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real_data: torch.Tensor,
    fake_data: torch.Tensor,
    labels: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """One optimizer step of the discriminator on :func:`discriminator_loss`.

    Zero the gradients, compute the loss on ``real_data`` and on ``fake_data`` detached (no
    gradient reaches the generator), backpropagate, step. With ``labels``, the discriminator is
    called as ``discriminator(x, labels)`` for real and fake data alike; without, as
    ``discriminator(x)``.

    Parameters
    ----------
    discriminator : nn.Module
        Returns probabilities.
    optimizer : torch.optim.Optimizer
        Over the discriminator's parameters.
    real_data, fake_data : torch.Tensor
        A batch of real and of generated examples (the latter may carry the generator's graph).
    labels : torch.Tensor or None, default None
        Class labels shared by both batches, for a conditional discriminator.

    Returns
    -------
    torch.Tensor
        The 0-d loss computed before the step.

    Shapes
    ------
    real_data, fake_data : (B, ...); labels : (B,) integers
    returns : ()
    """
    raise NotImplementedError("train_discriminator: replace this line with your implementation")


def train_generator(
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    fake_data: torch.Tensor,
    labels: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """One step of the generator's optimizer on :func:`generator_loss`.

    Zero the gradients, compute the loss of the discriminator's verdict on ``fake_data`` (which
    carries the generator's graph), backpropagate, step ``optimizer``. With ``labels`` the
    discriminator is called as ``discriminator(x, labels)``.

    Parameters
    ----------
    discriminator : nn.Module
        Returns probabilities; it is not updated here.
    optimizer : torch.optim.Optimizer
        Over the generator's parameters.
    fake_data : torch.Tensor
        Generated examples, not detached.
    labels : torch.Tensor or None, default None
        The labels the examples were generated for.

    Returns
    -------
    torch.Tensor
        The 0-d loss computed before the step.

    Shapes
    ------
    fake_data : (B, ...); labels : (B,) integers
    returns : ()
    """
    raise NotImplementedError("train_generator: replace this line with your implementation")


def one_hot(labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """One-hot encoding of integer labels, as float32.

    out[b, c] = 1 if labels[b] == c else 0

    Parameters
    ----------
    labels : torch.Tensor
        Integer class labels in [0, num_classes).
    num_classes : int, default 10
        C.

    Returns
    -------
    torch.Tensor
        float32, on the labels' device.

    Shapes
    ------
    labels : (B,)
    returns : (B, C)
    """
    raise NotImplementedError("one_hot: replace this line with your implementation")


def conditional_input(z: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """A conditional generator's input: noise followed by the one-hot label.

    out = [ z | one_hot(labels) ]

    Parameters
    ----------
    z : torch.Tensor
        Noise.
    labels : torch.Tensor
        Integer class labels.
    num_classes : int, default 10
        C.

    Returns
    -------
    torch.Tensor
        In ``z``'s dtype.

    Shapes
    ------
    z : (B, d); labels : (B,)
    returns : (B, d + C)
    """
    raise NotImplementedError("conditional_input: replace this line with your implementation")


def center_patch(images: torch.Tensor, size: int = 10) -> torch.Tensor:
    """The centred size x size patch of 28 x 28 images, flattened row by row.

    out[b] = images[b, rows s .. s + size - 1, cols s .. s + size - 1],  s = (28 - size) / 2

    so rows and columns 9..18 for size 10.

    Parameters
    ----------
    images : torch.Tensor
        28 x 28 images.
    size : int, default 10
        Side of the patch, even.

    Returns
    -------
    torch.Tensor
        The patches.

    Shapes
    ------
    images : (B, 1, 28, 28)
    returns : (B, size * size)
    """
    raise NotImplementedError("center_patch: replace this line with your implementation")


def imputation_generator_loss(
    d_fake: torch.Tensor, fake_images: torch.Tensor, condition: torch.Tensor, lam: float
) -> torch.Tensor:
    """Generator loss of the imputation GAN: fool D and reproduce the given centre.

    L = generator_loss(d_fake) + lam * mean (center_patch(fake_images) - condition)^2

    where the mean runs over all B * 100 elements and the patch has the default size 10.

    Parameters
    ----------
    d_fake : torch.Tensor
        D's probabilities on the generated images.
    fake_images : torch.Tensor
        Generated images.
    condition : torch.Tensor
        The centre patches the images were generated from.
    lam : float
        Weight of the reconstruction term.

    Returns
    -------
    torch.Tensor
        A 0-d tensor.

    Shapes
    ------
    d_fake : (B, 1); fake_images : (B, 1, 28, 28); condition : (B, 100)
    returns : ()
    """
    raise NotImplementedError("imputation_generator_loss: replace this line with your implementation")


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): the handouts' MLP generator and discriminator.


class Generator(nn.Module):
    """MLP generator: (noise | one-hot label) -> 200 -> 400 -> 784, tanh output in [-1, 1].

    Unconditional with ``num_classes=0`` (then ``labels`` is not given).

    Shapes
    ------
    forward : z (B, noise_dim), labels (B,) -> (B, 784)
    """

    def __init__(self, noise_dim: int = 100, num_classes: int = 10, hidden: tuple[int, ...] = (200, 400)):
        super().__init__()
        self.num_classes = num_classes
        sizes = (noise_dim + num_classes, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], IMAGE_SIDE * IMAGE_SIDE), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.num_classes:
            z = torch.cat([z, F.one_hot(labels.long(), self.num_classes).to(z.dtype)], dim=1)
        return self.net(z)


class Discriminator(nn.Module):
    """MLP discriminator: (image | one-hot label) -> 400 -> 200 -> 100 -> 1, sigmoid output.

    Unconditional with ``num_classes=0``; dropout 0.3 between layers.

    Shapes
    ------
    forward : x (B, 784) or (B, 1, 28, 28), labels (B,) -> (B, 1) probabilities
    """

    def __init__(self, num_classes: int = 10, hidden: tuple[int, ...] = (400, 200, 100)):
        super().__init__()
        self.num_classes = num_classes
        sizes = (IMAGE_SIDE * IMAGE_SIDE + num_classes, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2), nn.Dropout(0.3)]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        if self.num_classes:
            x = torch.cat([x, F.one_hot(labels.long(), self.num_classes).to(x.dtype)], dim=1)
        return self.net(x)


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the MNIST GANs (ours where the handouts were silent)."""

    noise_dim: int = 100  # d; the conditional generator's input is d + 10 = 110
    lr: float = 2e-4  # Adam, generator and discriminator alike
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 100
    epochs: int = 50
    imputation_lam: float = 10.0  # lam of imputation_generator_loss
    seed: int = 0


FULL = TrainConfig()
