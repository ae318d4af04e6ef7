"""Grade one student of a batch: the task a job slot or a Dask worker runs, plain JSON in and out.

The task names files (the submission, the output folder); the student's results are written
there, as one folder committed atomically, and the task returns the student's gradebook record.
No object of the submission's ever crosses a process boundary.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

from grader.batch.store import RECORD
from grader.files import commit_folder, partial_folder

GRADED, FAILED = "graded", "failed-to-grade"
TRIES = 2  # a grading child that dies is given one more chance in a fresh one


def record_of(task: dict[str, Any], status: str, reason: str, seconds: float, report: Any = None) -> dict[str, Any]:
    """The gradebook record of one student; ``report`` (a :class:`grader.report.Report`) gives the points
    of the checks that ran (a training check left out at ``--heavy none`` has none, not zero)."""
    ran = [c for c in report.checks if c.ran] if report is not None else []
    return {
        "student": task["student"], "status": status, "reason": reason, "seconds": round(seconds, 2),
        "total": round(report.points, 4) if report is not None else None,
        "max_total": report.max_points if report is not None else None,
        "points": {c.target: round(c.points, 4) for c in ran},
        "max_points": {c.target: c.max_points for c in ran},
    }


def _grade(task: dict[str, Any], launch: Any, figures: Path) -> tuple[Any, str, str, str, int]:
    """(report, status, reason, detail for the staff, tries) of one student; training checks draw into ``figures``.

    The detail of a grading child that failed is the tail of its output, which may quote a hidden
    facet: it goes to the gradebook and the record, never to the student's feedback.
    """
    from grader.grade import grade, ungraded
    from grader.submission import SubmissionFormatError
    from grader.target import TargetError

    options = {"public_only": task["public_only"], "only": tuple(task["only"]), "assignment": task["assignment"],
               "heavy": task["heavy"]}
    if task.get("empty"):
        return ungraded(task["student"], task["empty"], **options), GRADED, task["empty"], "", 0
    report, tries = None, 0
    for tries in range(1, TRIES + 1):
        shutil.rmtree(figures, ignore_errors=True)  # a failed try's figures are not this result's
        try:
            report = grade(str(task["source"]), call_timeout=task["call_timeout"], import_timeout=task["import_timeout"],
                           device=task["device"], figures=figures, launch=launch, scratch=Path(task["scratch"]),
                           **options)
        except (SubmissionFormatError, TargetError) as err:
            return ungraded(task["student"], str(err), **options), FAILED, str(err), "", tries
        if not report.incomplete:
            return report, GRADED, "", "", tries
    return report, FAILED, "the grading process failed twice", report.incomplete, tries


def _relative(report: Any, folder: Path) -> Any:
    """``report`` with its figures' paths relative to ``folder`` (the student's); others are dropped."""
    checks = []
    for check in report.checks:
        inside = [Path(p).relative_to(folder).as_posix() for p in check.figures if Path(p).is_relative_to(folder)]
        checks.append(dataclasses.replace(check, figures=tuple(inside)))
    return dataclasses.replace(report, checks=checks)


def grade_student(task: dict[str, Any], launch: Any = None) -> dict[str, Any]:
    """Grade ``task["student"]`` and commit its folder; return its gradebook record.

    Parameters
    ----------
    task : dict
        ``student``, ``source`` (folder or zip), ``output`` (the batch's folder), ``scratch``,
        ``assignment``, ``only``, ``public_only``, ``heavy``, ``device``, ``call_timeout``,
        ``import_timeout``, and optionally ``empty`` (why there is nothing to grade), ``notes``
        (for the gradebook) and ``graded_as`` (kept in the record, for resuming).
    launch : callable, optional
        How :func:`grader.grade.grade` starts its grading child (default: a fresh interpreter).
    """
    from grader.exporters import EXPORTERS
    from grader.feedback import html, markdown

    start = time.perf_counter()
    final = Path(task["output"]) / task["student"]
    partial = partial_folder(final)
    try:
        report, status, reason, detail, tries = _grade(task, launch, partial / "figures")
        report = _relative(report, partial)
        notes = list(task.get("notes", ()))
        staff = "; ".join(part for part in [f"{reason}: {detail}" if detail else reason, *notes] if part)
        reason = "; ".join(part for part in [reason, *notes] if part)
        record = record_of(task, status, staff, time.perf_counter() - start, report)
        record["tries"], record["graded_as"] = tries, task.get("graded_as")
        (partial / "results.json").write_text(EXPORTERS["gradescope"](report), encoding="utf-8")
        (partial / "feedback.md").write_text(markdown(report, status=status, reason=reason), encoding="utf-8")
        (partial / "feedback.html").write_text(html(report, partial, status=status, reason=reason), encoding="utf-8")
        (partial / RECORD).write_text(json.dumps({**record, "report": report.as_dict()}, indent=1) + "\n",
                                      encoding="utf-8")
        commit_folder(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return record
