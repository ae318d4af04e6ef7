"""The sandboxed backend of the implementation handle: submitted code runs in worker processes.

A fork server (:mod:`grader.zygote`) starts once per submission; each graded function gets a
fresh worker forked from it (:mod:`grader.worker`), which imports that function's module and
serves that function's calls only, so that what one function leaves behind never reaches
another. After every call this side kills whatever the worker started and reads what it holds;
a worker past its budget (:class:`grader.isolation.Budget`) is replaced before the next call,
and the report says so under the function that caused it. This side keeps the inputs, the
references, the tolerances and the verdicts, and sees only plain data (:mod:`grader.wire`). How
the workers are confined is decided in :mod:`grader.isolation`.
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path
from typing import Any

from grader import torch_state
from grader.handle import Bound, SubmissionError, check_signature
from grader.isolation import Limits
from grader.sandbox import kill, scratch
from grader.sandbox.function import FunctionWorker, Usage
from grader.sandbox.kept import kept
from grader.sandbox.process import WorkerLost, Zygote
from grader.sandbox.staging import (
    confine,
    copy_submission,
    library_imports,
    oversized_sources,
    release,
    staging_folder,
)
from grader.worker import PR_SET_CHILD_SUBREAPER, prctl

_SETTING = (str, bool, int)
_SERVER_LOST = "stopped, killed or signalled the sandbox's fork server, which was started again"
_SHOWN = 8  # replaced names listed in a note; the rest are counted


class SandboxImplementation:
    """Runs an implementation folder in sandboxed workers, one per graded function; the handle checks talk to.

    Parameters
    ----------
    root : Path
        Folder laid out like ``stubs/``; it is copied (regular files only) before anything runs.
    label : str, optional
        Name shown in reports (default: the folder's name).
    limits : Limits, optional
        What the worker may use.
    topics : tuple of str, optional
        Topics about to be graded: the libraries their files import are imported in the worker
        ahead of the first call.
    """

    def __init__(self, root: Path, label: str | None = None, limits: Limits | None = None,
                 topics: tuple[str, ...] = ()):
        self.root = Path(root).resolve()
        self.label = label or self.root.name
        self.limits = limits or Limits()
        server = kept()
        if server is not None:  # a batch slot's: this submission is the only one it serves now
            self.isolation, self._uid_lock, self.group = server.isolation, None, server.group
            self._staging = server.staging
        else:
            self.isolation, self._uid_lock, self.group = confine(self.limits)
            self._staging = staging_folder(self.isolation)
        if sys.platform.startswith("linux"):
            prctl(PR_SET_CHILD_SUBREAPER, 1)
        self._staging_error: SubmissionError | None = None
        try:
            copy_submission(self.root, self._staging / "submission", self.limits.submission)
        except SubmissionError as err:
            self._staging_error = err
        # target or topic -> why it is not called again; oversized sources fail before any parse
        self._failed: dict[str, str] = oversized_sources(self._staging / "submission", self.limits.source)
        if server is not None:
            self.zygote, self._kept = server.zygote, server.zygote.proc
            self.zygote.adopt()
        else:
            prefetch = library_imports([self._staging / "submission" / f"{t}.py" for t in topics
                                        if t not in self._failed])
            self.zygote, self._kept = Zygote(self._staging, self.isolation, self.limits, prefetch, self.group), None
            self.zygote.spawn()
        self._current: FunctionWorker | None = None
        self._crashes: collections.Counter[str] = collections.Counter()
        self._replaced: collections.Counter[str] = collections.Counter()  # workers retired past their budget
        self._signatures: dict[str, SubmissionError | None] = {}
        self._notes: dict[str, dict[str, list]] = collections.defaultdict(dict)  # target -> kind -> [text, times]

    def describe(self) -> str:
        return self.isolation.describe(self.limits)

    def function_notes(self) -> dict[str, list[str]]:
        """What each function's workers did that cost a replacement or shaped its grading, by target."""
        return {target: [text if times == 1 else f"{text} ({times} times)" for text, times in kinds.values()]
                for target, kinds in self._notes.items()}

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        if self._kept is not None and self.zygote.proc is self._kept:
            kill.kill_below(self.zygote.pid)  # the slot clears the rest before its next submission
            return
        self.zygote.kill()
        if self._kept is None:
            release(self._staging, self._uid_lock, self.group)
            self._uid_lock = None

    # -- the handle ---------------------------------------------------------------------------

    def bind(self, target: str) -> Bound:
        return Bound(self, target)

    def call(self, target: str, /, *args: Any, **kwargs: Any) -> Any:
        return self._run(target, {"op": "call", "target": target, "args": list(args), "kwargs": kwargs})

    def scenario(self, name: str, /, target: str, *, time_limit: float | None = None, **inputs: Any) -> Any:
        message = {"op": "scenario", "name": name, "target": target, "inputs": inputs}
        if time_limit is None:
            return self._run(target, message)
        # a training run: its own budget, and a timeout or crash there costs only that run
        key = f"{name} ({target})"
        if key in self._failed:
            raise SubmissionError(self._failed[key])
        return self._run(target, message, time_limit, key)

    def _run(self, target: str, message: dict[str, Any], timeout: float | None = None, key: str | None = None) -> Any:
        self._preflight(target)
        worker = self._worker(target)
        return self._request(worker, message, timeout or self.limits.call_timeout, key)["ok"]

    # -- one worker per function ----------------------------------------------------------------

    def _worker(self, target: str) -> FunctionWorker:
        """The worker serving ``target``: the current one, or a fresh one that has imported its module."""
        current = self._current
        if current is not None and current.target == target and not current.retired:
            return current
        self._retire()
        try:
            worker = FunctionWorker(self.zygote, target)
        except RuntimeError:  # the fork server died or hung: one fresh start before calling it a grader error
            self._restart()
            worker = FunctionWorker(self.zygote, target)
        self._current = worker
        topic = target.partition(".")[0]
        self._request(worker, {"op": "load", "topic": topic}, self.limits.import_timeout)
        if self._current is not worker:  # its import stopped the fork server: everything was restarted
            raise SubmissionError(f"importing {topic}.py {_SERVER_LOST}")
        return worker

    def _retire(self) -> None:
        """End the current worker and all it started, and empty the scratch for the next."""
        worker, self._current = self._current, None
        if worker is not None:
            worker.close()
        if self.zygote.pid is None:
            return
        kill.kill_below(self.zygote.pid, spare=self.zygote.spare)
        if self.zygote.alive():
            self.zygote.empty_scratch()
            return
        if worker is not None:
            self._server_lost(worker.target)
        else:
            self._restart()

    def _restart(self) -> None:
        """Kill the fork server and everything of the submission; the next worker starts a fresh one."""
        if self._current is not None:
            self._current.close()
            self._current = None
        self.zygote.kill()
        if not self.isolation.bubblewrap:  # bubblewrap's scratch went with its namespace
            scratch.empty(self._staging / "scratch")

    def _server_lost(self, target: str) -> None:
        """``target``'s worker stopped, killed or signalled the fork server: a crash of its own."""
        self._note(target, "server", _SERVER_LOST)
        self._crashes[target] += 1
        if self._crashes[target] >= self.limits.crashes_per_target:
            self._failed[target] = f"{target} {_SERVER_LOST} {self._crashes[target]} times; not run again"
        self._restart()

    def _note(self, target: str, kind: str, text: str) -> None:
        found = self._notes[target].setdefault(kind, [text, 0])
        found[1] += 1

    def _preflight(self, target: str) -> None:
        if self._staging_error is not None:
            raise self._staging_error
        topic = target.partition(".")[0]
        if not (self._staging / "submission" / f"{topic}.py").is_file():
            raise SubmissionError(f"the submission has no {topic}.py (looked in {self.root})")
        for key in (topic, target):
            if key in self._failed:
                raise SubmissionError(self._failed[key])
        if target not in self._signatures:
            try:
                check_signature(self._staging / "submission", target)
                self._signatures[target] = None
            except SubmissionError as err:
                self._signatures[target] = err
        if self._signatures[target] is not None:
            raise self._signatures[target]

    def _request(self, worker: FunctionWorker, message: dict[str, Any], timeout: float,
                 key: str | None = None) -> dict[str, Any]:
        """One request to ``worker``; a crash or a timeout costs ``key`` (default: its target; its
        topic, while importing)."""
        load = message["op"] == "load"
        key = worker.target.partition(".")[0] if load else key or worker.target
        what = f"importing {key}.py" if load else key
        try:
            reply = worker.request(message, timeout)
        except WorkerLost as lost:
            self._retire()
            self._crashes[key] += 1
            text = f"{what} {lost}"
            if lost.timed_out or load or self._crashes[key] >= self.limits.crashes_per_target:
                self._failed[key] = f"{text}; not run again"
            raise SubmissionError(text) from None
        self._upkeep(worker, reply)
        if "error" in reply:
            error = reply["error"] if type(reply["error"]) is str else "an unreadable error"
            mro = tuple(m for m in reply.get("mro", ()) if type(m) is str)[:32]
            err = SubmissionError(error[:2000], mro)
            if load:
                self._failed[key] = str(err)
            raise err
        return reply

    # -- after each call ----------------------------------------------------------------------------

    def _upkeep(self, worker: FunctionWorker, reply: dict[str, Any]) -> None:
        """Kill what the worker started; retire it when it holds more than its budget or changed torch's settings."""
        target = worker.target
        if self.zygote.pid is None:  # lost while the spare was awaited: everything was killed
            self._server_lost(target)
            return
        usage = worker.usage()
        single = frozenset({worker.pid}) if usage is not None and usage.threads == 1 else frozenset()
        problems = []
        left = kill.kill_below(self.zygote.pid, frozenset({worker.pid}), self.zygote.spare, single)
        # Checked once nothing is left that could still signal the fork server but the worker, which
        # waits for its next request (or, with a thread left running, is replaced, and checked again).
        if not self.zygote.alive():
            self._server_lost(target)
            return
        if left:
            plural = "es" if left > 1 else ""
            problems.append(("processes", f"left {left} process{plural} running after a call (killed)"))
        settings = reply.get("state")
        if type(settings) is not dict or not all(type(v) in _SETTING for v in settings.values()):
            settings = None
        if usage is None:
            worker.retired.append("ended")
            return
        if worker.imported is None:  # the reply to its import: the starting point of its budgets
            worker.imported, worker.settings = usage, settings
            self._note_import(worker, reply, settings)
        else:
            problems += self._over_budget(worker, usage, settings)
        if not problems:
            return
        if self._replaced[target] >= self.limits.budget.replacements:
            self._note(target, "kept", f"past its budget after {self._replaced[target]} replacements, it kept its "
                                       "worker: what it left behind reached only its own later calls")
            return
        self._replaced[target] += 1
        for kind, text in problems:
            self._note(target, kind, f"{text}: its worker was replaced before the next call")
            worker.retired.append(kind)

    def _over_budget(self, worker: FunctionWorker, usage: Usage,
                     settings: dict[str, Any] | None) -> list[tuple[str, str]]:
        budget, imported = self.limits.budget, worker.imported
        problems = []
        extra = usage.descriptors - imported.descriptors
        if extra > budget.descriptors:
            text = f"kept {extra} more descriptors open than after its import (budget: {budget.descriptors})"
            problems.append(("descriptors", text))
        extra = usage.threads - imported.threads
        if extra > budget.threads:
            text = f"left {extra} more thread(s) running than after its import (budget: {budget.threads})"
            problems.append(("threads", text))
        if usage.resident > budget.resident:
            problems.append(("memory", f"held {usage.resident >> 20} MiB of memory (budget: {budget.resident >> 20} MiB)"))
        entries, size = self.zygote.scratch_usage()
        if entries > budget.scratch_entries or size > budget.scratch:
            counted = f"over {budget.scratch_entries}" if entries > budget.scratch_entries else str(entries)
            text = (f"left {counted} files and folders ({size >> 20} MiB) in the scratch folder "
                    f"(budget: {budget.scratch_entries}, {budget.scratch >> 20} MiB)")
            problems.append(("scratch", text))
        if settings is None or worker.settings is None:
            problems.append(("settings", "did not report torch's settings after a call"))
        elif settings != worker.settings:
            changed = ", ".join(torch_state.differences(worker.settings, settings))
            problems.append(("settings", f"changed torch's settings: {changed}"))
        return problems

    def _note_import(self, worker: FunctionWorker, reply: dict[str, Any], settings: dict[str, Any] | None) -> None:
        """Say under the function what importing its module changed in torch, if anything."""
        replaced = [n for n in reply.get("replaced", ()) if type(n) is str] if type(reply.get("replaced")) is list else []
        before = reply.get("before")
        changed = []
        if replaced:
            shown = ", ".join(replaced[:_SHOWN])
            more = f" and {len(replaced) - _SHOWN} more" if len(replaced) > _SHOWN else ""
            changed.append(f"replaced {shown}{more}")
        if type(before) is dict and settings is not None and before != settings:
            changed.append(f"changed torch's settings: {', '.join(torch_state.differences(before, settings))}")
        if changed:
            topic = worker.target.partition(".")[0]
            self._note(worker.target, "import", f"importing {topic}.py {' and '.join(changed)}; its functions were "
                                                "graded with that change, the other files' functions without it")
