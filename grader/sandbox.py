"""The sandboxed backend of the implementation handle: submitted code runs in a worker process.

The worker (:mod:`grader.worker`) imports the submission; this side keeps the inputs, the
references, the tolerances and the verdicts, and sees only plain data (:mod:`grader.wire`). One
worker serves a whole submission and is restarted only after a crash or a timeout. How it is
confined is decided in :mod:`grader.isolation`.
"""
from __future__ import annotations

import ast
import collections
import contextlib
import ctypes
import importlib.util
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from grader.cgroups import Group
from grader.handle import Bound, SubmissionError, check_signature
from grader.signatures import UNPARSABLE
from grader.isolation import Isolation, Limits, choose_isolation, claim_uid

_PR_SET_CHILD_SUBREAPER = 36
_groups = itertools.count()


def _copy_submission(source: Path, dest: Path, budget: int) -> int:
    """Copy regular files only (never following a link), up to ``budget`` bytes in all subfolders.

    Returns the bytes left of ``budget``.
    """
    dest.mkdir(mode=0o755)
    for entry in sorted(source.iterdir()):
        if entry.is_symlink() or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            budget = _copy_submission(entry, dest / entry.name, budget)
        elif entry.is_file():
            budget -= entry.stat().st_size
            if budget < 0:
                raise SubmissionError(f"the submission folder is larger than the limit; {entry.name} and later files left out")
            shutil.copyfile(entry, dest / entry.name)
            os.chmod(dest / entry.name, 0o644)
    return budget


def _oversized_sources(folder: Path, limit: int) -> dict[str, str]:
    """``{topic: why}`` for each ``topic.py`` in ``folder`` larger than ``limit`` bytes.

    This side parses sources with ``ast`` (signatures, imports to prefetch), outside every
    limit of the worker, and a pathological file costs ~600 bytes of memory and ~3 us per
    byte (a million ``_=0`` lines: 4 MiB of source, 2.5 GB to parse); the 64 MiB a submission
    may hold would take tens of GiB. Such a topic fails unparsed and is never imported.
    """
    return {path.stem: f"{path.name} is {path.stat().st_size >> 10} KiB; a source file may be at most {limit >> 10} KiB"
            for path in sorted(folder.glob("*.py")) if path.is_file() and path.stat().st_size > limit}


def _library_imports(files: list[Path]) -> list[str]:
    """Installed modules that ``files`` import at top level, read with ``ast`` (nothing runs)."""
    names: list[str] = []
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except UNPARSABLE:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.append(node.module)
    found = []
    for name in dict.fromkeys(names):
        top = name.partition(".")[0]
        spec = importlib.util.find_spec(top) if top.isidentifier() else None
        if spec is not None and spec.origin not in (None, "built-in", "frozen") and top not in ("grader", "solutions"):
            found.append(name)
    return found


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
        _kill_tree(self.proc.pid, self.isolation.uid, self.group)
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


def _processes() -> list[tuple[int, int, int, int]]:
    """(pid, parent pid, real uid, session id) of every live process we can see."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").strip().startswith(("Z", "X")):
            continue  # already dead; only its parent can collect it
        try:
            session = int(stat.rpartition(")")[2].split()[3])  # after the command name, which may hold spaces
            found.append((int(entry), int(fields["PPid"]), int(fields["Uid"].split()[0]), session))
        except (KeyError, ValueError, IndexError):
            continue
    return found


def _kill_tree(pid: int, uid: int | None, group: Group | None = None) -> None:
    """SIGKILL everything the worker ``pid`` started, until nothing is left.

    That is its descendants, the rest of its session (orphans of a double fork reach us, a
    subreaper, and keep the session), every process of its own ``uid`` and of its cgroup.
    Repeated so that a fork bomb cannot outrun it.
    """
    if not Path("/proc/self/status").exists():
        return
    for _ in range(200):
        procs = _processes()
        children: dict[int, list[int]] = collections.defaultdict(list)
        for p, parent, _uid, _sid in procs:
            children[parent].append(p)
        doomed, stack = set(), [pid]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in doomed:
                    doomed.add(child)
                    stack.append(child)
        doomed.update(p for p, _parent, owner, sid in procs if sid == pid or owner == uid)
        if group is not None:
            doomed.update(group.pids() & {p for p, *_ in procs})
        doomed.discard(os.getpid())
        if not doomed:
            return
        for p in doomed:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.01)
        _reap(doomed)


def _reap(pids: set[int]) -> None:
    """Collect those of ``pids`` that became our children (orphans reach a subreaper).

    Only these: waiting on any child would steal the exit status of an unrelated subprocess.
    """
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


# -- the handle ------------------------------------------------------------------------------


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
        self._failed: dict[str, str] = _oversized_sources(self._staging / "submission", self.limits.source)
        prefetch = _library_imports([self._staging / "submission" / f"{t}.py" for t in topics if t not in self._failed])
        self.worker = Worker(self._staging, self.isolation, self.limits, prefetch, self.group)
        self.worker.spawn()
        self._crashes: collections.Counter[str] = collections.Counter()
        self._signatures: dict[str, SubmissionError | None] = {}

    def _stage(self) -> None:
        self._staging.chmod(0o711)  # the worker's user may pass through, not list
        self._staging_error: SubmissionError | None = None
        try:
            _copy_submission(self.root, self._staging / "submission", self.limits.submission)
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

    def scenario(self, name: str, /, target: str, **inputs: Any) -> Any:
        return self._run(target, {"op": "scenario", "name": name, "target": target, "inputs": inputs})

    def _run(self, target: str, message: dict[str, Any]) -> Any:
        topic = target.partition(".")[0]
        self._preflight(target)
        if topic not in self.worker.loaded:
            self._request(topic, {"op": "load", "topic": topic})
            self.worker.loaded.add(topic)
        reply = self._request(target, message)
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

    def _request(self, key: str, message: dict[str, Any]) -> dict[str, Any]:
        """One request on behalf of ``key`` (a topic while loading, else a target)."""
        what = f"importing {key}.py" if message["op"] == "load" else key
        try:
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
