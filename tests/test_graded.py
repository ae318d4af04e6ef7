"""Generic graded tests: every facet of every declared check, against the chosen implementation.

Choose the implementation with ``--gradekit-target`` (solutions by default). What each facet
checks is declared in ``tests/checks/``; the runners are in :mod:`grader.facets`.
"""
from __future__ import annotations

import pytest

from grader.facets import facets
from tests.checks import CHECKS

FACETS = [facet for check in CHECKS for facet in facets(check)]


@pytest.mark.parametrize("facet", [pytest.param(f, id=f.id) for f in FACETS if f.public])
def test_facet(facet, impl) -> None:
    facet.run(impl)


@pytest.mark.parametrize("facet", [pytest.param(f, id=f.id, marks=pytest.mark.hidden) for f in FACETS if not f.public])
def test_matches_reference(facet, impl, reference) -> None:
    facet.run(impl, reference)
