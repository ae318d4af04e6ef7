"""Correct implementations written differently from the reference; each must get full marks."""
from __future__ import annotations

from tests.mutants import Corpus, Planted, import_all

alternate = Corpus()


def all_alternates() -> list[Planted]:
    import_all("tests.alternates")
    return list(alternate.found)
