"""Turn a ``Check`` into facets: the separately reported parts of one graded function.

- ``oracle``: on every drawn and explicit input, the result has the type, shape, dtype and
  values of the independent oracle (within the declared tolerance);
- ``claim:<name>``: each hand-written claim holds;
- ``error:<name>``: each bad input raises the declared exception;
- ``reference`` (hidden): the result agrees with the reference solution on fresh inputs.

A check's score is its points times the fraction of its facets that pass.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from hypothesis import HealthCheck, example, given, seed, settings

from grader.check import Check, Tol
from grader.handle import Implementation, SubmissionError
from grader.plain import describe_call, show, summarize


class CheckFailure(AssertionError):
    """The implementation's result is wrong; the message says how, for the student."""


@dataclass(frozen=True)
class Facet:
    """One runnable, separately scored part of a check."""

    check: Check
    name: str
    public: bool
    run: Callable[[Implementation, Implementation | None], None]

    @property
    def id(self) -> str:
        return f"{self.check.target}::{self.name}"

    @property
    def kind(self) -> str:
        return self.name.partition(":")[0]


# -- comparing -------------------------------------------------------------------------------


def _first_tensor(kwargs: dict[str, Any]) -> torch.Tensor | None:
    return next((v for v in kwargs.values() if type(v) is torch.Tensor), None)


def tolerance(check: Check, like: Any) -> Tol:
    dtype = str(like.dtype).removeprefix("torch.") if type(like) is torch.Tensor else "float64"
    return check.tol.get(dtype, check.tol["float64"])


def expect_close(
    target: str,
    actual: Any,
    expected: Any,
    kwargs: dict[str, Any],
    *,
    tol: Tol | None = None,
    allowed: Any = None,
    what: str = "",
) -> None:
    """Raise ``CheckFailure`` unless ``actual`` matches ``expected`` in kind, shape, dtype, value.

    ``expected`` is a NumPy array or a float. When the inputs hold a tensor, the result must
    be a tensor of that dtype and device; otherwise a float (for a scalar) or an array. Values
    must lie within ``tol`` (atol + rtol |expected|) or, for statistical claims, within the
    explicit per-element bound ``allowed``.
    """
    call = "\n  call: " + describe_call(target, kwargs) + (f"\n  checking: {what}" if what else "")
    like = _first_tensor(kwargs)
    expected_arr = np.asarray(expected, dtype=np.float64)
    if like is not None:
        if type(actual) is not torch.Tensor:
            raise CheckFailure(f"returned {summarize(actual)}, expected a torch.Tensor{call}")
        if actual.dtype != like.dtype:
            raise CheckFailure(f"returned dtype {actual.dtype}, expected {like.dtype} (keep the input's dtype){call}")
        if actual.device != like.device:
            raise CheckFailure(f"returned a tensor on {actual.device}, expected {like.device}{call}")
        got = actual.detach().cpu().numpy().astype(np.float64)
    elif expected_arr.ndim == 0:
        if type(actual) not in (float, int) and not (type(actual) is np.ndarray and actual.ndim == 0):
            raise CheckFailure(f"returned {summarize(actual)}, expected a float{call}")
        got = np.asarray(actual, dtype=np.float64)
    else:
        if type(actual) is not np.ndarray:
            raise CheckFailure(f"returned {summarize(actual)}, expected a NumPy array{call}")
        got = actual.astype(np.float64)
    if got.shape != expected_arr.shape:
        raise CheckFailure(f"returned shape {tuple(got.shape)}, expected {tuple(expected_arr.shape)}{call}")
    bad_finite = ~np.isfinite(got) & np.isfinite(expected_arr)
    if bad_finite.any():
        where = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        raise CheckFailure(
            f"returned {got[where]} at index {where} where {expected_arr[where]:.6g} was expected "
            f"(a numerically unstable formula?){call}\n  inputs: {show(kwargs)}"
        )
    diff = np.abs(got - expected_arr)
    if allowed is None:
        tol = tol or Tol(atol=1e-8, rtol=1e-7)
        allowed = tol.atol + tol.rtol * np.abs(expected_arr)
        bound = f"atol {tol.atol:g}, rtol {tol.rtol:g}"
    else:
        bound = f"allowed {np.max(allowed):.3g}"
    over = np.nan_to_num(diff - allowed, nan=np.inf)
    if (over > 0).any():
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(over)), over.shape)) if over.ndim else ()
        raise CheckFailure(
            f"values differ: expected {expected_arr[where]:.6g}, got {got[where]:.6g}"
            f"{' at index ' + str(where) if where else ''} (max |diff| {np.nanmax(diff):.3g}; {bound})"
            f"{call}\n  inputs: {show(kwargs)}"
        )


def _as_float64(value: Any) -> Any:
    if type(value) is torch.Tensor:
        return value.detach().cpu().double().numpy()
    if type(value) is np.ndarray:
        return value.astype(np.float64)
    return value


# -- running -------------------------------------------------------------------------------


def explore(check: Check, body: Callable[[dict[str, Any]], None], salt: str) -> None:
    """Run ``body`` on the check's explicit examples, then on drawn inputs (seeded by id)."""

    def run(kwargs: dict[str, Any]) -> None:
        body(dict(kwargs))

    if check.inputs is not None:
        run = given(check.inputs)(run)
        for ex in reversed(check.examples):
            run = example(ex)(run)
        run = seed(zlib.crc32(f"{check.target}:{salt}".encode()))(run)
        run = settings(
            max_examples=check.max_examples,
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )(run)
        run()
    else:
        for ex in check.examples:
            run(ex)


def run_oracle(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
    def body(kwargs: dict[str, Any]) -> None:
        expected = check.oracle(**{k: _as_float64(v) for k, v in kwargs.items()})
        actual = impl.call(check.target, **kwargs)
        expect_close(check.target, actual, expected, kwargs, tol=tolerance(check, _first_tensor(kwargs)))

    explore(check, body, salt="oracle")


def run_reference(check: Check, impl: Implementation, reference: Implementation | None) -> None:
    if reference is None:
        raise RuntimeError("the reference facet needs the reference solution")

    def body(kwargs: dict[str, Any]) -> None:
        expected = _as_float64(reference.call(check.target, **kwargs))
        try:
            actual = impl.call(check.target, **kwargs)
            expect_close(check.target, actual, expected, kwargs, tol=tolerance(check, _first_tensor(kwargs)))
        except CheckFailure:
            raise CheckFailure(f"{check.target}: disagrees with the reference on a hidden input") from None

    explore(check, body, salt="reference")


def _claim_runner(claim) -> Callable[[Check, Implementation, Implementation | None], None]:
    def run(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
        claim.run(impl.bind(check.target))

    return run


def _error_runner(case) -> Callable[[Check, Implementation, Implementation | None], None]:
    def run(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
        call = "\n  call: " + describe_call(check.target, dict(case.kwargs))
        try:
            impl.call(check.target, **case.kwargs)
        except SubmissionError as err:
            if case.exc.__name__ in err.mro:
                return
            raise CheckFailure(f"expected {case.exc.__name__}, but {err}{call}") from None
        raise CheckFailure(f"expected {case.exc.__name__}, but it returned normally{call}")

    return run


def catalogue(checks: list[Check], *, public_only: bool, only: tuple[str, ...]) -> list[dict[str, Any]]:
    """The selected checks as plain data: target, points, visibility and facets, in report order."""
    return [
        {"target": c.target, "points": c.points, "public": c.public,
         "facets": [{"id": f.id, "name": f.name, "public": f.public} for f in facets(c, public_only=public_only)]}
        for c in checks if c.selected_by(only) and (c.public or not public_only)
    ]


def facets(check: Check, *, public_only: bool = False) -> list[Facet]:
    """The facets of ``check`` in report order; hidden ones left out when ``public_only``."""

    def bind(runner: Callable) -> Callable[[Implementation, Implementation | None], None]:
        return lambda impl, reference=None: runner(check, impl, reference)

    found = []
    if check.oracle is not None:
        found.append(Facet(check, "oracle", True, bind(run_oracle)))
    found += [Facet(check, f"claim:{c.name}", True, bind(_claim_runner(c))) for c in check.claims]
    found += [Facet(check, f"error:{e.name}", True, bind(_error_runner(e))) for e in check.errors]
    if check.reference:
        found.append(Facet(check, "reference", False, bind(run_reference)))
    if public_only:
        return [f for f in found if f.public and check.public]
    return found
