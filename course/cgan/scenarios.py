"""One training step of each player of a conditional GAN, run next to the implementation."""
from __future__ import annotations

from typing import Any

import torch

from grader.scenarios import SGD, Resolve, parameters_of


class _Discriminator(torch.nn.Module):
    """sigmoid([x | one_hot(labels)] W^T + b) -> (B, 1); without classes it takes x only."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, num_classes: int):
        super().__init__()
        self.weight, self.bias = torch.nn.Parameter(weight.clone()), torch.nn.Parameter(bias.clone())
        self.num_classes = num_classes
        if not num_classes:
            self.forward = self._plain  # an unconditional discriminator accepts no labels

    def _plain(self, x: torch.Tensor, labels: None = None) -> torch.Tensor:  # labels=None as the handout's
        return torch.sigmoid(x.reshape(x.shape[0], -1) @ self.weight.T + self.bias)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(labels.long(), self.num_classes).to(x.dtype)
        return torch.sigmoid(torch.cat([x.reshape(x.shape[0], -1), onehot], 1) @ self.weight.T + self.bias)


def cgan_train(
    resolve: Resolve, target: str, discriminator: dict[str, torch.Tensor], generator: torch.Tensor,
    z: torch.Tensor, real: torch.Tensor, labels: torch.Tensor | None, num_classes: int, lr: float, stale: float,
) -> dict[str, Any]:
    """One ``train_discriminator`` or ``train_generator`` call; fakes are tanh(z G) with G trainable."""
    disc = _Discriminator(discriminator["weight"], discriminator["bias"], num_classes)
    gen = torch.nn.Parameter(generator.clone())
    fake = torch.tanh(z @ gen)  # carries the generator's graph
    trained = list(disc.parameters()) if target.endswith("discriminator") else [gen]
    for t in trained:
        t.grad = torch.full_like(t, stale)  # left over from an earlier step: must be zeroed
    optimizer = SGD(trained, lr)
    args = (disc, optimizer, real, fake) if target.endswith("discriminator") else (disc, optimizer, fake)
    loss = resolve(target)(*args, labels)  # None when unconditional, as the handout passes it
    return {"loss": loss.detach() if type(loss) is torch.Tensor else loss,
            "discriminator": parameters_of(disc), "generator": gen.detach(),
            "generator_grad": None if gen.grad is None else gen.grad.detach()}
