"""Generic graded tests: every facet of every declared check, against the chosen implementation.

Choose the implementation with ``--gradekit-target`` (solutions by default). What each facet
checks is declared in ``tests/checks/``; the runners are in :mod:`grader.facets`.
"""
from __future__ import annotations

import pytest

from grader.facets import facets
from tests.checks import CHECKS

FACETS = [facet for check in CHECKS for facet in facets(check)]


def _params(kind: str) -> list:
    return [
        pytest.param(f, id=f.id, marks=() if f.public else pytest.mark.hidden)
        for f in FACETS if f.kind == kind
    ]


@pytest.mark.parametrize("facet", _params("oracle"))
def test_matches_oracle(facet, impl) -> None:
    facet.run(impl)


@pytest.mark.parametrize("facet", _params("claim"))
def test_claim(facet, impl) -> None:
    facet.run(impl)


@pytest.mark.parametrize("facet", _params("error"))
def test_raises(facet, impl) -> None:
    facet.run(impl)


@pytest.mark.parametrize("facet", _params("reference"))
def test_matches_reference(facet, impl, reference) -> None:
    facet.run(impl, reference)
