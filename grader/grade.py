"""Grade one implementation: run the checks in a child process, then score what it reports.

The child is pytest over :mod:`grader.graded` with the gradekit plugin. It streams one
JSON line per event (:class:`grader.pytest_plugin.Recorder`): the catalogue of selected checks
with their points and facets, each facet's outcome, and the run's notes. A facet the child never
reached counts as failed; if the child died before even writing the catalogue, the declarations
are loaded here instead, so every check is still in the report.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader import assignments
from grader.report import CheckResult, FacetResult, Report
from grader.target import NAMED, ROOT, resolve

GRADED_TESTS = Path(__file__).with_name("graded.py")
CHILD_TIMEOUT = 1800  # seconds for the whole child; each call into the target has its own limit


def load_checks() -> list:
    """The declared checks of every topic (:func:`course.checks`)."""
    import course

    return list(course.checks())


def printable(text: str) -> str:
    """``text`` with control and format characters escaped: a message may quote submitted text,
    and a terminal bell, cursor movement or right-to-left override has no place in a report."""
    return "".join(ch if ch in "\n\t" or ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256
                   else f"\\u{ord(ch):04x}" for ch in text)


def _declared(public_only: bool, only: tuple[str, ...]) -> list[dict[str, Any]]:
    """The catalogue from the declarations themselves (the slow way: imports torch and more)."""
    from grader.facets import catalogue

    return catalogue(load_checks(), public_only=public_only, only=only)


def _child(folder: Path, results: Path, public_only: bool, only: tuple[str, ...], backend: str,
           call_timeout: float, import_timeout: float) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "pytest", str(GRADED_TESTS), "-q", "-p", "no:cacheprovider", "-p", "grader.pytest_plugin",
        "--no-header",
        f"--gradekit-target={folder}", f"--gradekit-results={results}", f"--gradekit-backend={backend}",
        f"--gradekit-call-timeout={call_timeout}", f"--gradekit-import-timeout={import_timeout}",
        f"--gradekit-only={','.join(only)}",
    ]
    if public_only:
        command.append("--gradekit-public-only")
    # Only our plugin (via conftest) and hypothesis: other installed pytest plugins cost start-up time.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")


def _read_stream(path: Path) -> dict[str, Any]:
    """Catalogue, outcomes and notes from the child's JSON lines; a torn last line is ignored."""
    found: dict[str, Any] = {"catalogue": None, "outcomes": {}, "notes": [], "function_notes": {}}
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if "catalogue" in event:
            found["catalogue"] = event["catalogue"]
        elif "facet" in event:
            found["outcomes"][event["facet"]] = event
        elif "notes" in event:
            found["notes"] = event["notes"]
            found["function_notes"] = event.get("function_notes", {})
    return found


def grade(target: str, *, public_only: bool = False, only: tuple[str, ...] = (), backend: str = "sandbox",
          call_timeout: float = 30.0, import_timeout: float = 60.0, assignment: str | None = None) -> Report:
    """Grade ``target`` ('solutions', 'stubs', a folder or a zip) and return a ``Report``.

    Parameters
    ----------
    public_only : bool
        Run the public facets only, as students do at home.
    only : tuple of str
        Topics or ``topic.function`` names to grade; empty for all.
    backend : {'sandbox', 'in-process'}
        Where the target's code runs; in-process is for trusted code only.
    call_timeout : float
        Wall-clock seconds one call into the target may take.
    import_timeout : float
        Wall-clock seconds importing one of the target's modules may take.
    assignment : str, optional
        Grade the units of this assignment (``grader assignments``), with its points and its
        handout's file names.

    Raises
    ------
    grader.target.TargetError
        When ``target`` names no implementation folder or zip.
    grader.assignments.AssignmentError
        For an unknown assignment or a manifest that is not valid.
    grader.submission.SubmissionFormatError
        For a zip that cannot be read.
    """
    import course
    from grader.handle import STUBS
    from grader.submission import prepare

    folder = resolve(target)
    manifest = assignments.load(assignment) if assignment else None
    if manifest is not None:
        only = tuple(t for t in manifest.units if course.by_target(t).selected_by(only))
    start = time.perf_counter()
    notes = []
    with tempfile.TemporaryDirectory(prefix="gradekit-") as tmp:
        if target not in NAMED:
            folder_to_grade, notes = prepare(folder, Path(tmp), course.topics(only), STUBS, manifest)
        else:
            folder_to_grade = folder
        results = Path(tmp) / "facets.jsonl"
        child = _child(folder_to_grade, results, public_only, only, backend, call_timeout, import_timeout)
        try:
            output, _ = child.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            output, _ = child.communicate()
            notes.append(f"grading stopped after {CHILD_TIMEOUT} s; checks not reached count as failed")
        stream = _read_stream(results)
    notes = stream["notes"] + notes
    if not stream["outcomes"]:
        tail = "\n".join(output.strip().splitlines()[-5:])
        notes.append(f"the grading process produced no results (exit {child.returncode}):\n{tail}")
    if manifest is not None and manifest.pending_note():
        notes.append(manifest.pending_note())

    checks = []
    for check in stream["catalogue"] or _declared(public_only, only):
        found = []
        for facet in check["facets"]:
            got = stream["outcomes"].get(facet["id"], {"outcome": "missing", "message": "not run: grading stopped before it"})
            found.append(FacetResult(facet["name"], facet["public"], got["outcome"], printable(got["message"]),
                                     facet["weight"], facet["core"]))
        points = manifest.units[check["target"]] if manifest is not None else check["points"]
        check_notes = [*check.get("notes", ()), *stream["function_notes"].get(check["target"], ())]
        checks.append(CheckResult(check["target"], points, check["public"], tuple(found),
                                  tuple(printable(n) for n in check_notes)))
    label = target if target in NAMED else folder.name
    if manifest is not None:
        label += f" ({manifest.name})"
    return Report(label, public_only, checks, time.perf_counter() - start, [printable(n) for n in notes])
