"""Where everything lives: one object, for a checkout and an installed wheel alike.

The engine finds the reference solutions, the stubs and the course content through ``LAYOUT``
only; nothing else computes a path from its own location.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """The folders of one installation of gradekit."""

    root: Path  # the checkout, or the site-packages folder a wheel was installed into

    @property
    def solutions(self) -> Path:
        return self.course / "solutions"  # trusted side only: never a top-level package a kit could carry

    @property
    def stubs(self) -> Path:
        return self.root / "stubs"

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def assignments(self) -> Path:
        return self.course / "assignments"

    @property
    def engine(self) -> Path:
        return self.root / "grader"

    @property
    def data_fetch(self) -> Path:
        return self.root / "data_fetch"

    @property
    def kit(self) -> Path:
        return self.course / "kit.toml"  # only in what ``grader package`` built: which assignment, for whom


LAYOUT = Layout(Path(__file__).resolve().parents[1])
