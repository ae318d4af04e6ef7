"""Assignments: one manifest per handout, read from ``course/assignments/<name>.toml``.

A manifest names the handout's title, its files and the topics each holds, its graded units
(``topic.function``) with points, its training checks (``[heavy]``, with the size a plain grade
trains them at, ``heavy_default``; one of 0 points is a report, run and shown but not
scored), the units of topics not built yet (``[pending]``), and the total. The engine reads manifests as data and checks them against the declared checks; a
manifest that is wrong is an :class:`AssignmentError` naming the file and line.

Optional keys, for distribution (``grader package``):

- ``students_run_heavy = "none" | "quick"``: whether the student kit carries the assignment's
  heavy checks at their quick size;
- ``datasets = [...]``: the ``data_fetch`` datasets its checks read, fetched and verified when
  the Gradescope image is built;
- ``[gradescope] hidden_visibility = "after_published" | "after_due_date" | "hidden"``: when
  students see the points of hidden facets on Gradescope;
- ``[hidden]``: units whose checks are hidden, so the student kit does not carry them (a kit's
  own manifest only: the kit writes it); they count in the total and are graded by the course.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.layout import LAYOUT

FOLDER = LAYOUT.assignments


HEAVY_FOR_STUDENTS = ("none", "quick")
HIDDEN_VISIBILITY = ("after_published", "after_due_date", "hidden")  # Gradescope's, less "visible"


class AssignmentError(ValueError):
    """An unknown assignment or a wrong manifest; the message names the file and line."""


@dataclass(frozen=True)
class Assignment:
    """One handout's rubric and file names."""

    name: str
    title: str
    total: float
    files: dict[str, tuple[str, ...]]  # handout file name -> topics it holds
    units: dict[str, float]  # graded now: topic.function -> points
    pending: dict[str, float]  # topics not built yet: topic.function -> points
    path: Path
    hidden: dict[str, float] = field(default_factory=dict)  # a kit's hidden checks: graded by the course only
    heavy: dict[str, float] = field(default_factory=dict)  # training checks: topic.name -> points
    heavy_level: str = "none"  # what a plain grade trains them at (heavy_default)
    students_run_heavy: str = "none"
    datasets: tuple[str, ...] = ()
    hidden_visibility: str = "after_published"

    @property
    def graded_points(self) -> float:
        return sum(self.units.values()) + sum(self.heavy.values())

    def topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(unit.partition(".")[0] for unit in self.units))

    def pending_note(self) -> str | None:
        if not self.pending:
            return None
        return (f"{sum(self.pending.values()):g} of {self.name}'s {self.total:g} points are pending (topics not built "
                f"yet): {', '.join(self.pending)}; this report grades the other {self.graded_points:g}")

    def hidden_note(self) -> str | None:
        if not self.hidden:
            return None
        return (f"{sum(self.hidden.values()):g} of {self.name}'s {self.total:g} points are hidden checks that only the "
                f"course runs: {', '.join(self.hidden)}")

    def notes(self) -> list[str]:
        """What a report of this assignment says about the units it does not grade."""
        return [note for note in (self.pending_note(), self.hidden_note()) if note]


def names() -> list[str]:
    """Every assignment's name."""
    return sorted(p.stem for p in FOLDER.glob("*.toml"))


def _line(text: str, needle: str) -> int:
    """The 1-based line of the first line that holds ``needle`` (1 if none does)."""
    return next((i for i, line in enumerate(text.splitlines(), 1) if needle in line), 1)


def load(name: str, declared: dict[str, Any] | None = None) -> Assignment:
    """The assignment ``name``, checked against the declared checks.

    Parameters
    ----------
    name : str
        A manifest's name, e.g. ``"ift6135-a3"``.
    declared : dict, optional
        ``{target: check}`` of the declared checks (default: all of ``course``).

    Raises
    ------
    AssignmentError
        For an unknown name or a manifest that is not valid.
    """
    path = FOLDER / f"{name}.toml"
    if not path.is_file():
        raise AssignmentError(f"no assignment {name!r}; known: {', '.join(names())}")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise AssignmentError(f"{path}: {err}") from None
    if declared is None:
        import course

        declared = {c.target: c for c in [*course.checks(), *course.heavy_checks()]}

    def fail(needle: str, message: str) -> AssignmentError:
        return AssignmentError(f"{path}:{_line(text, needle)}: {message}")

    for key in ("title", "total", "units"):
        if key not in data:
            raise fail("", f"the manifest has no {key!r}")
    units = {str(k): float(v) for k, v in data["units"].items()}
    pending = {str(k): float(v) for k, v in data.get("pending", {}).items()}
    hidden = {str(k): float(v) for k, v in data.get("hidden", {}).items()}
    heavy = {str(k): float(v) for k, v in data.get("heavy", {}).items()}
    level = str(data.get("heavy_default", "none"))
    if level not in ("none", "quick", "full"):
        raise fail("heavy_default", f"heavy_default = {level!r}; give 'none', 'quick' or 'full'")
    for check in heavy:
        if check not in declared or not getattr(declared[check], "sizes", None):
            raise fail(f'"{check}"', f"{check} is listed under [heavy], but no topic declares such a training check")
    for unit in units:
        if getattr(declared.get(unit), "sizes", None):
            raise fail(f'"{unit}"', f"{unit} is a training check: list it under [heavy]")
    topics = {target.partition(".")[0] for target in declared}
    for unit in hidden:
        if unit in declared:
            raise fail(f'"{unit}"', f"{unit} is declared here: list it under [units], not [hidden]")
    for unit in units:
        if unit not in declared:
            raise fail(f'"{unit}"', f"{unit} is graded here, but no topic declares it"
                       + ("" if unit.partition(".")[0] in topics else "; list it under [pending] until its topic is built"))
    for unit in pending:
        if unit in declared:
            raise fail(f'"{unit}"', f"{unit} is declared now: move it from [pending] to [units]")
        if unit.partition(".")[0] in topics:
            raise fail(f'"{unit}"', f"{unit} is pending, but its topic is built and declares no such function")
    for unit, points in {**units, **pending, **hidden}.items():
        if not points > 0:
            raise fail(f'"{unit}"', f"{unit} has {points:g} points; give it more than 0")
    for check, points in heavy.items():  # 0 points: a report, run and shown but not scored
        if not points >= 0:
            raise fail(f'"{check}"', f"{check} has {points:g} points; give it 0 (a report) or more")
    total = sum(units.values()) + sum(heavy.values()) + sum(pending.values()) + sum(hidden.values())
    if abs(total - float(data["total"])) > 1e-9:
        raise fail("total", f"the units add up to {total:g} points, but total = {data['total']:g}")
    files = {str(k): tuple(v) if isinstance(v, list) else (str(v),) for k, v in data.get("files", {}).items()}
    students = data.get("students_run_heavy", "none")
    if students not in HEAVY_FOR_STUDENTS:
        raise fail("students_run_heavy", f"students_run_heavy must be one of {', '.join(map(repr, HEAVY_FOR_STUDENTS))}, "
                   f"got {students!r}")
    visibility = data.get("gradescope", {}).get("hidden_visibility", "after_published")
    if visibility not in HIDDEN_VISIBILITY:
        raise fail("hidden_visibility", f"hidden_visibility must be one of {', '.join(map(repr, HIDDEN_VISIBILITY))}, "
                   f"got {visibility!r}")
    datasets = tuple(str(d) for d in data.get("datasets", ()))
    from data_fetch import DATASETS

    for dataset in datasets:
        if dataset not in DATASETS:
            raise fail("datasets", f"datasets names {dataset!r}, which data_fetch does not know; known: "
                       f"{', '.join(DATASETS)}")
    return Assignment(name, str(data["title"]), float(data["total"]), files, units, pending, path, hidden=hidden,
                      heavy=heavy, heavy_level=level, students_run_heavy=students, datasets=datasets,
                      hidden_visibility=visibility)
