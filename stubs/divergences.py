# Generated from course/solutions/divergences.py by `grader stubs`; do not edit by hand.
"""Comparing two sets of samples: MMD, a histogram KL and the earth mover's distance.

Handout: the classification/VAE/GAN/divergence problem set ("which measure tells real digits
from generated ones, and at what cost?").

Conventions for every function here:
- inputs are NumPy arrays of samples, one row per sample: X (n, d) and Y (m, d);
- 1-D inputs (n,) are treated as (n, 1);
- results are NumPy arrays or Python floats.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import ot
from scipy.stats import entropy

__all__ = ["kernel", "mmd", "kl_divergence", "earth_movers_distance"]


def _rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(-1, 1) if a.ndim == 1 else a.reshape(a.shape[0], -1)


def kernel(A: np.ndarray, B: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Gaussian (RBF) Gram matrix between two sets of points.

    K_ij = exp( -||A_i - B_j||^2 / (2 sigma^2) )

    Parameters
    ----------
    A : np.ndarray
        First set of points.
    B : np.ndarray
        Second set of points.
    sigma : float, default 1.0
        Bandwidth.

    Returns
    -------
    np.ndarray
        The Gram matrix, entries in (0, 1].

    Shapes
    ------
    A : (n, d); B : (m, d); 1-D inputs are (n, 1)
    returns : (n, m)
    """
    raise NotImplementedError("kernel: replace this line with your implementation")


def mmd(X: np.ndarray, Y: np.ndarray, kernel_fn: Callable = kernel) -> float:
    """Biased estimate of the squared maximum mean discrepancy between two sample sets.

    MMD^2 = mean_ij k(X_i, X_j) + mean_ij k(Y_i, Y_j) - 2 mean_ij k(X_i, Y_j)

    where every mean includes the diagonal (the biased V-statistic, always >= 0); no square
    root is taken.

    Parameters
    ----------
    X : np.ndarray
        Samples from P.
    Y : np.ndarray
        Samples from Q.
    kernel_fn : callable, default :func:`kernel`
        ``kernel_fn(A, B)`` returning the (n, m) Gram matrix.

    Returns
    -------
    float
        The estimate.

    Shapes
    ------
    X : (n, d); Y : (m, d); 1-D inputs are (n, 1)
    returns : a Python float
    """
    raise NotImplementedError("mmd: replace this line with your implementation")


def kl_divergence(X: np.ndarray, Y: np.ndarray, bins: int = 50) -> float:
    """KL(P || Q) between two sample sets through a shared histogram.

    KL = sum_i p_i log(p_i / q_i)

    where p and q are the normalised counts of the flattened values of X and of Y in ``bins``
    equal-width bins spanning the values of both sets, each count raised by 1e-10 so that empty
    bins stay finite; computed with ``scipy.stats.entropy(p, q)``.

    Parameters
    ----------
    X : np.ndarray
        Samples from P.
    Y : np.ndarray
        Samples from Q.
    bins : int, default 50
        Number of histogram bins.

    Returns
    -------
    float
        The divergence, >= 0 (natural log).

    Shapes
    ------
    X, Y : any shape; all values are pooled
    returns : a Python float
    """
    raise NotImplementedError("kl_divergence: replace this line with your implementation")


def earth_movers_distance(X: np.ndarray, Y: np.ndarray) -> float:
    """Exact optimal-transport cost between two empirical distributions.

    EMD = min_{T in U(a, b)} sum_ij T_ij ||X_i - Y_j||

    where a = 1/n and b = 1/m are uniform weights and U(a, b) is the set of transport plans
    with those marginals; the ground cost is the Euclidean distance (not squared). Solved
    exactly with POT (``ot.emd2``).

    Parameters
    ----------
    X : np.ndarray
        Samples from P.
    Y : np.ndarray
        Samples from Q.

    Returns
    -------
    float
        The cost.

    Shapes
    ------
    X : (n, d); Y : (m, d); 1-D inputs are (n, 1)
    returns : a Python float
    """
    raise NotImplementedError("earth_movers_distance: replace this line with your implementation")
