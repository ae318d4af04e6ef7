"""The graded tests: every facet of every declared check, against the chosen implementation.

The grader's child runs pytest on this file with the gradekit plugin; choose the implementation
with ``--gradekit-target`` (solutions by default). What each facet checks is declared in
``course/<topic>/checks.py``; the runners are in :mod:`grader.facets`.
"""
from __future__ import annotations

import pytest

import course
from grader.facets import facets

FACETS = [facet for check in course.checks() for facet in facets(check)]


@pytest.mark.parametrize("facet", [pytest.param(f, id=f.id) for f in FACETS if f.public])
def test_facet(facet, impl) -> None:
    facet.run(impl)


@pytest.mark.parametrize("facet", [pytest.param(f, id=f.id, marks=pytest.mark.hidden) for f in FACETS if not f.public])
def test_matches_reference(facet, impl, reference) -> None:
    facet.run(impl, reference)
