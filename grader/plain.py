"""Plain data: the only values that cross between the grader and an implementation.

Tensors, NumPy arrays, numbers, strings, ``None`` and lists/tuples/dicts of those, with exact
types only: a tensor subclass or an object with a clever ``__eq__`` is refused, not compared.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

_SCALARS = (bool, int, float, str, type(None))


class NotPlain(TypeError):
    """A value that is not plain data."""


def clone(value: Any, *, keep_grad: bool = False) -> Any:
    """Deep copy of a plain value; tensors are detached unless ``keep_grad``.

    Raises
    ------
    NotPlain
        For anything but exact plain types (subclasses included).
    """
    kind = type(value)
    if kind is torch.Tensor:
        if keep_grad:
            return value
        return value.detach().clone()
    if kind is np.ndarray:
        if value.dtype.kind not in "biuf":
            raise NotPlain(f"an array of dtype {value.dtype} (only numeric arrays are accepted)")
        return value.copy()
    if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype.kind in "biuf":
        return value.item()
    if kind in _SCALARS:
        return value
    if kind in (list, tuple):
        return kind(clone(v, keep_grad=keep_grad) for v in value)
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise NotPlain("a dict with non-string keys")
        return {k: clone(v, keep_grad=keep_grad) for k, v in value.items()}
    raise NotPlain(f"a value of type {kind.__module__}.{kind.__qualname__}")


def summarize(value: Any) -> str:
    """Short description of a plain value: ``Tensor[size=(3, 4), dtype=float32]``."""
    kind = type(value)
    if kind is torch.Tensor:
        return f"Tensor[size={tuple(value.shape)}, dtype={str(value.dtype).removeprefix('torch.')}]"
    if kind is np.ndarray:
        return f"ndarray[shape={value.shape}, dtype={value.dtype}]"
    if kind is float:
        return f"{value:.6g}"
    if kind in (list, tuple):
        inner = ", ".join(summarize(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"[{inner}]" if kind is list else f"({inner})"
    if kind is dict:
        return "{" + ", ".join(f"{k}: {summarize(v)}" for k, v in list(value.items())[:6]) + "}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_call(target: str, kwargs: dict[str, Any]) -> str:
    """``vae.log_mean_exp(y=Tensor[size=(3, 4), dtype=float32])``."""
    return f"{target}({', '.join(f'{k}={summarize(v)}' for k, v in kwargs.items())})"


def show(value: Any, limit: int = 300) -> str:
    """The value itself, printed compactly and cut at ``limit`` characters."""
    if type(value) is torch.Tensor:
        value = value.detach().cpu().numpy()
    if type(value) is np.ndarray:
        text = np.array2string(value, precision=4, threshold=20, edgeitems=2, separator=", ")
    elif type(value) is dict:
        text = "{" + ", ".join(f"{k!r}: {show(v, limit)}" for k, v in value.items()) + "}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
