"""Correct flows.py functions in other styles: einsum, the matrix determinant lemma, distributions."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import MultivariateNormal, Normal

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


# -- more styles: row sums, F.linear, autograd for tanh', full Jacobians, MVN, float32 constants --


@alternate("flows.planar_transformation", "rowwise_sum_keepdim")
def _(z, u, w, b):
    return z + u * torch.tanh((z * w).sum(-1, keepdim=True) + b)


@alternate("flows.planar_transformation", "f_linear")
def _(z, u, w, b):
    return z + torch.tanh(F.linear(z, w, b)) * u  # F.linear(z, w, b) = z w^T + b, (B, 1)


@alternate("flows.planar_transformation", "matmul_unsqueeze")
def _(z, u, w, b):
    h = torch.tanh(torch.matmul(z, w.squeeze(0)) + b)  # (B,)
    return z + h.unsqueeze(1) * u


@alternate("flows.get_logdet", "rowwise_sum_keepdim")
def _(z, u, w, b, eps=1e-8):
    h = torch.tanh((z * w).sum(-1, keepdim=True) + b)
    psi = (1 - h ** 2) * w
    return torch.log(torch.abs(1 + (psi * u).sum(-1, keepdim=True)) + eps)


@alternate("flows.get_logdet", "autograd_derivative")
def _(z, u, w, b, eps=1e-8):
    with torch.enable_grad():  # the derivative of tanh by autograd, kept differentiable
        a = z @ w.T + b
        if not a.requires_grad:
            a = a.detach().requires_grad_()
        (h_prime,) = torch.autograd.grad(torch.tanh(a).sum(), a, create_graph=True)
    psi = h_prime * w
    return torch.log((1 + psi @ u.T).abs() + eps)


@alternate("flows.get_logdet", "full_jacobian_det")
def _(z, u, w, b, eps=1e-8):
    d = z.shape[1]
    psi = (1 - torch.tanh(z @ w.T + b) ** 2) * w  # (B, d)
    jac = torch.eye(d, dtype=z.dtype, device=z.device) + u.T.unsqueeze(0) * psi.unsqueeze(1)  # I + u psi^T
    return torch.log(torch.linalg.det(jac).abs() + eps).unsqueeze(1)


@alternate("flows.loss1", "multivariate_normal")
def _(z0, logdet):
    d = z0.shape[1]
    base = MultivariateNormal(torch.zeros(d, dtype=z0.dtype, device=z0.device),
                              torch.eye(d, dtype=z0.dtype, device=z0.device))
    return -(base.log_prob(z0).unsqueeze(1) + logdet)


@alternate("flows.loss1", "float32_constant_tensor")
def _(z0, logdet):
    d = z0.shape[1]
    log_pz = -0.5 * (z0 ** 2).sum(1, keepdim=True) - d / 2 * torch.log(torch.tensor(2 * math.pi))
    return -(log_pz + logdet)


@alternate("flows.loss1", "numpy_constant_unsqueeze")
def _(z0, logdet):
    log_pz = -0.5 * torch.sum(z0 ** 2, dim=1) - 0.5 * z0.shape[1] * np.log(2 * np.pi)
    return -(log_pz.unsqueeze(1) + logdet)


@alternate("flows.loss2", "explicit_view")
def _(target_density, z0, logdet):
    log_q0 = -0.5 * z0.pow(2).sum(-1) - 0.5 * z0.shape[-1] * math.log(2 * math.pi)  # (B,)
    return (log_q0 - logdet.squeeze(1) + target_density).view(-1, 1)


@alternate("flows.loss2", "normal_like_z0")
def _(target_density, z0, logdet):
    base = Normal(torch.zeros_like(z0), torch.ones_like(z0))
    return base.log_prob(z0).sum(dim=-1, keepdim=True) - logdet + target_density[:, None]


@alternate("flows.loss2", "float32_pi_tensor")
def _(target_density, z0, logdet):
    pi = torch.tensor(math.pi)
    log_q0 = -0.5 * torch.sum(z0 * z0, dim=1, keepdim=True) - 0.5 * z0.shape[1] * torch.log(2 * pi)
    return log_q0 - logdet + target_density.reshape(-1, 1)
