"""A job slot: one trusted process that imports torch and the checks once, then grades student after student.

For each student the slot runs :func:`grader.batch.task.grade_student`, the same grading path as
``grader grade``, except that the grading child is *forked* from the slot instead of started
afresh: the child then begins with torch, pytest, hypothesis and every check already imported
(about 2 s saved per student), and everything it does (oracles, the sandboxed workers, the
submission's scratch) dies with it. Under bubblewrap the slot also keeps the sandboxed fork
server the workers are forked from (:mod:`grader.sandbox.kept`), cleared of each student before
the next: its torch import (about 1.7 s of CPU) is paid once per slot, not per student. The slot
itself never runs a computation: forking a process after a multithreaded operation can hang the
child.

The slot reads one task per line on standard input and answers one JSON record per line on a
copy of its standard output (whatever else writes to standard output goes to standard error).
It is started in a session of its own, so a Ctrl-C on the terminal reaches the batch, which stops
it, and never a grading child, which would report a half-run as a result. When the batch dies,
the slot kills its grading child and exits.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.sandbox.kept import KeptServer

# What a grading child imports before its first check; a child forked after these starts at once.
# torch.broadcast_shapes (torch.distributions) imports symbolic_shapes, and with it sympy, on its
# first call: 0.4 s a student if every child did it again.
PRELOAD = ("torch", "numpy", "scipy.stats", "hypothesis", "pytest", "grader.pytest_plugin", "grader.graded",
           "grader.sandbox", "grader.wire", "grader.zygote", "grader.exporters", "grader.feedback",
           "grader.batch.task", "torch.fx.experimental.symbolic_shapes", "safetensors.torch", "pdb")
_PR_SET_PDEATHSIG = 1
_reply_fd: int | None = None


class Orphaned(RuntimeError):
    """The batch that started this slot has died; its tasks are void."""


class SlotDied(RuntimeError):
    """A slot process exited while it held a task; the message gives its exit and the log's tail."""


class ForkedChild:
    """A grading child forked from the slot: what :func:`grader.grade.grade` needs of a ``Popen``."""

    def __init__(self, pid: int, log: Path, parent: int):
        self.pid, self.log, self.parent = pid, log, parent
        self.returncode: int | None = None
        self._pidfd = os.pidfd_open(pid)

    def communicate(self, timeout: float | None = None) -> tuple[str, None]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            if select.select([self._pidfd], [], [], wait)[0]:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
                os.close(self._pidfd)
            elif os.getppid() != self.parent:
                self.kill()
                raise Orphaned("the batch that started this slot has died")
            elif deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"grading child {self.pid}", timeout or 0.0)
        return (self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""), None

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def fork_pytest(arguments: list[str], scratch: Path, _heavy: str, *, parent: int,
                server: KeptServer | None = None) -> ForkedChild:
    """Fork a grading child that runs pytest with ``arguments``, its output going to ``scratch``;
    its submission runs below ``server`` once that is cleared of the last one."""
    from grader.grade import CHILD_ENV
    from grader.pytest_plugin import PROGRESS_FD
    from grader.sandbox.kept import keep
    from grader.target import ROOT

    if server is not None:
        try:
            server.prepare()
            keep(server)
        except RuntimeError:  # the child starts a fork server of its own, and reports why that fails
            keep(None)
    log = scratch / "child.log"
    sys.stdout.flush()
    sys.stderr.flush()
    slot = os.getpid()
    pid = os.fork()
    if pid:
        return ForkedChild(pid, log, parent)
    code = 70
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != slot:  # the slot died before the line above took effect
            os._exit(code)
        if _reply_fd is not None:
            os.close(_reply_fd)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.chdir(ROOT)
        os.environ.update(CHILD_ENV)
        os.environ.pop(PROGRESS_FD, None)  # training progress would reach no terminal: the slot's output is a log
        import pytest

        code = int(pytest.main(arguments))
    except BaseException:  # noqa: BLE001 - whatever ends the child, its log says why
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _pytest_plugins() -> list[str]:
    """The modules of pytest's built-in plugins, which each run imports as it configures."""
    from _pytest.config import default_plugins

    return [f"_pytest.{name}" for name in default_plugins]


def serve(tasks: IO[str], replies: IO[str]) -> None:
    """Grade each task read from ``tasks``; answer its record, or a grader error, on ``replies``."""
    from grader.batch.task import grade_student
    from grader.isolation import Limits
    from grader.sandbox.kept import KeptServer

    start = time.perf_counter()
    for name in (*PRELOAD, *_pytest_plugins()):
        importlib.import_module(name)
    # Whatever is imported now lives as long as the slot: the collector's full passes in every
    # child (Hypothesis and pytest each force some) then skip it, and touch none of its pages.
    gc.collect()
    gc.freeze()
    replies.write(json.dumps({"ready": round(time.perf_counter() - start, 2)}) + "\n")
    replies.flush()
    server: KeptServer | None = None
    try:
        for line in tasks:
            task = json.loads(line)
            if server is None:
                server = KeptServer(Limits(), _prefetch(task))
            try:
                reply = grade_student(task, partial(fork_pytest, parent=os.getppid(), server=server))
            except Orphaned:
                return
            except Exception:  # noqa: BLE001 - a grader bug: say it, and keep the slot for the next student
                reply = {"student": task.get("student"), "error": traceback.format_exc(limit=8)}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    finally:
        if server is not None:
            server.close()


def _prefetch(task: dict[str, Any]) -> list[str]:
    """The libraries that the reference solutions of the task's topics import: a submission's likely imports."""
    import course
    from grader import assignments
    from grader.grade import selected
    from grader.layout import LAYOUT
    from grader.sandbox.staging import library_imports

    manifest = assignments.load(task["assignment"]) if task.get("assignment") else None
    topics = course.topics(selected(manifest, tuple(task["only"])))
    return library_imports([path for t in topics if (path := LAYOUT.solutions / f"{t}.py").is_file()])


def main() -> None:
    global _reply_fd
    _reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints must not corrupt the replies
    serve(sys.stdin, os.fdopen(_reply_fd, "w", encoding="utf-8"))


class Slot:
    """The batch's handle on one slot process, started when first needed and again after it dies.

    Parameters
    ----------
    log : Path
        Where the slot's own standard error goes (its grading children log into their scratch).
    env : dict, optional
        Variables set for the slot and its children (e.g. the GPU it may use); a ``None`` value
        removes the variable.
    """

    def __init__(self, log: Path, env: Mapping[str, str | None] | None = None):
        self.log, self.env = log, env
        self.proc: subprocess.Popen | None = None
        self.ready_seconds: float | None = None
        self.retired = False
        self._lock = threading.Lock()  # the batch may retire a slot while its thread starts it

    def _start(self) -> None:
        env = {name: value for name, value in {**os.environ, **(self.env or {})}.items() if value is not None}
        with self._lock:
            if self.retired:
                raise SlotDied("the batch was stopped")
            with open(self.log, "ab") as err:
                self.proc = subprocess.Popen([sys.executable, "-m", "grader.batch.slot"], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True,
                                             env=env)
        self.ready_seconds = self._reply()["ready"]

    def _reply(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            tail = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            raise SlotDied(f"the grading slot exited ({code}): {' | '.join(tail)}")
        return json.loads(line)

    def run(self, task: dict[str, Any]) -> dict[str, Any]:
        """Send ``task`` and return its reply (a record, or ``{"error": ...}`` for a grader error).

        Raises
        ------
        SlotDied
            When the slot exits before it answers; it is started afresh on the next call.
        """
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(task) + "\n")
            self.proc.stdin.flush()
            return self._reply()
        except (SlotDied, BrokenPipeError, ValueError) as err:
            self.stop()
            raise SlotDied(str(err)) from None

    def stop(self) -> None:
        """Kill the slot and its grading child at once (both are in the slot's session)."""
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
            self.proc = None

    def retire(self) -> None:
        """Stop the slot for good: the batch is ending or was interrupted."""
        self.retired = True
        self.stop()

    def close(self) -> None:
        """Let an idle slot exit on its own (end of input), or stop it."""
        proc = self.proc
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.stop()
        self.proc = None


def grade_in_slot(slot: Slot, task: dict[str, Any], failed: Callable[[dict[str, Any], str], dict[str, Any]]) -> dict[str, Any]:
    """``task``'s record from ``slot``, trying a fresh slot once if it dies; ``failed`` makes the record otherwise."""
    reason = ""
    for _ in range(2):
        try:
            reply = slot.run(task)
        except SlotDied as err:
            reason = str(err)
            continue
        if "error" not in reply:
            return reply
        reason = f"grader error, please report it: {reply['error'].strip().splitlines()[-1]}"
        break
    return failed(task, reason)


if __name__ == "__main__":
    main()
