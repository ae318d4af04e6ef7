"""Statistical tests shared by the checks of random functions: two-sided p-values, one threshold."""
from __future__ import annotations

import numpy as np
from scipy import stats

P_AT_LEAST = 1e-6  # a correct random draw fails a statistical test this rarely


def binomial_p(k: int, n: int, p: float) -> float:
    """Two-sided p-value of k successes in n draws of probability p."""
    return float(stats.binomtest(k, n, p).pvalue)


def dispersion_p(counts: np.ndarray, trials: int, p: float) -> float:
    """Two-sided p-value that ``counts`` are independent Binomial(trials, p) draws, by their spread:
    sum (c - trials p)^2 / (trials p (1 - p)) is about chi-squared with one degree per count."""
    s = float(((counts - trials * p) ** 2).sum() / (trials * p * (1 - p)))
    df = counts.size
    return float(min(1.0, 2 * min(stats.chi2.cdf(s, df), stats.chi2.sf(s, df))))
