"""The worker process: its start, its requests over the wire, its output's tail and its end."""
from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from grader.cgroups import Group
from grader.isolation import Isolation, Limits
from grader.sandbox.kill import kill_tree


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = {"SIGKILL": " (out of memory, or killed)", "SIGXFSZ": " (wrote a file over the size limit)",
                "SIGSEGV": " (a crash in native code)"}.get(name, "")
        return f"was killed by {name}{hint}"
    return f"exited with code {code}"


class Worker:
    """One worker process over one staged submission; restartable."""

    def __init__(self, staging: Path, isolation: Isolation, limits: Limits, prefetch: list[str],
                 group: Group | None = None):
        self.staging, self.isolation, self.limits, self.prefetch = staging, isolation, limits, prefetch
        self.group = group
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.ready = False
        self.loaded: set[str] = set()
        self._ids = 0
        self._output: collections.deque[bytes] = collections.deque()
        self._output_size = 0
        self._lock = threading.Lock()

    # -- life cycle --------------------------------------------------------------------------

    def spawn(self) -> None:
        """Start the process; its torch import overlaps with whatever the caller does next."""
        ours, theirs = socket.socketpair()
        limits = {"data": self.limits.memory, "fsize": self.limits.file_size, "nofile": self.limits.open_files}
        if self.isolation.uid is not None:
            limits.update(uid=self.isolation.uid, gid=self.isolation.uid, nproc=self.limits.processes)
        prefix, remapped = self.isolation.command(self.staging / "submission", self.limits, self.group)
        if remapped:
            root, cwd = "/submission", None
        else:
            root, cwd = str(self.staging / "submission"), self.staging / "scratch"
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(cwd or "/tmp"), "TMPDIR": str(cwd or "/tmp"),
               "USER": "student", "LOGNAME": "student", "OMP_NUM_THREADS": "1"}
        settings = {"limits": limits, "prefetch": self.prefetch}
        command = [*prefix, sys.executable, "-I", "-B", "-m", "grader.worker",
                   str(theirs.fileno()), root, json.dumps(settings)]
        self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, pass_fds=[theirs.fileno()], start_new_session=True)
        theirs.close()
        self.sock, self.ready, self.loaded = ours, False, set()
        self._output.clear()
        self._output_size = 0
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()

    def _drain(self, stream) -> None:
        """Keep only the tail of what the worker prints: a flood costs it time, not our memory."""
        for chunk in iter(lambda: stream.read1(1 << 16), b""):
            with self._lock:
                self._output.append(chunk)
                self._output_size += len(chunk)
                while self._output_size > 2 * self.limits.output_kept and len(self._output) > 1:
                    self._output_size -= len(self._output.popleft())

    def output_tail(self) -> str:
        with self._lock:
            text = b"".join(self._output).decode("utf-8", "replace")
        return text[-self.limits.output_kept:]

    def ensure(self) -> None:
        """A worker that has said hello, starting one if needed.

        When bubblewrap was chosen but the worker does not start under it, try once more
        without it (and say so in the report) rather than fail to grade.

        Raises
        ------
        RuntimeError
            When the worker cannot start at all: a grader problem, not the submission's.
        """
        if self.proc is None:
            self.spawn()
        if self.ready:
            return
        problem = self._handshake()
        if problem is not None and self.isolation.bubblewrap:
            self.isolation.fall_back(problem)
            self.spawn()
            problem = self._handshake()
        if problem is not None:
            raise RuntimeError(f"the sandboxed worker did not start: {problem}")
        self.ready = True

    def _handshake(self) -> str | None:
        """Wait for the worker's hello; why it did not come, or None."""
        from grader import wire  # imports torch: not needed to spawn, so not at the top

        try:
            hello = wire.receive(self.sock, timeout=self.limits.start_timeout)
        except wire.WireError as err:
            output = self.output_tail()
            self.kill()
            return f"{err}; it printed:\n{output}"
        if type(hello) is not dict or "hello" not in hello:
            self.kill()
            return "it sent a malformed greeting"
        return None

    def kill(self) -> None:
        """Kill the worker and everything it started; wait until they are gone."""
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        kill_tree(self.proc.pid, self.isolation.uid, self.group)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self.sock is not None:
            self.sock.close()
        self.proc, self.sock, self.ready = None, None, False

    # -- requests -----------------------------------------------------------------------------

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request; return the worker's reply (``ok`` or ``error``).

        Raises
        ------
        WorkerLost
            When the worker timed out, died, or answered out of protocol; it is killed first.
        """
        from grader import wire

        self.ensure()
        self._ids += 1
        message = {**message, "id": self._ids}
        try:
            self.sock.settimeout(timeout)
            wire.send(self.sock, message)
            self.sock.settimeout(None)
            reply = wire.receive(self.sock, timeout=timeout, max_bytes=self.limits.reply)
        except (wire.WireTimeout, TimeoutError):  # TimeoutError: the send blocked
            self.kill()
            raise WorkerLost(f"did not finish within {timeout:g} s (stopped)", timed_out=True) from None
        except (wire.WireError, OSError) as err:
            code = self._exit_code()
            output = self.output_tail().strip()
            self.kill()
            reason = _exit_reason(code) if code is not None else f"broke the connection ({err})"
            tail = f"; its output ended with: {output[-300:]!r}" if output else ""
            raise WorkerLost(f"ended the grading process: it {reason}{tail}") from None
        if type(reply) is not dict or reply.get("id") != self._ids or not ({"ok", "error"} & reply.keys()):
            self.kill()
            raise WorkerLost("answered out of protocol (the grading process was tampered with)")
        return reply

    def _exit_code(self) -> int | None:
        try:
            return self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None


class WorkerLost(Exception):
    """The worker timed out, died or broke protocol during a request."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out
