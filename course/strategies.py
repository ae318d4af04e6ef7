"""Hypothesis strategies for graded checks: small arrays with sane bounds, as values.

``args(...)`` draws one keyword-argument dict: named dimensions first (``B``, ``D``, ...),
then one dtype, then every field, so that shapes agree across arguments.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Named dimensions and their default sizes: small, so that a check runs in milliseconds.
DIMS: dict[str, st.SearchStrategy[int]] = {
    "B": st.integers(1, 4),  # batch
    "D": st.integers(1, 5),  # features
    "K": st.integers(1, 6),  # importance samples / columns
    "L": st.integers(1, 4),  # latent
    "n": st.integers(1, 7),  # samples of the first set
    "m": st.integers(1, 7),  # samples of the second set
    "d": st.integers(1, 3),  # sample dimension
}


def dtypes() -> st.SearchStrategy[torch.dtype]:
    return st.sampled_from([torch.float32, torch.float64])


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def probabilities(*, margin: float = 1e-3) -> st.SearchStrategy[float]:
    """Bernoulli means strictly inside (0, 1)."""
    return floats(margin, 1 - margin)


def bits() -> st.SearchStrategy[float]:
    return st.sampled_from([0.0, 1.0])


def logvars(*, lo: float = -4.0, hi: float = 4.0) -> st.SearchStrategy[float]:
    return floats(lo, hi)


def means(*, bound: float = 5.0) -> st.SearchStrategy[float]:
    return floats(-bound, bound)


@dataclass(frozen=True)
class Shaped:
    """A tensor (or NumPy array) field of :func:`args`: named or fixed sizes, element values."""

    shape: tuple[str | int, ...]
    elements: st.SearchStrategy[float]
    numpy: bool = False


def tensor(*shape: str | int, elements: st.SearchStrategy[float]) -> Shaped:
    return Shaped(tuple(shape), elements)


def array(*shape: str | int, elements: st.SearchStrategy[float]) -> Shaped:
    return Shaped(tuple(shape), elements, numpy=True)


def args(
    *, dims: dict[str, st.SearchStrategy[int]] | None = None, dtype: st.SearchStrategy | None = None, **fields: Any
) -> st.SearchStrategy[dict[str, Any]]:
    """Draw keyword arguments; each field is a ``Shaped``, a strategy or a fixed value."""
    sizes_of = {**DIMS, **(dims or {})}
    dtype = dtypes() if dtype is None else dtype

    @st.composite
    def draw_args(draw: st.DrawFn) -> dict[str, Any]:
        sizes = {name: draw(strategy) for name, strategy in sizes_of.items()}
        chosen = draw(dtype)
        out: dict[str, Any] = {}
        for name, field in fields.items():
            if isinstance(field, Shaped):
                shape = tuple(sizes[s] if isinstance(s, str) else s for s in field.shape)
                values = draw(hnp.arrays(np.float64, shape, elements=field.elements))
                out[name] = values if field.numpy else torch.from_numpy(values).to(chosen)
            elif isinstance(field, st.SearchStrategy):
                out[name] = draw(field)
            else:
                out[name] = field
        return out

    return draw_args()


def seeded(seed: int) -> torch.Generator:
    """A generator for explicit examples, so that they are the same on every run."""
    return torch.Generator().manual_seed(seed)
