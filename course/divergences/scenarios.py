"""Grader-owned kernels that the divergences checks pass as ``kernel_fn``.

Named in ``OWNED``; a check refers to one as ``Owned("divergences.<name>")``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(-1, 1) if a.ndim == 1 else a.reshape(a.shape[0], -1)


def _squared_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    A, B = _rows(A), _rows(B)
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)


OWNED: dict[str, Callable[..., Any]] = {
    "gaussian_kernel": lambda A, B: np.exp(-_squared_distances(A, B) / 2),  # the handout's, sigma = 1
    "narrow_gaussian_kernel": lambda A, B: np.exp(-_squared_distances(A, B) / (2 * 0.5**2)),
    "laplacian_kernel": lambda A, B: np.exp(-np.sqrt(_squared_distances(A, B))),
}


