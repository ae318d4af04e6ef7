"""Attack: at import, patch builtins and the worker's own view of ``type`` so that lies pass.

``builtins.isinstance``, ``abs``, ``all`` and ``round`` are replaced, and ``type`` is shadowed in
the worker's modules (grader.plain, grader.wire, grader.handle, the worker itself), so that
inside this process a LyingArray is "an ndarray" and a LyingFloat "a float" whose ``abs`` is 0
and which equals everything. ``kernel`` and ``mmd`` return such liars holding garbage. They
score only if a lie crossed to the grader; only data does (the values, which are wrong).
Everything patched stays faithful for other values, so the honest function is untouched.
"""
import builtins
import sys

import numpy as np

_type, _isinstance, _abs, _all, _round = type, isinstance, abs, all, round


class LyingArray(np.ndarray):
    """Equal to everything, at distance 0 from everything."""

    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool).view(np.ndarray)

    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool).view(np.ndarray)

    def __sub__(self, other):
        return np.zeros(self.shape)

    __rsub__ = __sub__

    def __abs__(self):
        return np.zeros(self.shape)


class LyingFloat(float):
    """A float that equals everything and is at distance 0 from everything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__
    __hash__ = float.__hash__

    def __abs__(self):
        return 0.0


_LIARS = {LyingArray: np.ndarray, LyingFloat: float}


def _fake_type(*args):
    if len(args) == 1:
        real = _type(args[0])
        return _LIARS.get(real, real)
    return _type(*args)


def _fake_isinstance(obj, classes):
    disguise = _LIARS.get(_type(obj))
    if disguise is not None:
        wanted = classes if _isinstance(classes, tuple) else (classes,)
        if any(c is disguise for c in wanted):
            return True
    return _isinstance(obj, classes)


def _fake_abs(x):
    return 0.0 if _type(x) in _LIARS else _abs(x)


def _fake_all(iterable):
    items = list(iterable)
    return True if any(_type(i) in _LIARS for i in items) else _all(items)


builtins.isinstance = _fake_isinstance
builtins.abs = _fake_abs
builtins.all = _fake_all
builtins.round = lambda x, *n: x if _type(x) in _LIARS else _round(x, *n)
for name in ("grader.plain", "grader.wire", "grader.handle", "__main__"):
    module = sys.modules.get(name)
    if module is not None:
        module.type = _fake_type
        module.isinstance = _fake_isinstance


def kernel(A, B, sigma=1.0):
    """A LyingArray of garbage."""
    return np.full((len(A), len(B)), 0.5).view(LyingArray)


def mmd(X, Y, kernel_fn=kernel):
    """A LyingFloat of garbage."""
    return LyingFloat(7.0)
