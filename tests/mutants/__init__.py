"""Plausible wrong implementations that the graded checks must catch.

Each mutant is registered with ``@mutant("topic.function", "name")``, named for its mistake.
``tests/test_power.py`` plants each one into the reference solution in place of its target and
asserts that at least one public facet of the target's check fails; every name must also be
listed in that check's ``kills``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Planted:
    target: str
    name: str
    fn: Callable

    def __str__(self) -> str:
        return f"{self.target}:{self.name}"


class Corpus:
    """Records implementations by target and name: ``@corpus("vae.log_mean_exp", "no_max_shift")``."""

    def __init__(self) -> None:
        self.found: list[Planted] = []

    def __call__(self, target: str, name: str) -> Callable[[Callable], Callable]:
        def register(fn: Callable) -> Callable:
            self.found.append(Planted(target, name, fn))
            return fn

        return register


mutant = Corpus()


def all_mutants() -> list[Planted]:
    from tests.mutants import cgan, divergences, flows, gan, vae  # noqa: F401 - registers them

    return list(mutant.found)
