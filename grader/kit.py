"""What an installation built by ``grader package`` knows about itself, and ``grader check``.

A student kit carries ``course/kit.toml``, which names its assignment; ``grader check`` runs
that assignment's public checks on the student's folder, exactly as ``grader grade
--public-only --assignment NAME`` does, and passes only at full public marks.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass

from grader.layout import LAYOUT, Layout
from grader.report import Report


class KitError(ValueError):
    """``grader check`` cannot tell which assignment to check; the message says what to give."""


@dataclass(frozen=True)
class Kit:
    """The assignment an installation was built for, and for whom (``student`` or ``grader``)."""

    assignment: str
    audience: str


def installed(layout: Layout = LAYOUT) -> Kit | None:
    """The kit this installation is, or None for a checkout or a full installation."""
    if not layout.kit.is_file():
        return None
    data = tomllib.loads(layout.kit.read_text(encoding="utf-8"))
    return Kit(str(data["assignment"]), str(data["audience"]))


def check(folder: str, assignment: str | None = None) -> Report:
    """Run the public checks of ``assignment`` (default: the kit's own) on ``folder``, and its
    training checks at the size the manifest lets students run (``students_run_heavy``).

    Raises
    ------
    KitError
        When no assignment is given and this installation is not a kit.
    """
    from grader.grade import grade

    kit = installed()
    name = assignment or (kit.assignment if kit is not None else None)
    if name is None:
        raise KitError("this installation is not a student kit, so it checks no assignment by default; give "
                       "--assignment NAME (see `grader assignments`)")
    from grader.assignments import load

    # the training checks a kit carries (students_run_heavy = "quick") train at that size
    return grade(folder, public_only=True, assignment=name, heavy=load(name).students_run_heavy)


def full_marks(report: Report) -> bool:
    """Whether every check in ``report`` earned all its points."""
    return abs(report.points - report.max_points) < 1e-6
