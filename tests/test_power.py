"""The checks prove their own power: wrong code is caught, differently written code passes."""
from __future__ import annotations

from collections import Counter

import pytest

from grader.facets import CheckFailure, facets
from grader.handle import LocalImplementation, SubmissionError
from grader.target import NAMED
from tests.alternates import all_alternates
from tests.checks import CHECKS, by_target
from tests.mutants import all_mutants

MUTANTS = all_mutants()
ALTERNATES = all_alternates()


@pytest.fixture(scope="module")
def reference() -> LocalImplementation:
    return LocalImplementation(NAMED["solutions"], label="reference")


def _failed_facets(planted, reference, *, public_only: bool) -> list[str]:
    impl = LocalImplementation(NAMED["solutions"], label=str(planted), overrides={planted.target: planted.fn})
    failed = []
    for facet in facets(by_target(planted.target), public_only=public_only):
        try:
            facet.run(impl, reference)
        except (CheckFailure, SubmissionError) as err:
            failed.append(f"{facet.name}: {err}")
    return failed


@pytest.mark.parametrize("planted", MUTANTS, ids=str)
def test_mutant_is_caught_by_a_public_facet(planted, reference) -> None:
    assert _failed_facets(planted, reference, public_only=True), (
        f"the wrong implementation {planted.name!r} passes every public facet of {planted.target}; "
        "add an example, a claim or a tighter tolerance to its check"
    )


@pytest.mark.parametrize("planted", ALTERNATES, ids=str)
def test_alternate_gets_full_marks(planted, reference) -> None:
    failed = _failed_facets(planted, reference, public_only=False)
    assert not failed, f"a correct implementation of {planted.target} fails: {failed}"


def test_every_check_has_four_mutants_and_lists_them() -> None:
    by_check = {c.target: {m.name for m in MUTANTS if m.target == c.target} for c in CHECKS}
    for check in CHECKS:
        assert set(check.kills) == by_check[check.target], (
            f"{check.target}: kills={sorted(check.kills)} but tests/mutants has {sorted(by_check[check.target])}"
        )
        assert len(check.kills) >= 4, f"{check.target} has only {len(check.kills)} mutants; write at least four"


def test_every_check_has_an_alternate() -> None:
    counts = Counter(a.target for a in ALTERNATES)
    assert not [c.target for c in CHECKS if counts[c.target] == 0]
