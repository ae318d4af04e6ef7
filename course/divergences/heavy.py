"""The comparison of CPSC 453 PS3 §5: which measure tells sample sets apart, and at what cost?

A report, not scored (0 points in the manifest): the submission's KL, EMD and MMD and their
timings on a uniform against normals of growing variance, two disjoint halves of the MNIST test
digits, zeros against ones, and real digits against the grader's own GAN (``course/generated.py``).
Its one criterion says whether every value agrees with the grader's own computation of the same
quantity: scipy's histogram entropy, scipy's 1-D Wasserstein distance or an optimal assignment
(equal sample sizes: the optimal plan is a permutation), and Gram matrices from ``cdist``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from scipy.stats import entropy, wasserstein_distance

from course.divergences.training import FUNCTIONS
from grader.heavy import QUICK_BUDGET, Criterion, Heavy, Size, cached

SIGMAS = (0.1, 0.5, 1.0, 2.0, 4.0)
RTOL, ATOL = 1e-4, 1e-6  # float32 inside, or another summation order over 784 pixels, stays well within


def _mnist_test() -> tuple[np.ndarray, np.ndarray]:
    from data_fetch.vision import fetch_mnist

    images, labels = fetch_mnist("test")
    return images.reshape(-1, 784).double().numpy(), labels.numpy()


def prepare(settings: Mapping[str, Any], seed: int) -> dict[str, Any]:
    from course.generated import gan_digits

    cached("mnist")
    rng = np.random.default_rng(seed)
    n, m = settings["n_1d"], settings["n_images"]
    uniform = rng.uniform(-1, 1, size=n)
    pairs = {f"U(-1, 1) vs N(0, {s:g}²)": (uniform, rng.normal(0, s, size=n)) for s in SIGMAS}
    images, labels = _mnist_test()
    order = rng.permutation(len(images))
    pairs["MNIST: two disjoint test halves"] = (images[order[:m]], images[order[m:2 * m]])
    pairs["MNIST: zeros vs ones"] = (images[labels == 0][:m], images[labels == 1][:m])
    generated = gan_digits()[:m].double().numpy()
    pairs["MNIST vs the grader's GAN"] = (images[order[2 * m:3 * m]], generated)
    return {"pairs": pairs}


def _histogram_kl(X: np.ndarray, Y: np.ndarray, bins: int = 50) -> float:
    x, y = X.ravel(), Y.ravel()
    edges = np.histogram_bin_edges(np.concatenate([x, y]), bins=bins)
    return float(entropy(np.histogram(x, edges)[0] + 1e-10, np.histogram(y, edges)[0] + 1e-10))


def _emd(X: np.ndarray, Y: np.ndarray) -> float:
    if X.ndim == 1:
        return float(wasserstein_distance(X, Y))
    cost = cdist(X, Y)
    rows, cols = linear_sum_assignment(cost)  # equal sizes, uniform weights
    return float(cost[rows, cols].mean())


def _mean_gram(A: np.ndarray, B: np.ndarray) -> float:
    return float(np.exp(-cdist(A, B, "sqeuclidean") / 2).mean())  # the handout's kernel, sigma 1


def _mmd(X: np.ndarray, Y: np.ndarray) -> float:
    X, Y = X.reshape(len(X), -1), Y.reshape(len(Y), -1)
    return _mean_gram(X, X) + _mean_gram(Y, Y) - 2 * _mean_gram(X, Y)


ORACLES = {"kl": _histogram_kl, "emd": _emd, "mmd": _mmd}


def _agrees(theirs: float, ours: float) -> bool:
    return abs(theirs - ours) <= ATOL + RTOL * abs(ours)


def evaluate(returned: Any, context: Mapping[str, Any]) -> dict[str, float]:
    """The grader's own value of each divergence of each pair (``"<pair>: <kl|emd|mmd>"``), and
    how many of the submission's values disagree with them."""
    theirs = returned["values"]
    ours = {f"{name}: {key}": ORACLES[key](X, Y) for name, (X, Y) in context["pairs"].items() for key in FUNCTIONS}
    wrong = sum(not _agrees(theirs[name][key], ours[f"{name}: {key}"]) for name in context["pairs"] for key in FUNCTIONS)
    return {"disagreements": float(wrong), **ours}


def table(returned: Any, context: Mapping[str, Any], metrics: dict[str, float]) -> str:
    """One row per pair: each value (the grader's beside it where they differ) and its time."""
    theirs, seconds = returned["values"], returned["seconds"]
    width = max(len(name) for name in context["pairs"]) + 2
    lines = [f"{'sample sets':<{width}}{'KL':>12}{'EMD':>12}{'MMD²':>12}   ms: KL / EMD / MMD (in the worker)"]
    for name in context["pairs"]:
        cells = []
        for key in FUNCTIONS:
            mine, ours = theirs[name][key], metrics[f"{name}: {key}"]
            cells.append(f"{mine:>12.4g}" if _agrees(mine, ours) else f"{mine:>12.4g} (grader: {ours:.4g})")
        times = " / ".join(f"{1000 * seconds[name][key]:.1f}" for key in FUNCTIONS)
        lines.append(f"{name:<{width}}{''.join(cells)}   {times}")
    return "\n".join(lines)


comparison = Heavy(
    target="divergences.comparison",
    title="KL, EMD and MMD compared on uniform vs normal, MNIST halves, digits and a GAN's samples (a report)",
    uses=tuple(FUNCTIONS.values()),
    scenario="compare",
    prepare=prepare,
    evaluate=evaluate,
    table=table,
    criteria=(Criterion("agreement", "disagreements", higher_is_better=False,
                        what="values that differ from the grader's own computation"),),
    sizes={
        # 1-D sets of 500 and image sets of 200 digits: the Gram matrices of a broadcast (n, m, d)
        # implementation stay near 250 MB.
        "quick": Size({"n_1d": 500, "n_images": 200}, budget=QUICK_BUDGET, thresholds={"agreement": 0},
                      source="exact: the grader recomputes each value"),
        "full": Size({"n_1d": 2000, "n_images": 500}, budget=600, thresholds={"agreement": 0},
                     source="exact: the grader recomputes each value"),
    },
    points=0,
    kills=("divergences.kl_divergence:arguments_swapped", "divergences.earth_movers_distance:squared_cost",
           "divergences.mmd:unbiased_estimator"),
)
