"""The README's rubric is the one the declarations give, and the weights behave as documented."""
from __future__ import annotations

import re

import pytest

from course import checks
from grader.check import CLAUSES_AT_MOST, Check, Claim, InvalidCheck
from grader.report import CheckResult, FacetResult
from grader.rubric import markdown
from grader.target import ROOT

CHECKS = checks()


def test_readme_rubric_is_current() -> None:
    text = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- rubric:start -->\n(.*)<!-- rubric:end -->", text, re.S)
    assert found, "README.md lost its rubric markers"
    assert found.group(1) == markdown(CHECKS), "README's rubric is stale: paste the output of `grader rubric`"


@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_shares_add_up_and_the_math_carries_most(check) -> None:
    weights = check.weights()
    assert abs(sum(w for w, _ in weights.values()) - 1) < 1e-9
    assert sum(w for w, core in weights.values() if not core) <= CLAUSES_AT_MOST + 1e-9


def _never(_f) -> None:
    raise AssertionError


def test_a_declaration_whose_clauses_outweigh_the_math_is_refused() -> None:
    with pytest.raises(InvalidCheck, match="clauses weigh"):
        Check("t.f", points=1, claims=(Claim("core", _never), *(Claim(f"c{i}", _never, core=False, weight=0.1)
                                                                 for i in range(4))), reference=False, kills=("x",))


def _result(*facets: tuple[str, float, bool, bool]) -> CheckResult:
    return CheckResult("t.f", 2.0, True, tuple(FacetResult(n, True, "passed" if ok else "failed", "", w, core)
                                               for n, w, core, ok in facets))


def test_points_follow_weights_and_clauses_need_a_core_facet() -> None:
    assert _result(("oracle", 0.9, True, True), ("returns", 0.1, False, False)).points == pytest.approx(1.8)
    assert _result(("oracle", 0.9, True, False), ("returns", 0.1, False, True)).points == 0
    assert _result(("a", 0.45, True, False), ("b", 0.45, True, True), ("c", 0.1, False, True)).points == pytest.approx(1.1)


def test_hidden_facets_left_out_scale_the_rest_to_full_points() -> None:
    assert _result(("oracle", 0.45, True, True), ("returns", 0.05, False, True)).points == pytest.approx(2.0)
