"""Which files a package carries, chosen by rules over the layout, never by a hand-kept list.

Two audiences read the same rules:

- ``student``: the engine, ``data_fetch``, the provided code (``stubs/``) of the assignment's
  topics, and of ``course/`` the shared modules, the assignment's topic folders with every
  hidden declaration left out (:mod:`grader.package.hidden`), heavy-check modules only when the
  manifest lets students run them, and a manifest rewritten to the units the kit can check;
- ``grader``: the same, with every declaration, every heavy-check module, the reference
  solutions of the assignment's topics and the manifest as written.

A topic folder goes in whole (every file but caches), so a module added to it later, such as a
heavy check's, is carried without anyone listing it. Topic folders of other assignments, other
manifests, ``tests/`` (the wrong and correct implementations) and ``examples/`` never go in.
"""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.assignments import Assignment
from grader.layout import LAYOUT, Layout
from grader.package import PackageError
from grader.package.hidden import HiddenDeclarationError, strip_hidden

AUDIENCES = ("student", "grader")
HEAVY = ("heavy.py", "heavy_*.py", "heavy/*", "training.py")  # a topic's heavy-check modules and their training loops
CACHES = ("__pycache__", "*.pyc", "*.pyo", "*.egg-info", ".*")
TEMPLATES = Path(__file__).with_name("templates")
PLACEHOLDER = re.compile(r"@[A-Z_]+@")


@dataclass(frozen=True)
class File:
    """One file of a package: where it goes (POSIX, relative to the package's root) and its bytes."""

    path: str
    data: bytes
    executable: bool = False


def is_heavy(relative: PurePosixPath) -> bool:
    """Whether a file inside a topic folder holds heavy checks (:data:`HEAVY`)."""
    return any(fnmatch.fnmatch(relative.as_posix(), pattern) for pattern in HEAVY)


def tree(folder: Path, into: str) -> list[File]:
    """Every regular file under ``folder``, caches and hidden files left out, placed under ``into``."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_symlink() or not path.is_file() or any(fnmatch.fnmatch(p, c) for p in parts for c in CACHES):
            continue
        found.append(File(f"{into}/{'/'.join(parts)}", path.read_bytes()))
    return found


def render(template: str, **values: str) -> str:
    """The text of ``templates/<template>`` with each ``@NAME@`` replaced by ``values[name]``."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name.upper()}@", value)
    if left := sorted(set(PLACEHOLDER.findall(text))):
        raise PackageError(f"templates/{template} has placeholders nobody filled in: {', '.join(left)}")
    return text


def _topic_files(folder: Path, into: str, audience: str, heavy: bool, removed: list[str]) -> list[File]:
    kept = []
    for file in tree(folder, into):
        relative = PurePosixPath(file.path).relative_to(into)
        if audience == "student" and is_heavy(relative) and not heavy:
            continue
        if audience == "student" and relative.suffix == ".py":
            try:
                stripped = strip_hidden(file.data.decode("utf-8"), f"course/{folder.name}/{relative}")
            except HiddenDeclarationError as err:
                raise PackageError(str(err)) from None
            removed += [f"course/{folder.name}/{relative}: {name}" for name in stripped.removed]
            file = File(file.path, stripped.text.encode("utf-8"))
        kept.append(file)
    return kept


def manifest_text(assignment: Assignment, hidden: dict[str, float]) -> str:
    """A kit's own manifest: the units it checks, its hidden units apart, the rest as written."""

    def table(name: str, rows: dict) -> list[str]:
        return [f"[{name}]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in rows.items()), ""]

    lines = [f"# Written by `grader package student` from course/assignments/{assignment.name}.toml: [units] are",
             "# checked by this kit; [hidden] units are graded by the course only.",
             f"title = {json.dumps(assignment.title)}", f"total = {assignment.total!r}",
             f"students_run_heavy = {json.dumps(assignment.students_run_heavy)}",
             f"datasets = {json.dumps(list(assignment.datasets))}", ""]
    lines += table("files", {k: list(v) for k, v in assignment.files.items()})
    lines += table("units", {u: p for u, p in assignment.units.items() if u not in hidden})
    if assignment.students_run_heavy != "none":  # the kit carries them, at the quick size
        lines += table("heavy", assignment.heavy)
    else:  # left out of the kit: graded by the course only
        hidden = {**hidden, **assignment.heavy}
    lines += table("hidden", hidden)
    lines += table("pending", assignment.pending)
    return "\n".join(lines)


def course_files(assignment: Assignment, audience: str, hidden: dict[str, float],
                 layout: Layout = LAYOUT) -> tuple[list[File], list[str]]:
    """``course/`` for ``audience``, under ``src/course``; and what was left out as hidden.

    Parameters
    ----------
    hidden : dict
        The assignment's units whose checks are hidden, with their points (student kits only).
    """
    if audience not in AUDIENCES:
        raise PackageError(f"audience must be one of {', '.join(AUDIENCES)}, got {audience!r}")
    course, into = layout.course, "src/course"
    topics = set(assignment.topics())
    heavy = assignment.students_run_heavy != "none"
    files = [File(f"{into}/{p.name}", p.read_bytes()) for p in sorted(course.glob("*.py"))]
    removed: list[str] = []
    for folder in sorted(p for p in course.iterdir() if (p / "__init__.py").is_file()):
        if folder == layout.solutions:
            if audience == "grader":
                files += [File(f"{into}/solutions/{p.name}", p.read_bytes()) for p in sorted(folder.glob("*.py"))
                          if p.stem in topics or p.name == "__init__.py"]
        elif folder.name in topics or not (folder / "checks.py").is_file():  # its topics, and shared helpers
            files += _topic_files(folder, f"{into}/{folder.name}", audience, heavy, removed)
    manifest = f"{into}/assignments/{assignment.name}.toml"
    if audience == "grader":
        files.append(File(manifest, assignment.path.read_bytes()))
    else:
        files.append(File(manifest, manifest_text(assignment, hidden).encode("utf-8")))
    files.append(File(f"{into}/kit.toml", render("kit.toml", assignment=assignment.name, audience=audience).encode()))
    return files, removed


def engine_files(assignment: Assignment, layout: Layout = LAYOUT) -> list[File]:
    """The engine, ``data_fetch`` and the provided code of the assignment's topics, under ``src/``."""
    topics = assignment.topics()
    stubs = [layout.stubs / "__init__.py", *(layout.stubs / f"{t}.py" for t in topics)]
    return [*tree(layout.engine, "src/grader"), *tree(layout.data_fetch, "src/data_fetch"),
            *(File(f"src/stubs/{p.name}", p.read_bytes()) for p in stubs)]
