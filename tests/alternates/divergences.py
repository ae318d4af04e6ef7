"""Correct divergences.py functions in other styles: scipy distances, explicit plans."""
from __future__ import annotations

import numpy as np
import ot
from scipy.spatial.distance import cdist

from tests.alternates import alternate


def _rows(a):
    a = np.asarray(a, dtype=float)
    return a[:, None] if a.ndim == 1 else a


@alternate("divergences.kernel", "cdist")
def _(A, B, sigma=1.0):
    return np.exp(-cdist(_rows(A), _rows(B), "sqeuclidean") / (2.0 * sigma * sigma))


@alternate("divergences.mmd", "joint_gram")
def _(X, Y, kernel_fn=None):
    X, Y = _rows(X), _rows(Y)
    n = len(X)
    k = np.exp(-cdist(np.vstack([X, Y]), np.vstack([X, Y]), "sqeuclidean") / 2.0)
    w = np.concatenate([np.full(n, 1.0 / n), np.full(len(Y), -1.0 / len(Y))])
    return float(w @ k @ w)


@alternate("divergences.kl_divergence", "manual_sum")
def _(X, Y, bins=50):
    values = np.concatenate([np.ravel(X), np.ravel(Y)])
    edges = np.linspace(values.min(), values.max(), bins + 1) if np.ptp(values) > 0 else bins
    p = np.histogram(np.ravel(X), edges)[0] + 1e-10
    q = np.histogram(np.ravel(Y), edges)[0] + 1e-10
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


@alternate("divergences.earth_movers_distance", "explicit_plan")
def _(X, Y):
    X, Y = _rows(X), _rows(Y)
    cost = cdist(X, Y)
    plan = ot.emd(np.ones(len(X)) / len(X), np.ones(len(Y)) / len(Y), cost)
    return float((plan * cost).sum())
