"""Wrong versions of the divergences.py graded functions."""
from __future__ import annotations

import numpy as np
import ot
from scipy.stats import entropy

from course.solutions.divergences import kernel
from tests.mutants import mutant

K = "divergences.kernel"
M = "divergences.mmd"
KL = "divergences.kl_divergence"
E = "divergences.earth_movers_distance"


def _rows(a):
    a = np.asarray(a, dtype=float)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def _sq(A, B):
    A, B = _rows(A), _rows(B)
    return ((A[:, None] - B[None]) ** 2).sum(-1)


@mutant(K, "missing_factor_two")
def _(A, B, sigma=1.0):
    return np.exp(-_sq(A, B) / sigma**2)


@mutant(K, "distance_not_squared")
def _(A, B, sigma=1.0):
    return np.exp(-np.sqrt(_sq(A, B)) / (2 * sigma**2))


@mutant(K, "sigma_not_squared")
def _(A, B, sigma=1.0):
    return np.exp(-_sq(A, B) / (2 * sigma))


@mutant(K, "transposed")
def _(A, B, sigma=1.0):
    return np.exp(-_sq(B, A) / (2 * sigma**2))


@mutant(K, "ignores_sigma")
def _(A, B, sigma=1.0):
    return np.exp(-_sq(A, B) / 2)


@mutant(M, "unbiased_estimator")
def _(X, Y, kernel_fn=kernel):
    kxx, kyy = kernel_fn(X, X), kernel_fn(Y, Y)
    n, m = len(kxx), len(kyy)
    off = lambda k, size: (k.sum() - np.trace(k)) / max(size * (size - 1), 1)  # noqa: E731
    return float(off(kxx, n) + off(kyy, m) - 2 * kernel_fn(X, Y).mean())


@mutant(M, "missing_factor_two")
def _(X, Y, kernel_fn=kernel):
    return float(kernel_fn(X, X).mean() + kernel_fn(Y, Y).mean() - kernel_fn(X, Y).mean())


@mutant(M, "square_root_taken")
def _(X, Y, kernel_fn=kernel):
    return float(np.sqrt(max(kernel_fn(X, X).mean() + kernel_fn(Y, Y).mean() - 2 * kernel_fn(X, Y).mean(), 0)))


@mutant(M, "cross_term_plus")
def _(X, Y, kernel_fn=kernel):
    return float(kernel_fn(X, X).mean() + kernel_fn(Y, Y).mean() + 2 * kernel_fn(X, Y).mean())


def _hist(X, Y, bins, *, shared=True, smooth=1e-10):
    x, y = np.ravel(X), np.ravel(Y)
    if shared:
        edges = np.histogram_bin_edges(np.concatenate([x, y]), bins=bins)
        return np.histogram(x, edges)[0] + smooth, np.histogram(y, edges)[0] + smooth
    return np.histogram(x, bins)[0] + smooth, np.histogram(y, bins)[0] + smooth


@mutant(KL, "arguments_swapped")
def _(X, Y, bins=50):
    p, q = _hist(X, Y, bins)
    return float(entropy(q, p))


@mutant(KL, "separate_bin_edges")
def _(X, Y, bins=50):
    p, q = _hist(X, Y, bins, shared=False)
    return float(entropy(p, q))


@mutant(KL, "log2")
def _(X, Y, bins=50):
    p, q = _hist(X, Y, bins)
    return float(entropy(p, q, base=2))


@mutant(KL, "no_smoothing")
def _(X, Y, bins=50):
    p, q = _hist(X, Y, bins, smooth=0)
    return float(entropy(p, q))


def _uniform(n):
    return np.full(n, 1.0 / n)


@mutant(E, "squared_cost")
def _(X, Y):
    X, Y = _rows(X), _rows(Y)
    return float(ot.emd2(_uniform(len(X)), _uniform(len(Y)), ot.dist(X, Y)))


@mutant(E, "unnormalised_weights")
def _(X, Y):
    X, Y = _rows(X), _rows(Y)
    n = len(X) + len(Y)
    return float(ot.emd2(np.ones(len(X)) * len(Y) / n, np.ones(len(Y)) * len(X) / n, ot.dist(X, Y, metric="euclidean")))


@mutant(E, "mean_cost_matrix")
def _(X, Y):
    return float(ot.dist(_rows(X), _rows(Y), metric="euclidean").mean())


@mutant(E, "sinkhorn_approximation")
def _(X, Y):
    X, Y = _rows(X), _rows(Y)
    return float(ot.sinkhorn2(_uniform(len(X)), _uniform(len(Y)), ot.dist(X, Y, metric="euclidean"), reg=0.1))


@mutant(M, "ignores_kernel_fn")
def _(X, Y, kernel_fn=kernel):
    X, Y = (a.reshape(-1, 1) if a.ndim == 1 else a for a in (X, Y))
    return float(kernel(X, X).mean() + kernel(Y, Y).mean() - 2 * kernel(X, Y).mean())
