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
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from grader import assignments
from grader.assignments import HIDDEN_VISIBILITY
from grader.pytest_plugin import PROGRESS_FD
from grader.report import CheckResult, FacetResult, Report
from grader.submission import NOTHING_GRADED, nothing_graded
from grader.target import NAMED, ROOT, resolve

GRADED_TESTS = Path(__file__).with_name("graded.py")
CHILD_TIMEOUT = 1800  # seconds for the whole child, training aside; each call into the target has its own limit


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


CHILD_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only our plugin (via -p) and hypothesis: others cost start-up time


class Child(Protocol):
    """A running grading child: what :func:`grade` needs of a ``subprocess.Popen``."""

    returncode: int | None

    def communicate(self, timeout: float | None = None) -> tuple[str, Any]: ...

    def kill(self) -> None: ...


Launch = Callable[[list[str], Path, str], Child]  # (pytest's arguments, a scratch folder, heavy) -> the running child


def time_limit(only: tuple[str, ...], heavy: str) -> float:
    """Seconds for the whole grading child: :data:`CHILD_TIMEOUT`, plus twice the budget of each
    training check it trains (the training call, then data loading and evaluation)."""
    import course

    if heavy == "none":
        return CHILD_TIMEOUT
    return CHILD_TIMEOUT + sum(2 * h.sizes[heavy].budget for h in course.heavy_checks() if h.selected_by(only))


def pytest_arguments(folder: Path, results: Path, public_only: bool, only: tuple[str, ...], backend: str,
                     call_timeout: float, import_timeout: float, heavy: str, figures: Path | None,
                     device: str) -> list[str]:
    """The grading child's pytest arguments (run from ``ROOT`` with ``CHILD_ENV``)."""
    arguments = [
        str(GRADED_TESTS), "-q", "-p", "no:cacheprovider", "-p", "grader.pytest_plugin",
        # the project's addopts (-m 'not heavy' for the test suite) must never select graded facets
        "--no-header", "-o", "addopts=",
        f"--gradekit-target={folder}", f"--gradekit-results={results}", f"--gradekit-backend={backend}",
        f"--gradekit-call-timeout={call_timeout}", f"--gradekit-import-timeout={import_timeout}",
        f"--gradekit-only={','.join(only)}", f"--gradekit-heavy={heavy}", f"--gradekit-device={device}",
    ]
    if public_only:
        arguments.append("--gradekit-public-only")
    if figures is not None:
        arguments.append(f"--gradekit-figures={figures}")
    return arguments


def _spawn(arguments: list[str], _scratch: Path, heavy: str) -> subprocess.Popen:
    """A fresh interpreter: the default way to start the grading child."""
    env = {**os.environ, **CHILD_ENV}
    env.pop(PROGRESS_FD, None)
    passed: tuple[int, ...] = ()
    if heavy != "none" and sys.stderr is not None and sys.stderr.isatty():
        env[PROGRESS_FD] = str(sys.stderr.fileno())  # training progress bars on the grader's terminal
        passed = (sys.stderr.fileno(),)
    return subprocess.Popen([sys.executable, "-m", "pytest", *arguments], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                            pass_fds=passed)


def _child(folder: Path, results: Path, public_only: bool, only: tuple[str, ...], backend: str,
           call_timeout: float, import_timeout: float, heavy: str, figures: Path | None, device: str,
           launch: Launch = _spawn) -> Child:
    arguments = pytest_arguments(folder, results, public_only, only, backend, call_timeout, import_timeout, heavy,
                                 figures, device)
    return launch(arguments, results.parent, heavy)


def _read_stream(path: Path) -> dict[str, Any]:
    """Catalogue, outcomes and notes from the child's JSON lines; a torn last line is ignored."""
    found: dict[str, Any] = {"catalogue": None, "outcomes": {}, "notes": [], "finished": False, "function_notes": {}}
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
            found["notes"], found["finished"] = event["notes"], True
            found["function_notes"] = event.get("function_notes", {})
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
        skipped = all(f.outcome == "skipped" for f in check.facets)  # its optional extra is missing: nothing to gate
        wrong = [u for u in uses.get(check.target, ()) if u in by_target and check.heavy and check.ran and not skipped
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
          heavy: str | None = None, figures: Path | None = None, device: str = "auto",
          launch: Launch | None = None, scratch: Path | None = None) -> Report:
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
        assignment's ``heavy`` setting, else ``none``.
    figures : Path, optional
        Folder for the training checks' figures (PNG); none are drawn without it.
    device : {'auto', 'cpu', 'cuda'}
        Where training runs (auto: CUDA when torch sees a GPU).
    launch : callable, optional
        Starts the grading child from its pytest arguments, a scratch folder and ``heavy``
        (default: a fresh interpreter; ``grader batch`` forks a process that imported the checks once).
    scratch : Path, optional
        Where the submission is unpacked and laid out (default: the system's temporary folder).

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
    only = selected(manifest, only)
    if heavy is None:
        heavy = manifest.heavy_level if manifest is not None else "none"
    start = time.perf_counter()
    notes = []
    if not public_only and not NAMED["solutions"].is_dir():
        public_only = True  # a student kit: hidden facets would all fail for want of the reference
        notes.append("this installation has no reference solutions (a student kit), so only the public checks ran")
    label = target if target in NAMED else folder.name
    with tempfile.TemporaryDirectory(prefix="gradekit-", dir=scratch) as tmp:
        if target not in NAMED:
            folder_to_grade, prepared = prepare(folder, Path(tmp), course.topics(only), STUBS, manifest)
            notes += prepared
        else:
            folder_to_grade = folder
        if target not in NAMED and not any((folder_to_grade / f"{t}.py").is_file() for t in course.topics(only)):
            reason = nothing_graded(folder, course.topics(only), manifest)
            report = ungraded(label, reason, public_only=public_only, only=only, assignment=assignment, heavy=heavy,
                              message=NOTHING_GRADED, notes=notes)
            report.seconds = time.perf_counter() - start
            return report
        results = Path(tmp) / "facets.jsonl"
        child = _child(folder_to_grade, results, public_only, only, backend, call_timeout, import_timeout,
                       heavy, figures, device, launch or _spawn)
        stopped, limit = "", time_limit(only, heavy)
        try:
            output, _ = child.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            from grader.sandbox.staging import sweep

            child.kill()
            output, _ = child.communicate()
            sweep()  # the sandboxes the killed child could not release
            stopped = f"grading stopped after {limit:.0f} s"
            notes.append(f"{stopped}; checks not reached count as failed")
        stream = _read_stream(results)
    notes = stream["notes"] + notes
    tail = "\n".join(output.strip().splitlines()[-5:])
    if not stream["outcomes"]:
        notes.append(f"the grading process produced no results (exit {child.returncode}):\n{tail}")
    if manifest is not None:
        notes += manifest.notes()
    # pytest ran to its end when it exits 0, 1 (some failed) or 5 (nothing selected); 2 (interrupted),
    # 3 (internal error) or a signal is no verdict
    incomplete = "" if stream["finished"] and child.returncode in (0, 1, 5) else printable(
        stopped or f"the grading process ended before the last check (exit {child.returncode}): {tail[-300:]}")
    catalogue = stream["catalogue"] or _declared(public_only, only)
    report = _report(label, catalogue, stream["outcomes"], manifest, heavy, public_only, notes,
                     stream["function_notes"])
    report.seconds, report.incomplete = time.perf_counter() - start, incomplete
    return report


def ungraded(label: str, reason: str, *, public_only: bool = False, only: tuple[str, ...] = (),
             assignment: str | None = None, heavy: str | None = None, message: str | None = None,
             notes: list[str] = ()) -> Report:
    """The report of a submission that was not graded: every check declared, no facet run, ``reason`` said
    once above the tests (each facet says ``message``, by default "not graded: <reason>"); then ``notes``.

    Raises
    ------
    grader.assignments.AssignmentError
        For an unknown assignment or a manifest that is not valid.
    """
    manifest = assignments.load(assignment) if assignment else None
    only = selected(manifest, only)
    heavy = heavy or (manifest.heavy_level if manifest is not None else "none")
    catalogue = _declared(public_only, only)
    outcomes = {f["id"]: {"outcome": "missing", "message": message or f"not graded: {reason}"}
                for check in catalogue for f in check["facets"] if not (check.get("heavy") and heavy == "none")}
    notes = [reason, *notes, *(manifest.notes() if manifest is not None else ())]
    return _report(label, catalogue, outcomes, manifest, heavy, public_only, notes)


def selected(manifest: assignments.Assignment | None, only: tuple[str, ...]) -> tuple[str, ...]:
    """``only``, narrowed to the assignment's units and training checks when there is one, in its order."""
    import course

    if manifest is None:
        return only
    declared = {c.target: c for c in [*course.checks(), *course.heavy_checks()]}
    return tuple(t for t in [*manifest.units, *manifest.heavy] if declared[t].selected_by(only))


def _report(label: str, catalogue: list[dict[str, Any]], outcomes: dict[str, Any],
            manifest: assignments.Assignment | None, heavy: str, public_only: bool, notes: list[str],
            function_notes: dict[str, list[str]] | None = None) -> Report:
    """Score the catalogue's facets by their outcomes; a facet with no outcome was never reached.
    ``function_notes`` are the sandbox's notes under a function (the worker it left over budget)."""
    function_notes = function_notes or {}
    checks = []
    for check in catalogue:
        found = []
        for facet in check["facets"]:
            unreached = ({"outcome": "not-run", "message": f"not run (heavy={heavy})"} if check.get("heavy") and heavy == "none"
                         else {"outcome": "missing", "message": "not run: grading stopped before it"})
            got = outcomes.get(facet["id"], unreached)
            message = got.get("verdict") or got["message"] if got["outcome"] == "passed" else got["message"]
            found.append(FacetResult(facet["name"], facet["public"], got["outcome"], printable(message or ""),
                                     facet["weight"], facet["core"]))
        drawn = {str(p) for f in check["facets"] for p in outcomes.get(f["id"], {}).get("figures", ())}
        points = ({**manifest.units, **manifest.heavy}[check["target"]] if manifest is not None else check["points"])
        check_notes = [*check.get("notes", ()), *function_notes.get(check["target"], ())]
        checks.append(CheckResult(check["target"], points, check["public"], tuple(found),
                                  tuple(printable(n) for n in check_notes), check.get("heavy", False),
                                  tuple(sorted(drawn))))
    checks = _gated(checks, {c["target"]: c.get("uses", ()) for c in catalogue})
    if manifest is not None:
        label += f" ({manifest.name})"
    return Report(label, public_only, checks, 0.0, [printable(n) for n in notes],
                  hidden_visibility=manifest.hidden_visibility if manifest is not None else HIDDEN_VISIBILITY[0])
