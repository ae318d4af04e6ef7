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
from grader.assignments import HIDDEN_VISIBILITY
from grader.pytest_plugin import PROGRESS_FD
from grader.report import CheckResult, FacetResult, Report
from grader.submission import NOTHING_GRADED, nothing_graded
from grader.target import NAMED, ROOT, resolve

GRADED_TESTS = Path(__file__).with_name("graded.py")
CHILD_TIMEOUT = 1800  # seconds for the whole child; each call into the target has its own limit


def load_checks() -> list:
    """The declared checks of every topic (:func:`course.checks`)."""
    import course

    return list(course.checks())


def load_training_checks() -> list:
    """The declared training checks of every topic (:func:`course.heavy_checks`)."""
    import course

    return list(course.heavy_checks())


def printable(text: str) -> str:
    """``text`` with control and format characters escaped: a message may quote submitted text,
    and a terminal bell, cursor movement or right-to-left override has no place in a report."""
    return "".join(ch if ch in "\n\t" or ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256
                   else f"\\u{ord(ch):04x}" for ch in text)


def _declared(public_only: bool, only: tuple[str, ...]) -> list[dict[str, Any]]:
    """The catalogue from the declarations themselves (the slow way: imports torch and more)."""
    from grader.facets import catalogue

    return catalogue([*load_checks(), *load_training_checks()], public_only=public_only, only=only)


def _child(folder: Path, results: Path, public_only: bool, only: tuple[str, ...], backend: str,
           call_timeout: float, import_timeout: float, heavy: str, figures: Path | None, device: str) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "pytest", str(GRADED_TESTS), "-q", "-p", "no:cacheprovider", "-p", "grader.pytest_plugin",
        # the project's addopts (-m 'not heavy' for the test suite) must never select graded facets
        "--no-header", "-o", "addopts=",
        f"--gradekit-target={folder}", f"--gradekit-results={results}", f"--gradekit-backend={backend}",
        f"--gradekit-call-timeout={call_timeout}", f"--gradekit-import-timeout={import_timeout}",
        f"--gradekit-only={','.join(only)}", f"--gradekit-heavy={heavy}", f"--gradekit-device={device}",
    ]
    if public_only:
        command.append("--gradekit-public-only")
    if figures is not None:
        command.append(f"--gradekit-figures={figures}")
    # Only our plugin (via conftest) and hypothesis: other installed pytest plugins cost start-up time.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop(PROGRESS_FD, None)
    passed: tuple[int, ...] = ()
    if heavy != "none" and sys.stderr is not None and sys.stderr.isatty():
        env[PROGRESS_FD] = str(sys.stderr.fileno())  # training progress bars on the grader's terminal
        passed = (sys.stderr.fileno(),)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", pass_fds=passed)


def _no_stream() -> dict[str, Any]:
    return {"catalogue": None, "outcomes": {}, "notes": []}


def _read_stream(path: Path) -> dict[str, Any]:
    """Catalogue, outcomes and notes from the child's JSON lines; a torn last line is ignored."""
    found = _no_stream()
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
    return found


def _gated(checks: list[CheckResult], uses: dict[str, Any]) -> list[CheckResult]:
    """Training checks count only once the graded functions they train with pass their core math.

    The model trains next to the submission's code, which could swap in weights from elsewhere;
    with its functions wrong that earns nothing here, and with them right it earns what honest
    training would have. Functions not graded in this run do not gate.
    """
    by_target = {c.target: c for c in checks}
    out = []
    for check in checks:
        wrong = [u for u in uses.get(check.target, ()) if u in by_target and check.heavy and check.ran
                 and not all(f.outcome == "passed" for f in by_target[u].facets if f.core)]
        if wrong:
            why = (f"counts only once the functions it trains with pass their core checks; not yet: "
                   f"{', '.join(wrong)}")
            facets = tuple(FacetResult(f.name, f.public, "failed", why if f.outcome == "passed" else f"{f.message}; {why}",
                                       f.weight, f.core) for f in check.facets)
            check = CheckResult(check.target, check.max_points, check.public, facets, check.notes, check.heavy,
                                check.figures)
        out.append(check)
    return out


def grade(target: str, *, public_only: bool = False, only: tuple[str, ...] = (), backend: str = "sandbox",
          call_timeout: float = 30.0, import_timeout: float = 60.0, assignment: str | None = None,
          heavy: str | None = None, figures: Path | None = None, device: str = "auto") -> Report:
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
    heavy : {'none', 'quick', 'full'}, optional
        Size of the training checks; ``none`` reports them as not run. Default: the
        assignment's ``heavy_default``, else ``none``.
    figures : Path, optional
        Folder for the training checks' figures (PNG); none are drawn without it.
    device : {'auto', 'cpu', 'cuda'}
        Where training runs (auto: CUDA when torch sees a GPU).

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
        declared = {c.target: c for c in [*course.checks(), *course.heavy_checks()]}
        only = tuple(t for t in [*manifest.units, *manifest.heavy] if declared[t].selected_by(only))
    if heavy is None:
        heavy = manifest.heavy_level if manifest is not None else "none"
    start = time.perf_counter()
    notes = []
    if not public_only and not NAMED["solutions"].is_dir():
        public_only = True  # a student kit: hidden facets would all fail for want of the reference
        notes.append("this installation has no reference solutions (a student kit), so only the public checks ran")
    absent = {"outcome": "missing", "message": "not run: grading stopped before it"}
    with tempfile.TemporaryDirectory(prefix="gradekit-") as tmp:
        if target not in NAMED:
            folder_to_grade, prepared = prepare(folder, Path(tmp), course.topics(only), STUBS, manifest)
            notes += prepared
        else:
            folder_to_grade = folder
        if target not in NAMED and not any((folder_to_grade / f"{t}.py").is_file() for t in course.topics(only)):
            notes.insert(0, nothing_graded(folder, course.topics(only), manifest))
            absent = {"outcome": "missing", "message": NOTHING_GRADED}
            stream = _no_stream()
        else:
            results = Path(tmp) / "facets.jsonl"
            child = _child(folder_to_grade, results, public_only, only, backend, call_timeout, import_timeout,
                           heavy, figures, device)
            try:
                output, _ = child.communicate(timeout=CHILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                output, _ = child.communicate()
                notes.append(f"grading stopped after {CHILD_TIMEOUT} s; checks not reached count as failed")
            stream = _read_stream(results)
            if not stream["outcomes"]:
                tail = "\n".join(output.strip().splitlines()[-5:])
                notes.append(f"the grading process produced no results (exit {child.returncode}):\n{tail}")
    notes = stream["notes"] + notes
    if manifest is not None:
        notes += manifest.notes()

    label = target if target in NAMED else folder.name
    return _report(label, stream, absent, notes, time.perf_counter() - start, manifest, public_only, only, heavy)


def _report(label: str, stream: dict[str, Any], absent: dict[str, str], notes: list[str], seconds: float,
            manifest: assignments.Assignment | None, public_only: bool, only: tuple[str, ...],
            heavy: str = "none") -> Report:
    """Score the facets in ``stream`` (``absent`` for each one it lacks) into a ``Report``."""
    checks = []
    for check in stream["catalogue"] or _declared(public_only, only):
        found = []
        for facet in check["facets"]:
            unreached = ({"outcome": "not-run", "message": f"not run (heavy={heavy})"}
                         if check.get("heavy") and heavy == "none" else absent)
            got = stream["outcomes"].get(facet["id"], unreached)
            message = got.get("verdict") or got["message"] if got["outcome"] == "passed" else got["message"]
            found.append(FacetResult(facet["name"], facet["public"], got["outcome"], printable(message or ""),
                                     facet["weight"], facet["core"]))
        drawn = {str(p) for f in check["facets"] for p in stream["outcomes"].get(f["id"], {}).get("figures", ())}
        points = {**manifest.units, **manifest.heavy}[check["target"]] if manifest is not None else check["points"]
        checks.append(CheckResult(check["target"], points, check["public"], tuple(found),
                                  tuple(printable(n) for n in check.get("notes", ())), check.get("heavy", False),
                                  tuple(sorted(drawn))))
    checks = _gated(checks, {c["target"]: c.get("uses", ()) for c in stream["catalogue"] or ()})
    if manifest is not None:
        label += f" ({manifest.name})"
    return Report(label, public_only, checks, seconds, [printable(n) for n in notes],
                  hidden_visibility=manifest.hidden_visibility if manifest is not None else HIDDEN_VISIBILITY[0])


def ungraded(label: str, message: str, *, assignment: str | None = None, public_only: bool = False) -> Report:
    """A report in which every check of the selection scores 0 for one reason, said once in its notes
    (a submission that could not be read at all): complete, so that every output lists every test."""
    manifest = assignments.load(assignment) if assignment else None
    notes = [message, *(manifest.notes() if manifest is not None else ())]
    return _report(label, _no_stream(), {"outcome": "missing", "message": NOTHING_GRADED}, notes, 0.0, manifest,
                   public_only, (*manifest.units, *manifest.heavy) if manifest is not None else ())
