"""Correct implementations written differently from the reference; each must get full marks."""
from __future__ import annotations

from tests.mutants import Corpus, Planted

alternate = Corpus()


def all_alternates() -> list[Planted]:
    from tests.alternates import cgan, divergences, flows, gan, vae  # noqa: F401 - registers them

    return list(alternate.found)
