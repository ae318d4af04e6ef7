"""Correct flows.py functions in other styles: einsum, the matrix determinant lemma, distributions."""
from __future__ import annotations

import torch
from torch.distributions import Normal

from tests.alternates import alternate


@alternate("flows.planar_transformation", "einsum")
def _(z, u, w, b):
    h = torch.tanh(torch.einsum("bd,d->b", z, w[0]) + b)  # (B,)
    return z + h[:, None] * u


@alternate("flows.get_logdet", "determinant_lemma")
def _(z, u, w, b, eps=1e-8):
    a = torch.einsum("bd,d->b", z, w[0]) + b
    h_prime = 1 / torch.cosh(a) ** 2  # sech^2 = 1 - tanh^2
    return torch.log((1 + h_prime * (w @ u.T)[0]).abs() + eps).unsqueeze(1)


@alternate("flows.loss1", "normal_log_prob")
def _(z0, logdet):
    return -(Normal(0.0, 1.0).log_prob(z0).sum(dim=1, keepdim=True) + logdet)


@alternate("flows.loss2", "normal_log_prob")
def _(target_density, z0, logdet):
    return Normal(0.0, 1.0).log_prob(z0).sum(dim=1, keepdim=True) - logdet + target_density.unsqueeze(-1)
