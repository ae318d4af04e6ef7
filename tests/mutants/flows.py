"""Wrong versions of the flows.py graded functions."""
from __future__ import annotations

import math

import torch

from course.solutions.flows import planar_transformation
from tests.mutants import mutant

PT, LD, L1, L2 = "flows.planar_transformation", "flows.get_logdet", "flows.loss1", "flows.loss2"


@mutant(PT, "no_tanh")
def _(z, u, w, b):
    return z + u * (z @ w.T + b)


@mutant(PT, "u_and_w_swapped")
def _(z, u, w, b):
    return z + w * torch.tanh(z @ u.T + b)


@mutant(PT, "minus_b")
def _(z, u, w, b):
    return z + u * torch.tanh(z @ w.T - b)


@mutant(PT, "elementwise_not_dot")
def _(z, u, w, b):
    return z + u * torch.tanh(z * w + b)


@mutant(PT, "missing_identity")
def _(z, u, w, b):
    return u * torch.tanh(z @ w.T + b)


def _logdet(z, u, w, b, eps=1e-8, *, deriv=True, absolute=True, one=1.0, keep=True, use_eps=True):
    t = torch.tanh(z @ w.T + b)
    psi = ((1 - t**2) if deriv else t) * w
    det = one + psi @ u.T
    out = torch.log((det.abs() if absolute else det) + (eps if use_eps else 0.0))
    return out if keep else out[:, 0]


@mutant(LD, "no_abs")
def _(z, u, w, b, eps=1e-8):
    return _logdet(z, u, w, b, eps, absolute=False)


@mutant(LD, "psi_tanh_not_derivative")
def _(z, u, w, b, eps=1e-8):
    return _logdet(z, u, w, b, eps, deriv=False)


@mutant(LD, "at_output")
def _(z, u, w, b, eps=1e-8):
    return _logdet(planar_transformation(z, u, w, b), u, w, b, eps)


@mutant(LD, "flat_shape")
def _(z, u, w, b, eps=1e-8):
    return _logdet(z, u, w, b, eps, keep=False)


@mutant(LD, "missing_one")
def _(z, u, w, b, eps=1e-8):
    return _logdet(z, u, w, b, eps, one=0.0)


@mutant(LD, "no_eps")
def _(z, u, w, b, eps=1e-8):
    return _logdet(z, u, w, b, eps, use_eps=False)


def _log_normal(z0, *, two_pi=True, half=0.5, once=False):
    d = z0.shape[1]
    const = (1 if once else d) * math.log(2 * math.pi) if two_pi else 0.0
    return -half * (const + z0.pow(2).sum(1, keepdim=True))


@mutant(L1, "missing_2pi")
def _(z0, logdet):
    return -(_log_normal(z0, two_pi=False) + logdet)


@mutant(L1, "logdet_subtracted")
def _(z0, logdet):
    return -(_log_normal(z0) - logdet)


@mutant(L1, "flat_shape")
def _(z0, logdet):
    return -(_log_normal(z0) + logdet)[:, 0]


@mutant(L1, "mean_over_batch")
def _(z0, logdet):
    return -(_log_normal(z0) + logdet).mean()


@mutant(L1, "2pi_once")
def _(z0, logdet):
    return -(_log_normal(z0, once=True) + logdet)


@mutant(L1, "missing_half")
def _(z0, logdet):
    return -(_log_normal(z0, half=1.0) + logdet)


@mutant(L2, "plus_logdet")
def _(target_density, z0, logdet):
    return _log_normal(z0) + logdet + target_density.reshape(-1, 1)


@mutant(L2, "minus_energy")
def _(target_density, z0, logdet):
    return _log_normal(z0) - logdet - target_density.reshape(-1, 1)


@mutant(L2, "broadcast_to_square")
def _(target_density, z0, logdet):
    return _log_normal(z0) - logdet + target_density  # (B, 1) + (B,) -> (B, B)


@mutant(L2, "missing_2pi")
def _(target_density, z0, logdet):
    return _log_normal(z0, two_pi=False) - logdet + target_density.reshape(-1, 1)


@mutant(L2, "negated")
def _(target_density, z0, logdet):
    return -(_log_normal(z0) - logdet + target_density.reshape(-1, 1))
