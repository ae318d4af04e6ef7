"""The sandboxed backend of the implementation handle: submitted code runs in a worker process.

The worker (:mod:`grader.worker`) imports the submission; this side keeps the inputs, the
references, the tolerances and the verdicts, and sees only plain data (:mod:`grader.wire`). One
worker serves a whole submission and is restarted only after a crash or a timeout. How it is
confined is decided in :mod:`grader.isolation`.
"""
from __future__ import annotations

import collections
import ctypes
import itertools
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from grader.cgroups import Group
from grader.handle import Bound, SubmissionError, check_signature
from grader.isolation import Limits, choose_isolation, claim_uid
from grader.sandbox.process import Worker, WorkerLost
from grader.sandbox.staging import copy_submission, library_imports, oversized_sources


_PR_SET_CHILD_SUBREAPER = 36
_groups = itertools.count()

class SandboxImplementation:
    """Runs an implementation folder in a sandboxed worker; the handle checks talk to.

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
        self.isolation = choose_isolation()
        self._uid_lock = None
        if self.isolation.uid is not None:
            claimed = claim_uid()
            if claimed is None:
                self.isolation.uid = None
                self.isolation.missing.append("no free user id for the worker: it runs as root, without capabilities")
            else:
                self.isolation.uid, self._uid_lock = claimed
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.group = None
        if self.isolation.cgroup:
            self.group = Group(f"{os.getpid()}-{next(_groups)}", self.limits.tree_memory, self.limits.processes)
            self.group.create()
        self._staging = Path(tempfile.mkdtemp(prefix="gradekit-sandbox-"))
        self._stage()
        # target or topic -> why it is not called again; oversized sources fail before any parse
        self._failed: dict[str, str] = oversized_sources(self._staging / "submission", self.limits.source)
        prefetch = library_imports([self._staging / "submission" / f"{t}.py" for t in topics if t not in self._failed])
        self.worker = Worker(self._staging, self.isolation, self.limits, prefetch, self.group)
        self.worker.spawn()
        self._crashes: collections.Counter[str] = collections.Counter()
        self._signatures: dict[str, SubmissionError | None] = {}

    def _stage(self) -> None:
        self._staging.chmod(0o711)  # the worker's user may pass through, not list
        self._staging_error: SubmissionError | None = None
        try:
            copy_submission(self.root, self._staging / "submission", self.limits.submission)
        except SubmissionError as err:
            self._staging_error = err
        scratch = self._staging / "scratch"
        scratch.mkdir(mode=0o700)
        if self.isolation.uid is not None:
            os.chown(scratch, self.isolation.uid, self.isolation.uid)

    def describe(self) -> str:
        return self.isolation.describe(self.limits)

    def close(self) -> None:
        self.worker.kill()
        shutil.rmtree(self._staging, ignore_errors=True)
        if self.group is not None:
            self.group.remove()
        if self._uid_lock is not None:
            os.close(self._uid_lock)
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
        return self._run(target, message, key=f"{name} ({target})", timeout=time_limit)

    def _run(self, target: str, message: dict[str, Any], key: str | None = None, timeout: float | None = None) -> Any:
        topic = target.partition(".")[0]
        self._preflight(target)
        if topic not in self.worker.loaded:
            self._request(topic, {"op": "load", "topic": topic})
            self.worker.loaded.add(topic)
        if key is not None and key in self._failed:
            raise SubmissionError(self._failed[key])
        reply = self._request(key or target, message, timeout)
        return reply["ok"]

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

    def _request(self, key: str, message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """One request on behalf of ``key`` (a topic while loading, else a target or a training run)."""
        what = f"importing {key}.py" if message["op"] == "load" else key
        try:
            if timeout is None:
                timeout = self.limits.import_timeout if message["op"] == "load" else self.limits.call_timeout
            reply = self.worker.request(message, timeout)
        except WorkerLost as lost:
            self._crashes[key] += 1
            text = f"{what} {lost}"
            if lost.timed_out or message["op"] == "load" or self._crashes[key] >= self.limits.crashes_per_target:
                self._failed[key] = f"{text}; not run again"
            raise SubmissionError(text) from None
        if "error" in reply:
            error = reply["error"] if type(reply["error"]) is str else "an unreadable error"
            mro = tuple(m for m in reply.get("mro", ()) if type(m) is str)[:32]
            err = SubmissionError(error[:2000], mro)
            if message["op"] == "load":
                self._failed[key] = str(err)
            raise err
        return reply
