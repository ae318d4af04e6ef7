"""The gradekit pytest plugin: choose the implementation, record each facet's outcome.

Loaded by ``tests/conftest.py`` and by the grader's child process. Options live in one
``gradekit`` group; results are recorded only when ``--gradekit-results`` asks for them.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

TARGET = "--gradekit-target"
PUBLIC_ONLY = "--gradekit-public-only"
RESULTS = "--gradekit-results"
PROFILE = "gradekit"
_recorder_key = pytest.StashKey["Recorder"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradekit", "grading an implementation with gradekit")
    group.addoption(TARGET, default="solutions", metavar="TARGET",
                    help="implementation to grade: 'solutions', 'stubs' or a submission folder (default: solutions)")
    group.addoption(PUBLIC_ONLY, action="store_true", help="run only the public facets; no reference solution needed")
    group.addoption(RESULTS, metavar="PATH", help="write each facet's outcome as JSON to PATH")


def pytest_configure(config: pytest.Config) -> None:
    from hypothesis import settings

    # Grading is reproducible: no example database, no deadline, seeds from each check's id.
    settings.register_profile(PROFILE, database=None, deadline=None, print_blob=True)
    settings.load_profile(PROFILE)
    config.addinivalue_line("markers", "hidden: a facet students do not see (needs the reference solution)")
    if config.getoption(RESULTS):
        config.stash[_recorder_key] = recorder = Recorder(Path(config.getoption(RESULTS)))
        config.pluginmanager.register(recorder, "gradekit-recorder")


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = config.stash.get(_recorder_key, None)
    if recorder is not None:
        del config.stash[_recorder_key]
        config.pluginmanager.unregister(recorder)


def pytest_report_header(config: pytest.Config) -> str:
    public = "public facets only" if config.getoption(PUBLIC_ONLY) else "public and hidden facets"
    return f"gradekit: target {config.getoption(TARGET)}, {public}, hypothesis profile {PROFILE!r}, seeds crc32(check id)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption(PUBLIC_ONLY):
        return
    hidden = [item for item in items if item.get_closest_marker("hidden")]
    if hidden:
        config.hook.pytest_deselected(items=hidden)
        items[:] = [item for item in items if not item.get_closest_marker("hidden")]


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config):
    """The implementation under test, behind the handle every check goes through."""
    from grader.handle import LocalImplementation
    from grader.target import TargetError, resolve

    target = pytestconfig.getoption(TARGET)
    try:
        return LocalImplementation(resolve(target), label=target)
    except TargetError as err:
        raise pytest.UsageError(str(err)) from None


@pytest.fixture(scope="session")
def reference(pytestconfig: pytest.Config):
    """The reference solution, for hidden facets only."""
    from grader.handle import LocalImplementation
    from grader.target import NAMED

    if pytestconfig.getoption(PUBLIC_ONLY) or not NAMED["solutions"].is_dir():
        pytest.skip("hidden facets need the reference solution")
    return LocalImplementation(NAMED["solutions"], label="reference")


def classify(excinfo: pytest.ExceptionInfo | None) -> tuple[str, str]:
    """(outcome, message) of a facet from the exception it raised, if any."""
    from grader.facets import CheckFailure
    from grader.handle import SubmissionError

    if excinfo is None:
        return "passed", ""
    err = excinfo.value
    notes = [n for n in getattr(err, "__notes__", []) if n.startswith("Falsifying")]
    if isinstance(err, (CheckFailure, SubmissionError)):
        return "failed", "\n".join([str(err), *notes])
    if isinstance(err, pytest.skip.Exception):
        return "skipped", str(err)
    return "error", f"grader error ({type(err).__name__}: {err}); please report it to the course staff"


class Recorder:
    """Collects one outcome per facet and writes them atomically when the session ends."""

    def __init__(self, path: Path):
        self.path = path
        self.outcomes: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        facet = getattr(item, "callspec", None) and item.callspec.params.get("facet")
        if facet is None or (call.when != "call" and not report.failed and not report.skipped):
            return
        result, message = classify(call.excinfo)
        self.outcomes[facet.id] = {"outcome": result, "message": message, "seconds": round(call.duration, 4)}

    def pytest_sessionfinish(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".facets-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.outcomes, handle)
        os.replace(tmp, self.path)
