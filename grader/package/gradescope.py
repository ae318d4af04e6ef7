"""The Gradescope autograder archive of one assignment.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once while it builds
the image (with network), copies ``run_autograder`` to ``/autograder/run_autograder`` and runs
it for every submission (``/autograder/submission`` in, ``/autograder/results/results.json``
out). The archive holds those two scripts and ``gradekit/``: a project with the engine, every
check of the assignment (hidden ones too) and the reference solutions of its topics.
``setup.sh`` installs bubblewrap, Python and that project, and fetches the datasets the
manifest lists into ``/autograder/data``, each file checked against its SHA-256 before it
enters the cache: the archive stays small, and grading downloads nothing.
"""
from __future__ import annotations

from pathlib import Path

from grader import assignments
from grader.layout import LAYOUT
from grader.package import Built, PackageError, pending_warning
from grader.package.content import File, course_files, engine_files, render
from grader.package.project import pyproject
from grader.package.write import write

PROJECT = "gradekit"  # the folder of the archive that setup.sh installs


def gradescope_archive(name: str, output: Path, *, force: bool = False) -> Built:
    """Build the Gradescope autograder zip of assignment ``name`` at ``output``.

    Raises
    ------
    grader.assignments.AssignmentError
        For an unknown assignment or a manifest that is not valid.
    PackageError
        When ``output`` is not a ``.zip`` or exists (without ``force``), or the reference
        solutions are not here (a student kit cannot build an autograder).
    """
    if output.suffix != ".zip":
        raise PackageError(f"{output}: Gradescope takes the autograder as a zip; give an --output ending in .zip")
    assignment = assignments.load(name)
    missing = [t for t in assignment.topics() if not (LAYOUT.solutions / f"{t}.py").is_file()]
    if missing:
        raise PackageError(f"the reference solutions of {', '.join(missing)} are not in {LAYOUT.solutions}; build "
                           "the autograder from the course's repository or its full installation, not a student kit")
    project, _ = course_files(assignment, "grader", {})
    project += engine_files(assignment)
    project.append(pyproject(project, name, f"grader package gradescope {name}"))
    files = [File(f"{PROJECT}/{f.path}", f.data, f.executable) for f in project]
    files += [File("setup.sh", render("setup.sh", assignment=name, project=PROJECT,
                                      datasets=" ".join(assignment.datasets)).encode(), executable=True),
              File("run_autograder", render("run_autograder", assignment=name).encode(), executable=True)]
    warnings = tuple(w for w in [pending_warning(assignment)] if w)
    return Built(output, write(files, output, force=force), len(files), warnings)
