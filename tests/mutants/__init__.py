"""Plausible wrong implementations that the graded checks must catch.

Each mutant is registered with ``@mutant("topic.function", "name")``, named for its mistake.
``tests/test_power.py`` plants each one into the reference solution in place of its target and
asserts that at least one public facet of the target's check fails; every name must also be
listed in that check's ``kills``.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
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


def import_all(package: str) -> None:
    """Import every module of ``package``, so that each registers what it defines.

    A module that needs an optional extra which is not installed (torch_geometric, torchdyn) is
    left out: the checks of its topic are skipped too.
    """
    import course

    optional = {m for c in course.checks() if c.needs is not None for m in c.needs.modules}
    folder = Path(importlib.import_module(package).__file__).parent
    for info in pkgutil.iter_modules([str(folder)]):
        try:
            importlib.import_module(f"{package}.{info.name}")
        except ModuleNotFoundError as err:
            if (err.name or "").partition(".")[0] not in optional:
                raise


def all_mutants() -> list[Planted]:
    import_all("tests.mutants")
    return list(mutant.found)
