"""The graded tests: every facet of every declared check, against the chosen implementation.

The grader's child runs pytest on this file with the gradekit plugin; choose the implementation
with ``--gradekit-target`` (solutions by default). What each facet checks is declared in
``course/<topic>/checks.py``, the training checks in ``course/<topic>/heavy.py``; the runners
are in :mod:`grader.facets` and :mod:`grader.heavy`. Training runs only with
``--gradekit-heavy quick|full``; otherwise its facets are recorded as not run.
"""
from __future__ import annotations

import pytest

import course
from grader.facets import facets
from grader.heavy import facets as heavy_facets

FACETS = [facet for check in course.checks() for facet in facets(check)]
TRAINING = [facet for heavy in course.heavy_checks() for facet in heavy_facets(heavy)]


@pytest.mark.parametrize("facet", [pytest.param(f, id=f.id) for f in FACETS if f.public])
def test_facet(facet, impl) -> None:
    facet.run(impl)


@pytest.mark.parametrize("facet", [pytest.param(f, id=f.id, marks=pytest.mark.hidden) for f in FACETS if not f.public])
def test_matches_reference(facet, impl, reference) -> None:
    facet.run(impl, reference)


@pytest.mark.parametrize("facet", [pytest.param(f, id=f.id) for f in TRAINING])
def test_training(facet, impl, training, record_property) -> None:
    try:
        record_property("verdict", facet.run(impl, training))
    finally:
        record_property("figures", training.figures_of(facet.check))
