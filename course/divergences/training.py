"""The comparison of CPSC 453 PS3 §5, run with the implementation's divergences.

Runs next to the implementation (in the sandboxed worker) and returns plain numbers only: each
divergence of each pair of sample sets, and the seconds each call took as measured here. The
trusted side recomputes every value with its own math (``course/divergences/heavy.py``).
"""
from __future__ import annotations

import time

import numpy as np

from grader.scenarios import Resolve

FUNCTIONS = {"kl": "divergences.kl_divergence", "emd": "divergences.earth_movers_distance",
             "mmd": "divergences.mmd"}


def compare(resolve: Resolve, target: str, pairs: dict[str, tuple[np.ndarray, np.ndarray]],
            device: str) -> dict[str, dict[str, dict[str, float]]]:
    """Call ``kl_divergence``, ``earth_movers_distance`` and ``mmd`` (its default kernel) on each pair.

    Returns ``{"values": {pair: {"kl"|"emd"|"mmd": float}}, "seconds": {pair: {...}}}``.
    """
    values: dict[str, dict[str, float]] = {}
    seconds: dict[str, dict[str, float]] = {}
    for name, (X, Y) in pairs.items():
        values[name], seconds[name] = {}, {}
        for key, unit in FUNCTIONS.items():
            start = time.perf_counter()
            result = resolve(unit)(X, Y)
            seconds[name][key] = time.perf_counter() - start
            values[name][key] = float(np.asarray(result, dtype=np.float64))
    return {"values": values, "seconds": seconds}
