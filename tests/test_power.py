"""The checks prove their own power and their fairness.

- Every wrong implementation in ``tests/mutants`` fails a public facet.
- Every correct implementation in ``tests/alternates`` keeps full marks, or loses only clauses
  (conventions we settled ourselves), at most 15 % of the function's points.
- Implementations that do nothing, generated from each function's signature, score zero.
- Every parameter with a default is given another value by some facet, and core facets always
  pass it explicitly, so a student's own default never costs more than its clause.
"""
from __future__ import annotations

import inspect
from collections import Counter
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import Phase, settings

from course import by_target, checks
from grader.facets import CheckFailure, facets
from grader.handle import LocalImplementation, SubmissionError
from grader.report import CheckResult, FacetResult
from grader.target import NAMED
from tests.alternates import all_alternates
from tests.mutants import Planted, all_mutants

CHECKS = checks()


def _skipped(check) -> pytest.MarkDecorator | None:
    """A skip naming the extra to install, for a check whose optional extra is missing here."""
    reason = check.needs.reason if check.needs is not None else None
    return pytest.mark.skip(reason=f"{check.target}: {reason}") if reason else None


# a topic whose optional extra is missing has no corpus here (tests/mutants skips its module): its checks skip
AVAILABLE = [c for c in CHECKS if _skipped(c) is None]
MISSING_EXTRA = [pytest.param(c.target, marks=_skipped(c), id=c.target) for c in CHECKS if _skipped(c) is not None]
MUTANTS = all_mutants()
# Here only the verdict matters, not the smallest falsifying example: no shrinking (minutes saved)
settings.register_profile("power", phases=[Phase.explicit, Phase.reuse, Phase.generate])
ALTERNATES = all_alternates()
CONVENTION_LOSS_AT_MOST = 0.15  # of a function's points


@pytest.fixture(scope="module", autouse=True)
def _no_shrinking():
    previous = settings.get_current_profile_name()
    settings.load_profile("power")
    yield
    settings.load_profile(previous)


@pytest.fixture(scope="module")
def reference() -> LocalImplementation:
    return LocalImplementation(NAMED["solutions"], label="reference")


def _graded(target: str, fn: Callable, reference, *, public_only: bool = False) -> CheckResult:
    """Plant ``fn`` into the reference solution in place of ``target`` and grade that function."""
    impl = LocalImplementation(NAMED["solutions"], label=target, overrides={target: fn})
    check = by_target(target)
    found = []
    for facet in facets(check, public_only=public_only):
        try:
            facet.run(impl, reference)
            found.append(FacetResult(facet.name, facet.public, "passed", "", facet.weight, facet.core))
        except (CheckFailure, SubmissionError) as err:
            found.append(FacetResult(facet.name, facet.public, "failed", str(err), facet.weight, facet.core))
    return CheckResult(target, check.points, check.public, tuple(found))


@pytest.mark.parametrize("planted", MUTANTS, ids=str)
def test_mutant_is_caught_by_a_public_facet(planted, reference) -> None:
    result = _graded(planted.target, planted.fn, reference, public_only=True)
    assert not result.passed, (
        f"the wrong implementation {planted.name!r} passes every public facet of {planted.target}; "
        "add an example, a claim or a tighter tolerance to its check"
    )


@pytest.mark.parametrize("planted", ALTERNATES, ids=str)
def test_alternate_keeps_its_points(planted, reference) -> None:
    result = _graded(planted.target, planted.fn, reference)
    lost = [f for f in result.facets if not result.counts(f)]
    core = [f"{f.name}: {f.message}" for f in lost if f.core]
    assert not core, f"a correct implementation of {planted.target} fails core facets: {core}"
    assert result.points >= (1 - CONVENTION_LOSS_AT_MOST) * result.max_points - 1e-9, (
        f"a correct implementation of {planted.target} loses {result.max_points - result.points:.3f} of "
        f"{result.max_points} points to clauses {[f.name for f in lost]}; at most {CONVENTION_LOSS_AT_MOST:.0%} may go")


# -- doing nothing earns nothing ----------------------------------------------------------------


def _first(args: tuple, kinds: tuple[type, ...]) -> Any:
    return next((a for a in args if isinstance(a, kinds)), None)


def _zeros_of_batch(*args: Any, **kwargs: Any) -> Any:
    like = _first((*args, *kwargs.values()), (torch.Tensor, np.ndarray))
    if like is None:
        return torch.zeros(1)
    return torch.zeros(like.shape[0], dtype=like.dtype) if isinstance(like, torch.Tensor) else np.zeros(like.shape[0])


def _zeros_like(*args: Any, **kwargs: Any) -> Any:
    like = _first((*args, *kwargs.values()), (torch.Tensor, np.ndarray))
    if like is None:
        return 0.0
    return torch.zeros_like(like) if isinstance(like, torch.Tensor) else np.zeros_like(like)


def _returns_zero(*_args: Any, **_kwargs: Any) -> torch.Tensor:
    return torch.tensor(0.0)


DO_NOTHING: dict[str, Callable[..., Any]] = {
    "returns_none": lambda *a, **k: None,
    "returns_zero_float": lambda *a, **k: 0.0,
    "returns_zero_tensor": _returns_zero,
    "returns_constant": lambda *a, **k: torch.tensor(0.123),
    "returns_first_argument": lambda *a, **k: (a or tuple(k.values()))[0],
    "returns_zeros_of_batch": _zeros_of_batch,
    "returns_zeros_like_input": _zeros_like,
    "factory_of_zeros": lambda *a, **k: _returns_zero,
    "factory_of_two_zeros": lambda *a, **k: (_returns_zero, _returns_zero),
}


def _do_nothing(check) -> list[Planted]:
    """The do-nothing family for ``check``'s function, keeping its signature for the record."""
    solution = LocalImplementation(NAMED["solutions"])._resolve(check.target)
    planted = []
    for name, body in DO_NOTHING.items():
        def fn(*args: Any, _body=body, **kwargs: Any) -> Any:
            return _body(*args, **kwargs)

        fn.__signature__ = inspect.signature(solution)
        planted.append(Planted(check.target, name, fn))
    return planted


@pytest.mark.parametrize("planted", [p for c in AVAILABLE for p in _do_nothing(c)] + MISSING_EXTRA, ids=str)
def test_doing_nothing_scores_zero(planted, reference) -> None:
    result = _graded(planted.target, planted.fn, reference)
    earned = [f"{f.name} ({result.facet_points(f):.2f})" for f in result.facets if result.counts(f)]
    assert result.points == 0, f"{planted.name} earns {result.points:.3f} of {planted.target}'s points from {earned}"


# -- every argument exercised, no default relied upon -------------------------------------------


def _same(value: Any, default: Any) -> bool:
    if value is default:
        return True
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # noqa: BLE001 - tensors, arrays: not a default anyway
        return False


@pytest.mark.parametrize("check", [c for c in AVAILABLE if any(
    p.default is not inspect.Parameter.empty for p in inspect.signature(
        LocalImplementation(NAMED["solutions"])._resolve(c.target)).parameters.values())], ids=str)
def test_every_default_is_varied_and_core_facets_pass_it(check, reference) -> None:
    solution = LocalImplementation(NAMED["solutions"])._resolve(check.target)
    signature = inspect.signature(solution)
    defaults = {n: p.default for n, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}
    varied, omitted_by_core = set(), set()
    for facet in facets(check):
        calls: list[dict[str, Any]] = []

        def recording(*args: Any, **kwargs: Any) -> Any:
            calls.append(dict(signature.bind(*args, **kwargs).arguments))
            return solution(*args, **kwargs)

        impl = LocalImplementation(NAMED["solutions"], overrides={check.target: recording})
        facet.run(impl, reference)
        for given in calls:
            varied |= {n for n in defaults if n in given and not _same(given[n], defaults[n])}
            if facet.core:
                omitted_by_core |= {n for n in defaults if n not in given}
    assert not set(defaults) - varied, (
        f"{check.target}: no facet gives {sorted(set(defaults) - varied)} a value other than its default; "
        "add one to an example or a strategy")
    assert not omitted_by_core, (
        f"{check.target}: core facets call it without {sorted(omitted_by_core)}, so a student's own default would "
        "cost core points; pass it explicitly there and add a Default clause")


# -- the corpora match the declarations ---------------------------------------------------------


def test_every_check_has_four_mutants_and_lists_them() -> None:
    by_check = {c.target: {m.name for m in MUTANTS if m.target == c.target} for c in AVAILABLE}
    for check in AVAILABLE:
        assert set(check.kills) == by_check[check.target], (
            f"{check.target}: kills={sorted(check.kills)} but tests/mutants has {sorted(by_check[check.target])}"
        )
        assert len(check.kills) >= 4, f"{check.target} has only {len(check.kills)} mutants; write at least four"


def test_every_check_has_three_alternates() -> None:
    counts = Counter(a.target for a in ALTERNATES)
    assert not [(c.target, counts[c.target]) for c in AVAILABLE if counts[c.target] < 3]
