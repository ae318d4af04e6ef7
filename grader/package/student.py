"""The student kit: one assignment's handout files as stubs, and the grader's public checks of them.

The kit is a folder (or a zip of one) that ``pip install`` takes: the handout's files at the
top, where the student works; ``src/`` with the engine, the provided code and loaders, and the
public checks of the assignment's units (:mod:`grader.package.content`); a README; and a
GitHub Actions workflow that runs ``grader check --format junit`` on every push and fails the
job below full public marks. No reference solution, hidden check, wrong-implementation or
correct-variant corpus goes in (``tests/unit/test_package.py`` searches every kit for them).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from grader import assignments
from grader.layout import LAYOUT
from grader.package import Built, PackageError, pending_warning
from grader.package.content import File, course_files, engine_files, render
from grader.package.handout import handout_files
from grader.package.project import pyproject
from grader.package.write import write

WORKFLOW = ".github/workflows/gradekit.yml"
NOTE = ("{file}: your part of {title}.\n"
        "Replace each `raise NotImplementedError(...)` with your code; keep every name and signature.\n"
        "Run `grader check` in this folder to run the public checks, as the course will.")


def _readme(assignment: assignments.Assignment, handout: list[str]) -> str:
    pending = (f"\nNot in this kit yet (graded later): {', '.join(assignment.pending)}.\n"
               if assignment.pending else "")
    hidden = (f"\nHidden checks, run by the course only: {', '.join(assignment.hidden)}.\n"
              if assignment.hidden else "")
    datasets = (f"\nThe checks read these datasets; fetch and verify them once with\n"
                f"`data-fetch get {' '.join(assignment.datasets)}`.\n" if assignment.datasets else "")
    return render("student-README.md", title=assignment.title, assignment=assignment.name,
                  files=", ".join(f"`{name}`" for name in handout) or "nothing yet (every unit is pending)",
                  pending=pending + hidden, datasets=datasets,
                  workflow=WORKFLOW)


def student_kit(name: str, output: Path, *, force: bool = False) -> Built:
    """Build the student kit of assignment ``name`` at ``output`` (a folder, or a ``.zip``).

    Raises
    ------
    grader.assignments.AssignmentError
        For an unknown assignment or a manifest that is not valid.
    PackageError
        When ``output`` exists (without ``force``), or a declaration's visibility cannot be told.
    """
    import course

    assignment = assignments.load(name)
    hidden = {u: p for u, p in assignment.units.items() if not course.by_target(u).public}
    files, left_out = course_files(assignment, "student", hidden)
    files += engine_files(assignment)
    handout = handout_files(assignment, LAYOUT.stubs, NOTE)
    files += [File(file_name, text.encode("utf-8")) for file_name, text in handout.items()]
    files += [File("README.md", _readme(replace(assignment, hidden=hidden), list(handout)).encode("utf-8")),
              File(WORKFLOW, render("workflow.yml").encode("utf-8"))]
    taken = {f.path for f in files}
    if len(taken) != len(files):
        raise PackageError(f"{name}: a handout file has the name of a kit file: {', '.join(sorted(handout))}")
    files.append(pyproject(files, name, f"grader package student {name}"))
    warnings = [w for w in [pending_warning(assignment)] if w]
    if not set(assignment.units) - set(hidden):
        warnings.append(f"{name}: no unit of this assignment has a public check; the kit has nothing to check")
    return Built(output, write(files, output, force=force), len(files), tuple(warnings), tuple(left_out))
