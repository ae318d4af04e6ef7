"""Turn a ``Check`` into facets: the separately reported and weighted parts of one graded function.

Core facets (the math):

- ``oracle``: on every drawn and explicit input, the result has the shape and values of the
  independent oracle (within the declared tolerance), whatever its type or floating dtype;
- ``gradient``: gradients of the result reach the declared inputs and match central finite
  differences of the oracle;
- ``claim:<name>``: each hand-written core claim holds;
- ``reference`` (hidden): the result agrees with the reference solution on fresh inputs.

Clauses (conventions and edge cases, each with its own small weight):

- ``returns``: the result is a tensor of the input's dtype and device (or a float / array for
  NumPy functions);
- ``example:<name>``: the oracle's values on one edge or convention input;
- ``default:<param>``: the result when ``param`` is left out;
- ``error:<name>``: a bad input raises the declared exception;
- ``claim:<name>`` declared with ``core=False``.

A function's score is its points times the summed weights of the facets that passed, where
clauses count only if some core facet passed (:class:`grader.report.CheckResult`).
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis.errors import Flaky

from grader.check import Check, Default, Example, Raises, Tol
from grader.handle import Implementation, SubmissionError
from grader.plain import describe_call, show, summarize
from grader.scenarios import Owned


class CheckFailure(AssertionError):
    """The implementation's result is wrong; the message says how, for the student."""


@dataclass(frozen=True)
class Facet:
    """One runnable, separately scored part of a check."""

    check: Check
    name: str
    public: bool
    run: Callable[[Implementation, Implementation | None], None]
    weight: float  # share of the check's points
    core: bool

    @property
    def id(self) -> str:
        return f"{self.check.target}::{self.name}"

    @property
    def kind(self) -> str:
        return self.name.partition(":")[0]


# -- comparing -------------------------------------------------------------------------------

_PRECISION = {torch.float16: "float32", torch.bfloat16: "float32", torch.float32: "float32"}


def _first_tensor(kwargs: dict[str, Any]) -> torch.Tensor | None:
    return next((v for v in kwargs.values() if type(v) is torch.Tensor and v.is_floating_point()),
                next((v for v in kwargs.values() if type(v) is torch.Tensor), None))


def tolerance(check: Check, kwargs: dict[str, Any], actual: Any = None) -> Tol:
    """The check's tolerance for the least precise of the inputs and the result."""
    dtypes = [v.dtype for v in (_first_tensor(kwargs), actual) if type(v) is torch.Tensor]
    least = "float32" if any(d in _PRECISION for d in dtypes) else "float64"
    return check.tol.get(least, check.tol["float64"])


def _values(target: str, actual: Any, call: str) -> np.ndarray:
    """``actual`` as float64 values, whatever numeric type holds them; else ``CheckFailure``."""
    kind = type(actual)
    if kind is torch.Tensor and not actual.is_complex():
        return actual.detach().cpu().double().numpy()
    if kind is np.ndarray and actual.dtype.kind in "biuf":
        return actual.astype(np.float64)
    if kind in (float, int):
        return np.asarray(actual, dtype=np.float64)
    raise CheckFailure(f"returned {summarize(actual)}, expected a tensor, an array or a number{call}")


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
    """Raise ``CheckFailure`` unless ``actual`` has the shape and values of ``expected``.

    Values only: a tensor of any dtype, an array or a number is compared by value (its type is
    the ``returns`` clause's business). Values must lie within ``tol`` (atol + rtol |expected|)
    or, for statistical claims, within the explicit per-element bound ``allowed``.
    """
    call = "\n  call: " + describe_call(target, kwargs) + (f"\n  checking: {what}" if what else "")
    expected_arr = np.asarray(expected, dtype=np.float64)
    got = _values(target, actual, call)
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
        tol = tol or Tol(atol=1e-6, rtol=1e-6)
        allowed = tol.atol + tol.rtol * np.abs(expected_arr)
        bound = f"atol {tol.atol:g}, rtol {tol.rtol:g}"
    else:
        bound = f"allowed {np.max(allowed):.3g}"
    over = np.nan_to_num(diff - allowed, nan=np.inf)
    if (over > 0).any():
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(over)), over.shape)) if over.ndim else ()
        raise CheckFailure(
            f"values differ: expected {expected_arr[where]:.8g}, got {got[where]:.8g}"
            f"{' at index ' + str(where) if where else ''} (max |diff| {np.nanmax(diff):.3g}; {bound})"
            f"{call}\n  inputs: {show(kwargs)}"
        )


def expect_type(target: str, actual: Any, kwargs: dict[str, Any], *, dtype: Any = None, scalar: bool) -> None:
    """Raise ``CheckFailure`` unless ``actual`` is the kind of value the contract names.

    With a tensor among the inputs: a tensor of ``dtype`` (default: the first float input's) on
    the input's device. Otherwise a float for a scalar result, a NumPy array for the rest.
    """
    call = "\n  call: " + describe_call(target, kwargs)
    like = _first_tensor(kwargs)
    if like is not None:
        want = dtype or like.dtype
        if type(actual) is not torch.Tensor:
            raise CheckFailure(f"returned {summarize(actual)}, expected a torch.Tensor of dtype {want}{call}")
        if actual.dtype != want:
            raise CheckFailure(f"returned dtype {actual.dtype}, expected {want} (keep the input's dtype){call}")
        if actual.device != like.device:
            raise CheckFailure(f"returned a tensor on {actual.device}, expected {like.device}{call}")
    elif scalar and not (type(actual) in (float, int) or (type(actual) is np.ndarray and actual.ndim == 0)):
        raise CheckFailure(f"returned {summarize(actual)}, expected a Python float{call}")
    elif not scalar and type(actual) is not np.ndarray:
        raise CheckFailure(f"returned {summarize(actual)}, expected a NumPy array{call}")


def _as_float64(value: Any) -> Any:
    if type(value) is torch.Tensor:
        return value.detach().cpu().double().numpy()
    if type(value) is np.ndarray:
        return value.astype(np.float64)
    if type(value) is Owned:
        return value.fn
    return value


def _split_owned(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the plain arguments, {parameter: name} of the grader-owned callables, which cross by name)."""
    owned = {k: v.name for k, v in kwargs.items() if type(v) is Owned}
    return {k: v for k, v in kwargs.items() if k not in owned}, owned


def call(impl: Implementation, target: str, kwargs: dict[str, Any]) -> Any:
    """``target(**kwargs)``; grader-owned callables among the arguments go through a scenario."""
    plain, owned = _split_owned(kwargs)
    if not owned:
        return impl.call(target, **kwargs)
    return impl.scenario("call_with", target, kwargs=plain, functions=owned)


def oracle_value(check: Check, kwargs: dict[str, Any]) -> Any:
    return check.oracle(**{k: _as_float64(v) for k, v in kwargs.items()})


# -- running -------------------------------------------------------------------------------


SHRINK_CALLS = 40  # calls after the first wrong value that shrinking it may cost: seconds for a slow check


def _fingerprint(value: Any) -> Any:
    """A hashable key of ``value`` that equal drawn inputs share, or None when there is none."""
    if type(value) is torch.Tensor:
        return ("tensor", str(value.dtype), tuple(value.shape), value.detach().cpu().contiguous().numpy().tobytes())
    if type(value) is np.ndarray:
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        keys = tuple(_fingerprint(v) for v in value)
        return None if None in keys else (type(value).__name__, keys)
    if isinstance(value, dict):
        keys = tuple((k, _fingerprint(v)) for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
        return None if any(k is None for _, k in keys) else ("dict", keys)
    text = repr(value)
    return None if " at 0x" in text else (type(value).__name__, text)  # an address differs on every draw


def explore(check: Check, body: Callable[[dict[str, Any]], None], salt: str, *,
            examples: tuple | None = None, max_examples: int | None = None, shrink: bool = True) -> None:
    """Run ``body`` on explicit examples (the check's, by default), then on drawn inputs.

    A value that is wrong is shrunk to a smaller input that shows it (``shrink``), for at most
    ``SHRINK_CALLS`` further calls: past them, only inputs already seen to fail are checked
    again, so hypothesis settles on the smallest of those and replays it. Counting calls, not
    seconds, keeps the reported example the same on a slow machine. An implementation that
    raises, or returns something that is not plain data, is reported at once: shrinking a crash
    would cost seconds and teach nothing.
    """
    examples = check.examples if examples is None else examples
    max_examples = check.max_examples if max_examples is None else max_examples
    crashed: list[SubmissionError] = []
    failed: set[Any] = set()  # fingerprints of the inputs that failed
    calls_left = [SHRINK_CALLS]

    def run(kwargs: dict[str, Any]) -> None:
        if crashed:
            return
        key = _fingerprint(kwargs)
        if failed:
            if calls_left[0] <= 0 and key is not None and key not in failed:
                return  # shrinking is over budget: a new input passes unchecked
            calls_left[0] -= 1
        try:
            body(dict(kwargs))
        except SubmissionError as err:
            crashed.append(SubmissionError(f"{err}\n  call: {describe_call(check.target, kwargs)}", err.mro))
        except Exception:
            failed.add(key)
            raise

    if check.inputs is not None and max_examples > 0:
        run = given(check.inputs)(run)
        for ex in reversed(examples):
            run = example(ex)(run)
        run = seed(zlib.crc32(f"{check.target}:{salt}".encode()))(run)
        run = settings(
            max_examples=max_examples,
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            **({} if shrink else {"phases": [Phase.explicit, Phase.reuse, Phase.generate]}),
        )(run)
        try:
            run()
        except Flaky as err:
            if crashed:  # a crash while shrinking a wrong value: the crash is what to report
                raise crashed[0] from None
            raise CheckFailure(f"{check.target} gave different results for the same input: {err}") from None
    else:
        for ex in examples:
            run(ex)
    if crashed:
        raise crashed[0]


def run_oracle(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
    def body(kwargs: dict[str, Any]) -> None:
        expected = oracle_value(check, kwargs)
        actual = call(impl, check.target, kwargs)
        expect_close(check.target, actual, expected, kwargs, tol=tolerance(check, kwargs, actual))

    explore(check, body, salt="oracle")


def run_returns(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
    def body(kwargs: dict[str, Any]) -> None:
        scalar = np.ndim(oracle_value(check, kwargs)) == 0
        for dtype in (torch.float32, torch.float64):  # both, whatever was drawn
            kwargs = {k: v.to(dtype) if type(v) is torch.Tensor and v.is_floating_point() else v for k, v in kwargs.items()}
            actual = call(impl, check.target, kwargs)
            expect_type(check.target, actual, kwargs, dtype=check.returns_dtype, scalar=scalar)
            if _first_tensor(kwargs) is None:
                break

    explore(check, body, salt="returns", max_examples=2, shrink=False)


def run_reference(check: Check, impl: Implementation, reference: Implementation | None) -> None:
    if reference is None:
        raise RuntimeError("the reference facet needs the reference solution")

    def body(kwargs: dict[str, Any]) -> None:
        expected = _as_float64(call(reference, check.target, kwargs))
        try:
            actual = call(impl, check.target, kwargs)
            expect_close(check.target, actual, expected, kwargs, tol=tolerance(check, kwargs, actual))
        except CheckFailure:
            raise CheckFailure(f"{check.target}: disagrees with the reference on a hidden input") from None

    explore(check, body, salt="reference", shrink=False)  # the input stays hidden: no use shrinking it


def _finite_differences(check: Check, kwargs: dict[str, Any], weight: np.ndarray, name: str,
                        at: list[tuple[int, ...]]) -> np.ndarray:
    """d sum(weight * oracle) / d kwargs[name] at the indices ``at``, by central differences in float64."""
    base = {k: _as_float64(v) for k, v in kwargs.items()}
    x = np.array(base[name], dtype=np.float64)
    grad = []
    for i in at:
        h = 1e-6 * max(1.0, abs(x[i]))
        values = []
        for step in (h, -h):
            moved = x.copy()
            moved[i] += step
            values.append(float(np.sum(weight * check.oracle(**{**base, name: moved}))))
        grad.append((values[0] - values[1]) / (2 * h))
    return np.array(grad)


def run_gradient(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
    def body(kwargs: dict[str, Any]) -> None:
        kwargs = {k: v.double() if type(v) is torch.Tensor and v.is_floating_point() else v for k, v in kwargs.items()}
        # correct code may take any subgradient at a kink (abs, clamp, relu at 0): stay off exact zeros
        kwargs.update({k: torch.where(kwargs[k] == 0, 0.0123, kwargs[k]) for k in check.grad_wrt})
        expected = np.asarray(oracle_value(check, kwargs), dtype=np.float64)
        g = torch.Generator().manual_seed(zlib.crc32(check.target.encode()))
        weight = torch.randn(expected.shape, generator=g, dtype=torch.float64)
        plain, owned = _split_owned(kwargs)
        out = impl.scenario("grad_of_weighted_sum", check.target, kwargs=plain, wrt=list(check.grad_wrt), weight=weight,
                            functions=owned)
        # the values are the oracle facet's business: a wrong constant leaves the gradient right
        expect_close(check.target, out["output"], expected, kwargs, allowed=np.full(expected.shape, np.inf))
        for name in check.grad_wrt:
            if out["grads"][name] is None:
                raise CheckFailure(
                    f"{check.target}: no gradient reaches {name}; training calls this function on tensors that "
                    f"carry a graph, so compute it with differentiable torch operations (no .item(), .numpy(), "
                    f".data or new tensors built from values)\n  call: {describe_call(check.target, kwargs)}")
            got = out["grads"][name]
            expect_close(check.target, got, np.zeros(kwargs[name].shape), kwargs, allowed=np.full(kwargs[name].shape, np.inf),
                         what=f"the gradient w.r.t. {name}")
            # images have thousands of elements: a dozen of them, drawn once, tell a wrong gradient
            cells = list(np.ndindex(tuple(kwargs[name].shape)))
            at = [cells[j] for j in np.random.default_rng(len(cells)).permutation(len(cells))[:12]]
            want = _finite_differences(check, kwargs, weight.numpy(), name, at)
            expect_close(check.target, np.array([float(got[i]) for i in at]), want, kwargs,
                         tol=Tol(atol=1e-5, rtol=1e-4),
                         what=f"d sum(w * result) / d {name} at {len(at)} elements, against finite differences of the oracle")

    explore(check, body, salt="gradient", examples=(), max_examples=4, shrink=False)


def _example_runner(case: Example) -> Callable[[Check, Implementation, Implementation | None], None]:
    def run(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
        for kwargs in case.cases:
            kwargs = dict(kwargs)
            actual = call(impl, check.target, kwargs)
            expect_close(check.target, actual, oracle_value(check, kwargs), kwargs,
                         tol=tolerance(check, kwargs, actual), what=case.name.replace("_", " "))

    return run


def _default_runner(default: Default) -> Callable[[Check, Implementation, Implementation | None], None]:
    def run(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
        def body(kwargs: dict[str, Any]) -> None:
            kwargs.pop(default.param, None)
            actual = call(impl, check.target, kwargs)
            expected = oracle_value(check, {**kwargs, default.param: default.value})
            expect_close(check.target, actual, expected, kwargs, tol=tolerance(check, kwargs, actual),
                         what=f"called without {default.param}: the handout's default "
                              f"{default.param}={getattr(default.value, 'name', default.value)!r}")

        explore(check, body, salt=f"default:{default.param}", max_examples=4, shrink=False)

    return run


def _claim_runner(claim) -> Callable[[Check, Implementation, Implementation | None], None]:
    def run(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
        claim.run(impl.bind(check.target))

    return run


def expect_raises(target: str, exc: type[BaseException], attempt: Callable[[], Any], kwargs: dict[str, Any]) -> None:
    """Raise ``CheckFailure`` unless ``attempt()`` raises ``exc`` (by class name) in the implementation."""
    where = "\n  call: " + describe_call(target, kwargs)
    try:
        attempt()
    except SubmissionError as err:
        if exc.__name__ in err.mro:
            return
        raise CheckFailure(f"expected {exc.__name__}, but {err}{where}") from None
    raise CheckFailure(f"expected {exc.__name__}, but it returned normally{where}")


def _error_runner(case: Raises) -> Callable[[Check, Implementation, Implementation | None], None]:
    def run(check: Check, impl: Implementation, _reference: Implementation | None = None) -> None:
        for kwargs in case.cases:
            expect_raises(check.target, case.exc, lambda kw=dict(kwargs): impl.call(check.target, **kw), dict(kwargs))

    return run


def catalogue(checks: list, *, public_only: bool, only: tuple[str, ...]) -> list[dict[str, Any]]:
    """The selected checks (graded functions and training checks) as plain data: target, points,
    visibility, whether it trains, and facets, in report order."""
    from grader.heavy import Heavy
    from grader.heavy import facets as heavy_facets

    def facets_of(c: Any) -> list[Facet]:
        return heavy_facets(c) if isinstance(c, Heavy) else facets(c, public_only=public_only)

    selected = [c for c in checks if c.selected_by(only) and (c.public or not public_only)]
    topics = list(dict.fromkeys(c.topic for c in checks))
    return [  # a topic's training checks right after its functions
        {"target": c.target, "points": c.points, "public": c.public, "heavy": isinstance(c, Heavy),
         "uses": list(getattr(c, "uses", ())),
         "facets": [{"id": f.id, "name": f.name, "public": f.public, "weight": f.weight, "core": f.core}
                    for f in facets_of(c)]}
        for c in sorted(selected, key=lambda c: topics.index(c.topic))
    ]


def facets(check: Check, *, public_only: bool = False) -> list[Facet]:
    """The facets of ``check`` in report order; hidden ones left out when ``public_only``."""
    runners: dict[str, Callable] = {"oracle": run_oracle, "gradient": run_gradient, "returns": run_returns,
                                    "reference": run_reference}
    runners.update({f"claim:{c.name}": _claim_runner(c) for c in check.claims})
    runners.update({f"example:{e.name}": _example_runner(e) for e in check.edges})
    runners.update({f"default:{d.name}": _default_runner(d) for d in check.defaults})
    runners.update({f"error:{e.name}": _error_runner(e) for e in check.errors})

    def bind(runner: Callable) -> Callable[[Implementation, Implementation | None], None]:
        def run(impl: Implementation, reference: Implementation | None = None) -> None:
            reason = check.needs.reason if check.needs is not None else None
            if reason is not None:
                import pytest  # here: facets run under pytest, the catalogue does not need it

                pytest.skip(f"{check.target}: {reason}")
            runner(check, impl, reference)

        return run

    found = [Facet(check, name, name != "reference", bind(runners[name]), weight, core)
             for name, (weight, core) in check.weights().items()]
    if public_only:
        return [f for f in found if f.public and check.public]
    return found
