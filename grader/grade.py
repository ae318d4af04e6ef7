"""Grade one implementation: run the checks in a child process, then score from declarations.

The child is pytest over ``tests/test_graded.py`` with the gradekit plugin; it reports one
outcome per facet. The points and the list of facets come from the declarations, loaded here,
so that a child that dies early still leaves every check in the report, failed.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.target import ROOT, resolve

GRADED_TESTS = ROOT / "tests" / "test_graded.py"
CHILD_TIMEOUT = 1800  # seconds for the whole child; later a per-call limit lives in the worker


def load_checks() -> list:
    """The declared checks of this checkout (``tests/checks``), importable from anywhere."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.checks import CHECKS

    return CHECKS


def _run_child(folder: Path, results: Path, public_only: bool) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "pytest", str(GRADED_TESTS), "-q", "-p", "no:cacheprovider", "--no-header",
        f"--gradekit-target={folder}", f"--gradekit-results={results}",
    ]
    if public_only:
        command.append("--gradekit-public-only")
    return subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def grade(target: str, *, public_only: bool = False):
    """Grade ``target`` ('solutions', 'stubs' or a folder) and return a ``Report``.

    Raises
    ------
    grader.target.TargetError
        When ``target`` names no implementation folder.
    """
    import json

    from grader.facets import facets
    from grader.report import CheckResult, FacetResult, Report

    folder = resolve(target)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gradekit-") as tmp:
        results = Path(tmp) / "facets.json"
        child = _run_child(folder, results, public_only)
        checks_declared = load_checks()  # while the child runs: the declarations set the points

        notes = []
        try:
            output, _ = child.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            output, _ = child.communicate()
            notes.append(f"grading stopped after {CHILD_TIMEOUT} s; checks not reached count as failed")
        outcomes = json.loads(results.read_text()) if results.exists() else {}
    if not outcomes:
        tail = "\n".join(output.strip().splitlines()[-5:])
        notes.append(f"the grading process produced no results (exit {child.returncode}):\n{tail}")

    checks = []
    for check in checks_declared:
        if public_only and not check.public:
            continue
        found = []
        for facet in facets(check, public_only=public_only):
            got = outcomes.get(facet.id, {"outcome": "missing", "message": "not run: grading stopped before it"})
            found.append(FacetResult(facet.name, facet.public, got["outcome"], got["message"]))
        checks.append(CheckResult(check.target, check.points, check.public, tuple(found)))
    label = target if target in ("solutions", "stubs") else folder.name
    return Report(label, public_only, checks, time.perf_counter() - start, notes)
