# Bob's divergences.py: a syntax error on line 9 keeps the whole module from importing.
import numpy as np
import ot
from scipy.stats import entropy


def kernel(A, B, sigma=1.0):
    A, B = np.atleast_2d(A), np.atleast_2d(B)
    return np.exp(-((A[:, None] - B[None]) ** 2).sum(-1) / (2 * sigma ** 2)


def mmd(X, Y, kernel_fn=kernel):
    return float(kernel_fn(X, X).mean() + kernel_fn(Y, Y).mean() - 2 * kernel_fn(X, Y).mean())


def kl_divergence(X, Y, bins=50):
    edges = np.histogram_bin_edges(np.concatenate([np.ravel(X), np.ravel(Y)]), bins)
    return float(entropy(np.histogram(X, edges)[0] + 1e-10, np.histogram(Y, edges)[0] + 1e-10))


def earth_movers_distance(X, Y):
    return float(ot.emd2([], [], ot.dist(X, Y, metric="euclidean")))
