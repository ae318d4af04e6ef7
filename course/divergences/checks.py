"""Graded checks for ``divergences.py``: brute-force loops, scipy and assignment problems."""
from __future__ import annotations

import bisect
import math

import numpy as np
from hypothesis import strategies as st
from scipy import stats
from scipy.optimize import linear_sum_assignment

from course.strategies import args, array, floats
from grader.check import Check, Claim, Default, Example, Tol
from grader.facets import expect_close
from grader.scenarios import Owned

_POINTS = floats(-4, 4)
_one_d = {"X": np.array([0.0, 1.5, -2.0]), "Y": np.array([0.5, 3.0])}  # 1-D inputs count as (n, 1)


def _points(a: np.ndarray) -> list[list[float]]:
    a = np.asarray(a, dtype=float)
    return (a.reshape(-1, 1) if a.ndim == 1 else a).tolist()


def _gram(A, B, sigma=1.0) -> np.ndarray:
    """Brute force, one pair at a time, in plain Python."""
    return np.array([[math.exp(-sum((p - q) ** 2 for p, q in zip(a, b)) / (2 * sigma**2)) for b in _points(B)]
                     for a in _points(A)]).reshape(len(_points(A)), len(_points(B)))


kernel = Check(
    "divergences.kernel", points=2,
    inputs=args(A=array("n", "d", elements=_POINTS), B=array("m", "d", elements=_POINTS), sigma=floats(0.3, 3)),
    oracle=_gram,
    edges=(Example("one_dimensional_inputs", ({"A": _one_d["X"], "B": _one_d["Y"], "sigma": 0.7},)),),
    defaults=(Default("sigma", 1.0),),
    kills=("missing_factor_two", "distance_not_squared", "sigma_not_squared", "transposed", "ignores_sigma"),
)


_KERNELS = st.sampled_from([Owned("divergences.gaussian_kernel"), Owned("divergences.narrow_gaussian_kernel"), Owned("divergences.laplacian_kernel")])


def _mmd(X, Y, kernel_fn) -> float:
    """The three means of the Gram matrices, one pair at a time."""
    X, Y = _points(X), _points(Y)

    def mean(A, B) -> float:
        return sum(float(np.squeeze(kernel_fn(np.array([a]), np.array([b])))) for a in A for b in B) / (len(A) * len(B))

    return mean(X, X) + mean(Y, Y) - 2 * mean(X, Y)


def _mmd_identical_sets(f) -> None:
    X = np.random.default_rng(0).normal(size=(6, 2))
    expect_close(f.target, f(X=X, Y=X.copy()), 0.0, {"X": X, "Y": X}, tol=Tol(atol=1e-12, rtol=0.0),
                 what="a set is at distance 0 from itself")


mmd = Check(
    "divergences.mmd", points=2,
    inputs=args(X=array("n", "d", elements=_POINTS), Y=array("m", "d", elements=_POINTS), kernel_fn=_KERNELS),
    oracle=_mmd,
    claims=(Claim("zero_between_identical_sets", _mmd_identical_sets, core=False),),
    edges=(Example("one_dimensional_inputs", ({**_one_d, "kernel_fn": Owned("divergences.gaussian_kernel")},)),),
    defaults=(Default("kernel_fn", Owned("divergences.gaussian_kernel")),),
    kills=("unbiased_estimator", "missing_factor_two", "square_root_taken", "cross_term_plus", "ignores_kernel_fn"),
)


def _kl_histogram(X, Y, bins) -> float:
    """Counts by explicit bin search over equal-width edges, smoothed by 1e-10, KL in nats."""
    x, y = np.ravel(X).tolist(), np.ravel(Y).tolist()
    lo, hi = min(x + y), max(x + y)
    if lo == hi:  # numpy's convention for a degenerate range
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1).tolist()
    p, q = np.full(bins, 1e-10), np.full(bins, 1e-10)
    for values, counts in ((x, p), (y, q)):
        for v in values:  # bins are [e_i, e_i+1), the last one closed
            counts[min(bisect.bisect_right(edges, v) - 1, bins - 1)] += 1
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


kl_divergence = Check(
    "divergences.kl_divergence", points=1,
    inputs=args(X=array("n", "d", elements=_POINTS), Y=array("m", "d", elements=_POINTS), bins=st.integers(2, 12),
                dims={"n": st.integers(5, 30), "m": st.integers(5, 30)}),
    examples=({"X": np.linspace(-1, 1, 40), "Y": np.linspace(0, 2, 40), "bins": 50},),
    oracle=_kl_histogram,
    defaults=(Default("bins", 50),),
    tol={"float64": Tol(atol=1e-6, rtol=1e-4)},  # judged loosely: binning at the edges may differ
    kills=("arguments_swapped", "separate_bin_edges", "log2", "no_smoothing"),
)


def _emd(X, Y) -> float:
    """Equal sizes: optimal assignment; 1-D: scipy's Wasserstein-1 between the two samples."""
    X, Y = np.asarray(_points(X)), np.asarray(_points(Y))
    if X.shape[1] == 1:
        return float(stats.wasserstein_distance(X[:, 0], Y[:, 0]))
    cost = np.sqrt(((X[:, None] - Y[None]) ** 2).sum(-1))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


earth_movers_distance = Check(
    "divergences.earth_movers_distance", points=1,
    inputs=st.one_of(
        args(X=array("n", "d", elements=_POINTS), Y=array("n", "d", elements=_POINTS)),  # equal sizes
        args(X=array("n", 1, elements=_POINTS), Y=array("m", 1, elements=_POINTS)),  # 1-D, any sizes
    ),
    oracle=_emd,
    edges=(Example("one_dimensional_inputs", (_one_d,)),),
    kills=("squared_cost", "unnormalised_weights", "mean_cost_matrix", "sinkhorn_approximation"),
)
