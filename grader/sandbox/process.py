"""The sandboxed fork server: its start, forking a worker per function, its output's tail and its end.

The process started here is :mod:`grader.zygote`, confined by :mod:`grader.isolation`; the
workers it forks are reached through :class:`grader.sandbox.function.FunctionWorker`.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from grader.cgroups import Group
from grader.isolation import Isolation, Limits
from grader.sandbox import kill, scratch


def exit_reason(code: int | None) -> str:
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


class Zygote:
    """The fork server over one staged submission; restartable.

    Attributes
    ----------
    pid : int or None
        The fork server's pid as this process sees it, once it has said hello.

    Notes
    -----
    One worker is forked ahead (the spare): as soon as a worker is handed out, the next is asked
    for, so that the fork (10-30 ms for a parent that has imported torch) runs on another core
    while the grader works. The spare has run nothing of the submission; :meth:`spare` names it
    to the killing after each call, which spares it.
    """

    def __init__(self, staging: Path, isolation: Isolation, limits: Limits, prefetch: list[str],
                 group: Group | None = None):
        self.staging, self.isolation, self.limits, self.prefetch = staging, isolation, limits, prefetch
        self.group = group
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.ready = False
        self.pid: int | None = None
        self.scratch_baseline = (0, 0)
        self._spare: socket.socket | None = None  # our end of the spare's socket, once asked for
        self._spare_pids: tuple[int, int] | None = None  # (inside, here), once the fork server answered
        self._drainer: threading.Thread | None = None
        self._output: collections.deque[bytes] = collections.deque()
        self._output_size = 0
        self._lock = threading.Lock()

    # -- life cycle --------------------------------------------------------------------------

    def spawn(self, *, drain: bool = True) -> None:
        """Start the process; its torch import overlaps with whatever the caller does next.

        With ``drain`` false, nothing reads its output until :meth:`adopt`: a batch slot that keeps
        the fork server starts no thread, since it forks grading children.
        """
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
        if "CUDA_VISIBLE_DEVICES" in os.environ:  # a batch slot's GPU: its students train on that one only
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        settings = {"limits": limits, "prefetch": self.prefetch}
        command = [*prefix, sys.executable, "-I", "-B", "-m", "grader.zygote",
                   str(theirs.fileno()), root, json.dumps(settings)]
        self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, pass_fds=[theirs.fileno()], start_new_session=True)
        theirs.close()
        self.sock, self.ready, self.pid = ours, False, None
        self._output.clear()
        self._output_size = 0
        self._drainer = None
        if drain:
            self._start_drain()

    def _start_drain(self) -> None:
        self._drainer = threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True)
        self._drainer.start()

    def adopt(self) -> None:
        """Take over a fork server kept from an earlier submission, once nothing of that one lives:
        drop what it printed then (never shown to this one), and read its output from now on."""
        if self._drainer is not None and self._drainer.is_alive():  # this process has read it all along
            with self._lock:
                self._output.clear()
                self._output_size = 0
            return
        fd = self.proc.stdout.fileno()  # unread by the slot, so its buffer is empty: read the pipe itself
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError):
            while os.read(fd, 1 << 16):
                pass
        os.set_blocking(fd, True)
        self._start_drain()

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
        """A fork server that has said hello, starting one if needed.

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
        self.scratch_baseline = self.scratch_usage()

    def _handshake(self) -> str | None:
        """Wait for the worker's hello; why it did not come, or None."""
        from grader import wire  # imports torch: not needed to spawn, so not at the top

        try:
            hello = wire.receive(self.sock, timeout=self.limits.start_timeout)
        except wire.WireError as err:
            output = self.output_tail()
            self.kill()
            return f"{err}; it printed:\n{output}"
        if type(hello) is not dict or type(hello.get("hello")) is not int:
            self.kill()
            return "it sent a malformed greeting"
        self.pid = _outer(self.proc.pid, hello["hello"])
        if self.pid is None:
            self.kill()
            return f"its process (pid {hello['hello']} inside the sandbox) was not found below pid {self.proc.pid}"
        return None

    def kill(self) -> None:
        """Kill the fork server and everything below it; wait until they are gone."""
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        kill.kill_tree(self.proc.pid, self.isolation.uid, self.group)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        for sock in (self.sock, self._spare):
            if sock is not None:
                sock.close()
        self.proc, self.sock, self.ready, self.pid = None, None, False, None
        self._spare, self._spare_pids = None, None

    def alive(self) -> bool:
        """Whether the fork server still runs, untouched: not dead, not stopped, no signal on its way
        (its workers run as its user and may signal it; only what :meth:`fork` starts is checked)."""
        return self.pid is not None and kill.intact(self.pid)

    # -- workers ------------------------------------------------------------------------------

    def fork(self) -> tuple[socket.socket, int, int]:
        """A new worker: (our end of its socket, its pid inside the sandbox, its pid here).

        Raises
        ------
        RuntimeError
            When the fork server cannot start or does not answer: a grader problem.
        """
        self.ensure()
        taken = self._take_spare()
        # Nothing of the submission lives now, but the last worker may have stopped or killed the
        # spare (it can do nothing else to it: the spare cannot be traced until it serves).
        with contextlib.suppress(OSError):
            os.kill(taken[2], signal.SIGCONT)
        if not kill.intact(taken[2]):
            taken[0].close()
            taken = self._take_spare()
        self._ask_spare()
        return taken

    def _take_spare(self) -> tuple[socket.socket, int, int]:
        if self._spare is None:
            self._ask_spare()
        self._settle_spare()
        taken = (self._spare, *self._spare_pids)
        self._spare, self._spare_pids = None, None
        return taken

    def spare(self) -> frozenset[int]:
        """The spare's pid here, waiting for the fork server's answer if it has not come; empty
        when there is none. :func:`grader.sandbox.kill.kill_below` asks only when it meets a
        child of the fork server it cannot place, which is then either the spare or one to kill."""
        if self._spare is not None and self._spare_pids is None:
            with contextlib.suppress(RuntimeError):  # the fork server died: everything goes anyway
                self._settle_spare()
        return frozenset({self._spare_pids[1]}) if self._spare_pids else frozenset()

    def _ask_spare(self) -> None:
        from grader.zygote import FORK, REQUEST

        ours, theirs = socket.socketpair()
        try:
            socket.send_fds(self.sock, [REQUEST.pack(FORK, 0)], [theirs.fileno()])
        except OSError as err:
            ours.close()
            self._lost(f"the sandbox's fork server did not take a request ({err})")
        finally:
            theirs.close()
        self._spare = ours

    def _settle_spare(self) -> None:
        """Read the fork server's answer about the spare, once."""
        from grader import wire

        if self._spare_pids is not None:
            return
        deadline = time.monotonic() + self.limits.start_timeout  # the first fork waits for the imports
        while not select.select([self.sock], [], [], 0.2)[0]:
            if not self.alive() or time.monotonic() > deadline:  # stopped by a worker, or dead
                self._lost("the sandbox's fork server stopped answering")
        try:
            reply = wire.receive(self.sock, timeout=self.limits.start_timeout)
        except wire.WireError as err:
            self._lost(f"the sandbox's fork server did not fork a worker ({err})")
        inner = reply.get("pid") if type(reply) is dict else None
        outer = None
        if type(inner) is int:
            outer = next((c for c in kill.children(self.pid, single_threaded=True) if kill.inner_pid(c) == inner), None)
        if outer is None:
            self._lost(f"the sandbox's fork server answered a fork with {reply!r}, not a worker of its own")
        self._spare_pids = (inner, outer)

    def _lost(self, why: str) -> None:
        output = self.output_tail()
        self.kill()
        raise RuntimeError(f"{why}; it printed:\n{output}")

    def status(self, inner: int) -> int | None:
        """How worker ``inner`` ended (a negative signal number when killed), if the fork server knows."""
        from grader import wire
        from grader.zygote import REQUEST, STATUS

        if not self.alive():
            return None
        try:
            if self._spare is not None:
                self._settle_spare()  # its answer comes first on the socket
            self.sock.sendall(REQUEST.pack(STATUS, inner))
            reply = wire.receive(self.sock, timeout=5)
        except (wire.WireError, OSError, RuntimeError):
            return None
        code = reply.get("status") if type(reply) is dict else None
        return code if type(code) is int else None

    def remove_ipc(self) -> int | None:
        """Have the fork server remove its namespace's System V IPC objects; how many are left, or
        None when it does not answer. Replies to requests of a grading child that died before it
        read them come first on the socket: they are skipped."""
        from grader import wire
        from grader.zygote import REQUEST, RESET

        try:
            self.sock.sendall(REQUEST.pack(RESET, 0))
            for _ in range(64):
                reply = wire.receive(self.sock, timeout=5)
                if type(reply) is dict and "left" in reply:
                    return reply["left"] if type(reply["left"]) is int else None
        except (wire.WireError, OSError):
            pass
        return None

    # -- the scratch folder ----------------------------------------------------------------------

    def scratch(self) -> Path | None:
        """The workers' scratch folder as this process reaches it (bubblewrap's private /tmp is
        reached through the fork server's root), or None when there is no fork server to reach it by."""
        if not self.isolation.bubblewrap:
            return self.staging / "scratch"
        return Path(f"/proc/{self.pid}/root/tmp") if self.pid is not None else None

    def scratch_usage(self) -> tuple[int, int]:
        """(entries, bytes) in the scratch beyond what it held when the fork server started."""
        folder = self.scratch()
        if folder is None:
            return 0, 0
        entries, size = scratch.usage(folder, self.limits.budget.scratch_entries + 1 + self.scratch_baseline[0],
                                      whole_filesystem=bool(self.isolation.bubblewrap))
        return entries - self.scratch_baseline[0], size - self.scratch_baseline[1]

    def empty_scratch(self) -> None:
        """Empty the scratch; only once no process of the submission lives."""
        folder = self.scratch()
        if folder is not None and self.scratch_usage() != (0, 0):
            scratch.empty(folder)


def _outer(root: int, inner: int) -> int | None:
    """The process below ``root`` (or ``root`` itself) whose pid in its own namespace is ``inner``."""
    below: dict[int, list[int]] = collections.defaultdict(list)
    for pid, parent, _uid, _sid in kill.processes():
        below[parent].append(pid)
    stack = [root]
    while stack:
        pid = stack.pop()
        if kill.inner_pid(pid) == inner:
            return pid
        stack += below.get(pid, [])
    return None


class WorkerLost(Exception):
    """A worker timed out, died or broke protocol during a request."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out
