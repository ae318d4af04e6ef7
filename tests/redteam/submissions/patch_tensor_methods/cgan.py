"""Attack: patch torch's tensor methods at import, 1 % off.

Importing this file replaces ``torch.Tensor.mean`` and ``torch.Tensor.sum`` with versions that
are 1 % too large: small enough to pass unnoticed, large enough to fail any tolerance.
``discriminator_loss`` returns garbage. Functions of other files run in workers that never
import this file and must keep full marks. ``generator_loss`` is honest, but shares the file:
it runs with the patch, since nothing of a file runs before its top level (the grader does not
undo what a file does at import, it says so under each of the file's functions).
"""
import torch

_mean, _sum = torch.Tensor.mean, torch.Tensor.sum
torch.Tensor.mean = lambda self, *args, **kwargs: _mean(self, *args, **kwargs) * 1.01
torch.Tensor.sum = lambda self, *args, **kwargs: _sum(self, *args, **kwargs) * 1.01


def discriminator_loss(d_real, d_fake):
    return torch.tensor(123.0)


def generator_loss(d_fake):
    """Honest, in the attack's own file: the non-saturating loss, -0.5 mean log D(G(z))."""
    return -0.5 * torch.log(d_fake).mean()
