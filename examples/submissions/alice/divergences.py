# Alice's divergences.py: right except that ot.dist's default cost is the SQUARED distance.
import numpy as np
import ot
import scipy.stats


def _2d(a):
    a = np.asarray(a, dtype=float)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def kernel(A, B, sigma=1.0):
    A, B = _2d(A), _2d(B)
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return np.exp(-np.maximum(sq, 0) / (2 * sigma**2))


def mmd(X, Y, kernel_fn=kernel):
    return float(kernel_fn(X, X).mean() + kernel_fn(Y, Y).mean() - 2 * kernel_fn(X, Y).mean())


def kl_divergence(X, Y, bins=50):
    both = np.concatenate([np.ravel(X), np.ravel(Y)])
    edges = np.histogram_bin_edges(both, bins=bins)
    p, _ = np.histogram(np.ravel(X), bins=edges)
    q, _ = np.histogram(np.ravel(Y), bins=edges)
    return float(scipy.stats.entropy(p + 1e-10, q + 1e-10))


def earth_movers_distance(X, Y):
    X, Y = _2d(X), _2d(Y)
    a, b = np.ones(len(X)) / len(X), np.ones(len(Y)) / len(Y)
    return float(ot.emd2(a, b, ot.dist(X, Y)))
