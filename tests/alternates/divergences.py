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
    Z = np.vstack([X, Y])
    k = np.exp(-cdist(Z, Z, "sqeuclidean") / 2.0) if kernel_fn is None else kernel_fn(Z, Z)
    w = np.concatenate([np.full(len(X), 1.0 / len(X)), np.full(len(Y), -1.0 / len(Y))])
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


# -- more styles: expanded norms, loops, torch round trips, own defaults, NumPy scalars -----------


@alternate("divergences.kernel", "expanded_square_norm")
def _(A, B, sigma=1.0):
    A, B = _rows(A), _rows(B)
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-np.maximum(sq, 0.0) / (2 * sigma**2))  # rounding can make sq slightly negative


@alternate("divergences.kernel", "double_loop")
def _(A, B, sigma=1.0):
    A, B = _rows(A), _rows(B)
    K = np.zeros((len(A), len(B)))
    for i, a in enumerate(A):
        for j, b in enumerate(B):
            K[i, j] = np.exp(-np.linalg.norm(a - b) ** 2 / (2 * sigma**2))
    return K


@alternate("divergences.kernel", "torch_cdist_roundtrip")
def _(A, B, sigma=1.0):
    import torch

    a, b = (torch.from_numpy(_rows(M)) for M in (A, B))
    return torch.exp(-torch.cdist(a, b) ** 2 / (2 * sigma**2)).numpy()


def my_rbf(A, B, sigma=1.0):
    """The student's own Gaussian kernel, used as ``mmd``'s default."""
    A, B = _rows(A), _rows(B)
    return np.exp(-((A[:, None, :] - B[None, :, :]) ** 2).sum(-1) / (2 * sigma**2))


@alternate("divergences.mmd", "own_rbf_default")
def _(X, Y, kernel_fn=my_rbf):
    X, Y = _rows(X), _rows(Y)
    return float(np.mean(kernel_fn(X, X)) + np.mean(kernel_fn(Y, Y)) - 2 * np.mean(kernel_fn(X, Y)))


@alternate("divergences.mmd", "sums_numpy_float64")
def _(X, Y, kernel_fn=my_rbf):
    X, Y = _rows(X), _rows(Y)
    n, m = len(X), len(Y)
    return kernel_fn(X, X).sum() / n**2 + kernel_fn(Y, Y).sum() / m**2 - 2 * kernel_fn(X, Y).sum() / (n * m)


@alternate("divergences.mmd", "zero_d_array")
def _(X, Y, kernel_fn=my_rbf):
    X, Y = _rows(X), _rows(Y)
    terms = [kernel_fn(X, X).mean(), kernel_fn(Y, Y).mean(), kernel_fn(X, Y).mean()]
    return np.asarray(np.dot([1.0, 1.0, -2.0], terms))


@alternate("divergences.kl_divergence", "histogram_range_entropy")
def _(X, Y, bins=50):
    from scipy.stats import entropy

    x, y = np.ravel(X), np.ravel(Y)
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    p, _ = np.histogram(x, bins=bins, range=(lo, hi))
    q, _ = np.histogram(y, bins=bins, range=(lo, hi))
    return float(entropy(p + 1e-10, q + 1e-10))


@alternate("divergences.kl_divergence", "rel_entr_default_30_bins")
def _(X, Y, bins=30):
    from scipy.special import rel_entr

    edges = np.histogram_bin_edges(np.concatenate([np.ravel(X), np.ravel(Y)]), bins=bins)
    p = np.histogram(np.ravel(X), edges)[0] + 1e-10
    q = np.histogram(np.ravel(Y), edges)[0] + 1e-10
    return float(rel_entr(p / p.sum(), q / q.sum()).sum())


@alternate("divergences.kl_divergence", "entropy_numpy_float64")
def _(X, Y, bins=50):
    from scipy.stats import entropy

    both = np.concatenate([np.ravel(X), np.ravel(Y)])
    edges = np.histogram_bin_edges(both, bins)
    counts = [np.histogram(np.ravel(S), edges)[0] + 1e-10 for S in (X, Y)]
    return entropy(*counts)  # numpy.float64


@alternate("divergences.earth_movers_distance", "pot_empty_weights")
def _(X, Y):
    # POT takes empty weight lists as uniform
    return float(ot.emd2([], [], ot.dist(_rows(X), _rows(Y), metric="euclidean")))


@alternate("divergences.earth_movers_distance", "sqrt_sqeuclidean_unif")
def _(X, Y):
    X, Y = _rows(X), _rows(Y)
    cost = np.sqrt(ot.dist(X, Y))  # ot.dist defaults to the squared Euclidean distance
    return float(ot.emd2(ot.unif(len(X)), ot.unif(len(Y)), cost, numItermax=1_000_000))


@alternate("divergences.earth_movers_distance", "torch_backend_item")
def _(X, Y):
    import torch

    x, y = torch.from_numpy(_rows(X)), torch.from_numpy(_rows(Y))
    a = torch.full((len(x),), 1.0 / len(x), dtype=torch.float64)
    b = torch.full((len(y),), 1.0 / len(y), dtype=torch.float64)
    return ot.emd2(a, b, torch.cdist(x, y)).item()
