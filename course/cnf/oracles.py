"""Closed forms for the cnf checks: brute-force Jacobian traces, and linear flows solved exactly.

A linear field f(t, x) = A x + t b becomes autonomous on the augmented state [x, s, 1] with
ds/dt = 1: [x(t); t; 1] = expm(M t) [x(0); 0; 1], M = [[A, b, 0], [0, 0, 1], [0, 0, 0]]. So the
flow from data x at t = 1 to the base at t = 0 is affine, N(0, I) is pushed to a Gaussian, and
every quantity of the CNF is known: z, int_0^1 Tr = tr(A), and int_0^1 |f|^2 dt by Gauss-Legendre
quadrature along the exact path.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.linalg import expm
from scipy.stats import multivariate_normal
from torch.autograd.functional import jacobian

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(40)  # exact for this analytic integrand to ~1e-15


def brute_force_trace(f: Any, t: Any, x: np.ndarray) -> np.ndarray:
    """sum_i d f_i / d x_i of each sample on its own: the full D x D Jacobian by autograd, in float64."""
    def one(row: torch.Tensor) -> torch.Tensor:
        return f(torch.as_tensor(t, dtype=torch.float64), row[None])[0]

    rows = torch.as_tensor(np.asarray(x, dtype=np.float64))
    return np.array([float(torch.trace(jacobian(one, row))) for row in rows])


def augmented(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = A.shape[0]
    M = np.zeros((d + 2, d + 2))
    M[:d, :d], M[:d, d], M[d, d + 1] = A, b, 1.0
    return M


def _path(A: np.ndarray, b: np.ndarray, x: np.ndarray, t: float) -> np.ndarray:
    """x(t) of every sample whose path ends at x(1) = x; (B, d)."""
    state = np.concatenate([x, np.ones((x.shape[0], 2))], 1)
    return (state @ expm(augmented(A, b) * (t - 1)).T)[:, : A.shape[0]]


def base_point(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """z = x(0)."""
    return _path(A, b, np.asarray(x, dtype=np.float64), 0.0)


def kinetic(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """int_0^1 |A x(t) + t b|^2 dt per sample, by Gauss-Legendre quadrature of the exact path."""
    x = np.asarray(x, dtype=np.float64)
    total = np.zeros(x.shape[0])
    for node, weight in zip(_NODES, _WEIGHTS):
        t = (node + 1) / 2
        speed = _path(A, b, x, t) @ A.T + t * b
        total += weight / 2 * (speed**2).sum(1)
    return total


def negative_log_density(A: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """-log p(x) where x = x(1) of a path with x(0) ~ N(0, I): x ~ N(m, E E^T), [E m] read off expm(M)."""
    d = A.shape[0]
    forward = expm(augmented(A, b))
    E, m = forward[:d, :d], forward[:d, d + 1]
    return -multivariate_normal(mean=m, cov=E @ E.T).logpdf(np.asarray(x, dtype=np.float64)).reshape(-1)


def field_of(flow: Any) -> tuple[np.ndarray, np.ndarray]:
    """(A, b) of a grader-owned Gaussian flow, as float64 arrays."""
    return flow.func.A.detach().double().numpy(), flow.func.b.detach().double().numpy()
