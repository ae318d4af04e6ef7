"""The gradekit pytest plugin: choose the implementation, record each facet's outcome.

Loaded by ``tests/conftest.py`` and by the grader's child process (``-p grader.pytest_plugin``). Options live in one
``gradekit`` group; results are recorded only when ``--gradekit-results`` asks for them.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

TARGET = "--gradekit-target"
PUBLIC_ONLY = "--gradekit-public-only"
RESULTS = "--gradekit-results"
ONLY = "--gradekit-only"
BACKEND = "--gradekit-backend"
CALL_TIMEOUT = "--gradekit-call-timeout"
IMPORT_TIMEOUT = "--gradekit-import-timeout"
HEAVY = "--gradekit-heavy"
FIGURES = "--gradekit-figures"
DEVICE = "--gradekit-device"
PROGRESS_FD = "GRADEKIT_PROGRESS_FD"  # a terminal the grader hands its child for progress bars
BACKENDS = ("sandbox", "in-process")
PROFILE = "gradekit"
_recorder_key = pytest.StashKey["Recorder"]()
_impl_key = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradekit", "grading an implementation with gradekit")
    group.addoption(TARGET, default="solutions", metavar="TARGET",
                    help="implementation to grade: 'solutions', 'stubs' or a submission folder (default: solutions)")
    group.addoption(PUBLIC_ONLY, action="store_true", help="run only the public facets; no reference solution needed")
    group.addoption(RESULTS, metavar="PATH", help="write each facet's outcome as JSON to PATH")
    group.addoption(BACKEND, choices=BACKENDS, default="sandbox",
                    help="run the target in a sandboxed worker (default) or in this process (trusted code only)")
    group.addoption(CALL_TIMEOUT, type=float, default=30.0, metavar="SECONDS",
                    help="wall-clock limit of one call into the sandboxed target (default: 30)")
    group.addoption(IMPORT_TIMEOUT, type=float, default=60.0, metavar="SECONDS",
                    help="wall-clock limit of importing one module of the sandboxed target (default: 60)")
    group.addoption(ONLY, default="", metavar="NAMES",
                    help="comma-separated topics or topic.function names to grade (default: all)")
    group.addoption(HEAVY, choices=("none", "quick", "full"), default="none",
                    help="train the training checks at this size; 'none' records them as not run (default)")
    group.addoption(FIGURES, metavar="DIR", help="save the training checks' figures (PNG) under DIR")
    group.addoption(DEVICE, choices=("auto", "cpu", "cuda"), default="auto",
                    help="where training runs: CUDA when torch sees a GPU (auto, the default), or as given")


def pytest_configure(config: pytest.Config) -> None:
    from hypothesis import settings

    # Grading is reproducible: no example database, no deadline, seeds from each check's id.
    settings.register_profile(PROFILE, database=None, deadline=None, print_blob=True)
    settings.load_profile(PROFILE)
    config.addinivalue_line("markers", "hidden: a facet students do not see (needs the reference solution)")
    if config.getoption(RESULTS):
        config.stash[_recorder_key] = recorder = Recorder(Path(config.getoption(RESULTS)), config)
        config.pluginmanager.register(recorder, "gradekit-recorder")
        config.pluginmanager.register(BriefFailures(), "gradekit-brief-failures")
        _implementation(config)  # the grader's child: start the worker while collection imports


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    impl = config.stash.get(_impl_key, None)
    if impl is not None:
        impl.close()
    config.stash[_impl_key] = None
    recorder = config.stash.get(_recorder_key, None)
    if recorder is not None:
        del config.stash[_recorder_key]
        config.pluginmanager.unregister(recorder)
        # The grader's child has written everything: skip interpreter teardown (1.5 s with torch).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(recorder.exitstatus)


def _implementation(config: pytest.Config):
    """The implementation chosen on the command line, made once per session."""
    from grader.handle import LocalImplementation
    from grader.target import TargetError, resolve

    impl = config.stash.get(_impl_key, None)
    if impl is not None:
        return impl
    target = config.getoption(TARGET)
    try:
        folder = resolve(target)
    except TargetError as err:
        raise pytest.UsageError(str(err)) from None
    if config.getoption(BACKEND) == "in-process":
        impl = LocalImplementation(folder, label=target)
    else:
        import course
        from grader.isolation import Limits
        from grader.sandbox import SandboxImplementation

        topics = tuple(course.topics(only(config)))
        limits = Limits(call_timeout=config.getoption(CALL_TIMEOUT), import_timeout=config.getoption(IMPORT_TIMEOUT))
        impl = SandboxImplementation(folder, label=target, limits=limits, topics=topics)
    config.stash[_impl_key] = impl
    return impl


def pytest_report_header(config: pytest.Config) -> str:
    public = "public facets only" if config.getoption(PUBLIC_ONLY) else "public and hidden facets"
    return f"gradekit: target {config.getoption(TARGET)}, {public}, hypothesis profile {PROFILE!r}, seeds crc32(check id)"


def only(config: pytest.Config) -> tuple[str, ...]:
    return tuple(name for name in config.getoption(ONLY).split(",") if name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    public_only, names = config.getoption(PUBLIC_ONLY), only(config)

    def wanted(item: pytest.Item) -> bool:
        facet = _facet(item)
        if facet is None:
            return True
        return facet.check.selected_by(names) and not (public_only and item.get_closest_marker("hidden"))

    dropped = [item for item in items if not wanted(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if wanted(item)]
    if config.getoption(RESULTS):
        # The grader's child: a function's facets, public and hidden, run one after the other, so
        # that the fresh worker each function gets (grader.sandbox) is forked once, not twice.
        order: dict[str, int] = {}
        for item in items:
            order.setdefault(_target(item), len(order))
        items.sort(key=lambda item: order[_target(item)])


def _facet(item: pytest.Item) -> Any:
    """The facet a graded test runs, or None for any other test (and for the placeholder pytest
    makes of a parametrisation with no values: a kit without training checks)."""
    facet = getattr(item, "callspec", None) and item.callspec.params.get("facet")
    return facet if hasattr(facet, "check") else None


def _target(item: pytest.Item) -> str:
    facet = _facet(item)
    return facet.check.target if facet is not None else ""


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    impl = config.stash.get(_impl_key, None)
    return impl.describe() if impl is not None else None


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config):
    """The implementation under test, behind the handle every check goes through."""
    return _implementation(pytestconfig)


@pytest.fixture(scope="session")
def reference(pytestconfig: pytest.Config):
    """The reference solution, for hidden facets only."""
    from grader.handle import LocalImplementation
    from grader.target import NAMED

    if pytestconfig.getoption(PUBLIC_ONLY) or not NAMED["solutions"].is_dir():
        pytest.skip("hidden facets need the reference solution")
    return LocalImplementation(NAMED["solutions"], label="reference")


@pytest.fixture(scope="session")
def training(pytestconfig: pytest.Config):
    """The session's training runs (:class:`grader.heavy.Training`) at the ``--gradekit-heavy`` level."""
    from grader.heavy import Training

    figures = pytestconfig.getoption(FIGURES)
    progress = None
    if os.environ.get(PROGRESS_FD, "").isdigit():
        progress = open(int(os.environ[PROGRESS_FD]), "w", closefd=False)  # noqa: SIM115 - the session's
    return Training(pytestconfig.getoption(HEAVY), Path(figures) if figures else None,
                    pytestconfig.getoption(DEVICE), progress)


def classify(excinfo: pytest.ExceptionInfo | None) -> tuple[str, str]:
    """(outcome, message) of a facet from the exception it raised, if any."""
    from grader.facets import CheckFailure
    from grader.handle import SubmissionError
    from grader.heavy import NotRun

    if excinfo is None:
        return "passed", ""
    err = excinfo.value
    if isinstance(err, NotRun):
        return "not-run", str(err)
    notes = [n for n in getattr(err, "__notes__", []) if n.startswith("Falsifying")]
    if isinstance(err, (CheckFailure, SubmissionError)):
        return "failed", "\n".join([str(err), *notes])
    if isinstance(err, pytest.skip.Exception):
        return "skipped", str(err)
    return "error", f"grader error ({type(err).__name__}: {err}); please report it to the course staff"


class BriefFailures:
    """In the grader's child, a facet that fails the check is reported by its message alone.

    The recorder reads the exception itself; pytest's traceback with source excerpts would only
    reach the child's log, and costs tens of milliseconds per failing facet. An unexpected error (a grader
    bug) keeps its full traceback there, for whoever reports it.
    """

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
        from grader.facets import CheckFailure
        from grader.handle import SubmissionError

        if call.when != "call" or call.excinfo is None or not isinstance(call.excinfo.value, (CheckFailure, SubmissionError)):
            return None
        sections = [(f"Captured {key} {when}", text) for when, key, text in getattr(item, "_report_sections", ())]
        return pytest.TestReport(item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed",
                                 classify(call.excinfo)[1], call.when, sections, call.duration, call.start, call.stop,
                                 item.user_properties)


class Recorder:
    """Streams what the grader needs, one JSON object per line, flushed as it goes.

    First the catalogue (the selected checks, their points and facets), then one line per facet
    outcome, then the run's notes. A child that dies midway still leaves every finished line.
    """

    def __init__(self, path: Path, config: pytest.Config):
        self.config = config
        self.exitstatus = 1
        self.handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole session

    def _line(self, obj: dict[str, Any]) -> None:
        self.handle.write(json.dumps(obj) + "\n")
        self.handle.flush()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        import course
        from grader.facets import catalogue
        from grader.handle import signature_note
        from grader.target import resolve

        selected = catalogue([*course.checks(), *course.heavy_checks()], public_only=self.config.getoption(PUBLIC_ONLY), only=only(self.config))
        folder = resolve(self.config.getoption(TARGET))
        for check in selected:
            note = None if check["heavy"] else signature_note(folder, check["target"])
            check["notes"] = [note] if note else []
        self._line({"catalogue": selected})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        facet = _facet(item)
        if facet is None or (call.when != "call" and not report.failed and not report.skipped):
            return
        result, message = classify(call.excinfo)
        line = {"facet": facet.id, "outcome": result, "message": message, "seconds": round(call.duration, 4)}
        line.update((key, value) for key, value in report.user_properties if key in ("verdict", "figures"))
        self._line(line)

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self.exitstatus = int(exitstatus)
        impl = self.config.stash.get(_impl_key, None)
        notes = [note for note in [impl.describe() if impl is not None else None] if note]
        self._line({"notes": notes, "function_notes": impl.function_notes() if impl is not None else {}})
        self.handle.close()
