"""Grade on Gradescope: ``ROOT/submission`` in, ``ROOT/results/results.json`` out, always.

``run_autograder`` calls this for every submission. What was handed in may be the handout's
files, notebooks, a zip of them, or a folder of them: the one zip or folder that holds
everything is graded in its place. A submission that cannot be read, or holds no graded file,
still gets a complete ``results.json``: every test at 0 and one message that says why. A grader
error does too, said as such, before it is raised for the instructor's log.
"""
from __future__ import annotations

import json
from pathlib import Path

from grader.exporters import EXPORTERS
from grader.files import write_atomically
from grader.report import Report

IGNORED = ("__MACOSX",)


def what_to_grade(submission: Path) -> Path:
    """The submission folder, or the single zip or folder that wraps everything it holds."""
    entries = [p for p in submission.iterdir() if not p.name.startswith(".") and p.name not in IGNORED]
    if any(p.is_file() and p.suffix in (".py", ".ipynb") for p in entries):
        return submission
    zips = [p for p in entries if p.is_file() and p.suffix == ".zip"]
    folders = [p for p in entries if p.is_dir() and not p.is_symlink()]
    if len(zips) == 1 and not folders:
        return zips[0]
    if len(folders) == 1 and not zips:
        return what_to_grade(folders[0])
    return submission


def autograde(root: Path, assignment: str) -> Report:
    """Grade ``root/submission`` for ``assignment`` and write ``root/results/results.json``.

    Raises
    ------
    Exception
        Whatever went wrong in the grader itself, after results saying so were written.
    """
    from grader.grade import grade, ungraded
    from grader.submission import NOTHING_GRADED, SubmissionFormatError

    submission, results = root / "submission", root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        if not submission.is_dir():
            report = ungraded("submission", f"nothing was handed in ({submission} does not exist)",
                              assignment=assignment, message=NOTHING_GRADED)
        else:
            try:
                report = grade(str(what_to_grade(submission)), assignment=assignment)
            except SubmissionFormatError as err:
                report = ungraded(submission.name, f"{err}: nothing in it was graded; hand in the files themselves, "
                                  "or a zip that opens", assignment=assignment, message=NOTHING_GRADED)
    except Exception as err:
        message = (f"The autograder failed ({type(err).__name__}: {err}); your submission was not graded. "
                   "Please tell the course staff.")
        try:
            text = EXPORTERS["gradescope"](ungraded("submission", message, assignment=assignment))
        except Exception:  # noqa: BLE001 - the declarations themselves may be what failed
            text = json.dumps({"score": 0.0, "output": message, "tests": []}, indent=2) + "\n"
        write_atomically(results, text)
        raise
    write_atomically(results, EXPORTERS["gradescope"](report))
    return report
