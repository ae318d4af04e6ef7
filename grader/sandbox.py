"""The sandboxed backend of the implementation handle: submitted code runs in a worker process.

The worker (:mod:`grader.worker`) imports the submission; this side keeps the inputs, the
references, the tolerances and the verdicts, and sees only plain data (:mod:`grader.wire`). One
worker serves a whole submission and is restarted only after a crash or a timeout.

Isolation is the best the platform offers, decided once per worker:

- bubblewrap: own pid, network, IPC and UTS namespaces; a read-only view of the system, the
  Python installation, ``grader/`` and ``stubs/`` only (not ``solutions/``, ``tests/``, the
  repository's history or the grader's outputs); a size-limited private ``/tmp`` as working
  directory;
- an unprivileged user of its own (when the grader runs as root): the process limit applies,
  other users' files are protected by their modes, and killing by user reaches every process;
- resource limits everywhere: data segment, file size, open files, and a wall-clock limit per
  call enforced by killing the worker's whole process tree.
"""
from __future__ import annotations

import ast
import collections
import contextlib
import ctypes
import fcntl
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.cgroups import Group
from grader.handle import Bound, SubmissionError, check_signature

ROOT = Path(__file__).resolve().parents[1]
VISIBLE = ("grader", "stubs")  # the only parts of this repository a worker may read
UID_RANGE = range(61000, 61064)
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Limits:
    """What one worker may use. Sizes in bytes, times in seconds."""

    call_timeout: float = 30.0
    start_timeout: float = 120.0
    memory: int = 4 << 30  # RLIMIT_DATA: heap and private mappings (torch alone maps ~1 GiB)
    file_size: int = 64 << 20
    open_files: int = 256
    processes: int = 256  # threads count too; enforced only under a user of its own
    tree_memory: int = 6 << 30  # all the worker's processes together, where a cgroup is possible
    scratch: int = 256 << 20  # the private /tmp under bubblewrap
    submission: int = 64 << 20  # the copy of the submission folder
    reply: int = 512 << 20
    crashes_per_target: int = 3
    output_kept: int = 4000


@dataclass
class Isolation:
    """How a worker is isolated, and what is missing, in words for the report."""

    bubblewrap: str | None  # path of bwrap, or None
    uid: int | None  # the worker's own user, or None to keep ours
    cgroup: bool = False  # a control group bounds the worker's whole tree
    missing: list[str] = field(default_factory=list)

    def describe(self, limits: Limits) -> str:
        how = (["bubblewrap (no network; own pid namespace; sees only the system, Python, grader/ and stubs/)"]
               if self.bubblewrap else ["a plain process"])
        if self.uid is not None:
            how.append(f"user {self.uid}")
        if self.cgroup:
            how.append(f"cgroup of {limits.tree_memory >> 20} MiB and {limits.processes} processes")
        text = (f"sandbox: {', '.join(how)}; limits {limits.call_timeout:g} s per call, "
                f"{limits.memory >> 20} MiB data, {limits.file_size >> 20} MiB per file")
        if self.missing:
            text += "; degraded: " + "; ".join(self.missing)
        return text


# -- choosing and claiming isolation ---------------------------------------------------------


def _bwrap_works(path: str) -> str | None:
    """Why ``bwrap`` cannot make the namespaces we ask for here, or None when it can."""
    probe = [path, "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--", "true"]
    if os.geteuid() != 0:
        probe.insert(1, "--unshare-user")
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def _world_reachable(path: Path) -> bool:
    """Whether any user may walk down to ``path`` (every ancestor has o+x)."""
    for part in [path, *path.parents]:
        try:
            if not os.stat(part).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


PYTHON_UNREACHABLE = "Python is installed where other users cannot read it: the worker runs as root"


def _python_reachable() -> bool:
    """Whether a user of its own could run our Python without bubblewrap re-mounting it."""
    return all(_world_reachable(Path(p)) for p in (sys.base_prefix, sys.prefix, ROOT))


def _claim_uid() -> tuple[int, int] | None:
    """A user id from ``UID_RANGE`` no other worker on this machine holds: (uid, lock fd)."""
    folder = Path(tempfile.gettempdir()) / "gradekit-uids"
    folder.mkdir(mode=0o700, exist_ok=True)
    for uid in UID_RANGE:
        fd = os.open(folder / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return uid, fd
    return None


LEVELS = ("full", "no-bubblewrap", "none")  # GRADEKIT_ISOLATION, to test the fallbacks


def choose_isolation() -> Isolation:
    """The strongest isolation this machine supports (capped by ``GRADEKIT_ISOLATION``)."""
    level = os.environ.get("GRADEKIT_ISOLATION", "full")
    if level not in LEVELS:
        raise ValueError(f"GRADEKIT_ISOLATION={level!r}; choose one of {', '.join(LEVELS)}")
    missing = []
    bwrap = shutil.which("bwrap")
    if level != "full":
        missing.append(f"bubblewrap switched off (GRADEKIT_ISOLATION={level}): the worker can use the network "
                       "and read every file its user may read")
        bwrap = None
    elif bwrap is None:
        missing.append("bubblewrap not installed: the worker can use the network and read every file "
                       "its user may read (install the 'bubblewrap' package)")
    elif (why := _bwrap_works(bwrap)) is not None:
        missing.append(f"bubblewrap cannot create namespaces here ({why.splitlines()[0][:120]}): "
                       "the worker can use the network and read every file its user may read")
        bwrap = None
    uid = None
    if level == "none":
        missing.append("own user switched off (GRADEKIT_ISOLATION=none): no process limit, and a process "
                       "that leaves the worker's process group may outlive it")
    elif os.geteuid() != 0:
        missing.append("not running as root: the worker keeps the grader's user, so no process limit "
                       "and a process that leaves the worker's process group may outlive it")
    elif bwrap is None and not _python_reachable():
        missing.append(PYTHON_UNREACHABLE)
    else:
        uid = -1  # claimed per worker
    cgroup = uid is not None and (why_not := Group.available()) is None
    if uid is not None and not cgroup:
        missing.append(f"no cgroup ({why_not}): memory and processes are bounded per process, not for the "
                       "worker's processes together")
    return Isolation(bwrap, uid, cgroup, missing)


# -- one worker process ------------------------------------------------------------------------


def _copy_submission(source: Path, dest: Path, budget: int) -> None:
    """Copy regular files only (never following a link), up to ``budget`` bytes in all."""
    dest.mkdir(mode=0o755)
    for entry in sorted(source.iterdir()):
        if entry.is_symlink() or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            _copy_submission(entry, dest / entry.name, budget)
        elif entry.is_file():
            budget -= entry.stat().st_size
            if budget < 0:
                raise SubmissionError(f"the submission folder is larger than the limit; {entry.name} and later files left out")
            shutil.copyfile(entry, dest / entry.name)
            os.chmod(dest / entry.name, 0o644)


def _library_imports(files: list[Path]) -> list[str]:
    """Installed modules that ``files`` import at top level, read with ``ast`` (nothing runs)."""
    names: list[str] = []
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
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


def _python_paths() -> list[Path]:
    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent}
    paths.update(Path(p) for p in sysconfig.get_paths().values())
    # never an ancestor of the repository: that would show solutions/ and tests/
    return sorted(p.resolve() for p in paths if p.exists() and p.resolve() not in [ROOT, *ROOT.parents])


def _bwrap_command(bwrap: str, submission: Path, limits: Limits) -> list[str]:
    binds = [*_python_paths(), *(ROOT / name for name in VISIBLE)]
    command = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
               "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:
        command.append("--unshare-user")
    command += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64"):
        link = Path("/") / top
        if link.is_symlink():
            command += ["--symlink", os.readlink(link), str(link)]
        elif link.is_dir():
            command += ["--ro-bind", str(link), str(link)]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime"):
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    made = {Path("/"), Path("/usr"), Path("/tmp")}
    for path in binds:
        for parent in reversed(path.parents):
            if parent not in made:  # bwrap would make missing parents 0700, unreadable after the drop
                command += ["--dir", str(parent)]
                made.add(parent)
        command += ["--ro-bind", str(path), str(path)]
        made.add(path)
    command += ["--ro-bind", str(submission), "/submission",
                "--perms", "1777", "--size", str(limits.scratch), "--tmpfs", "/tmp", "--chdir", "/tmp"]
    return command


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
        if self.isolation.bubblewrap:
            prefix = _bwrap_command(self.isolation.bubblewrap, self.staging / "submission", self.limits)
            root, cwd = "/submission", None
        else:
            prefix, root, cwd = [], str(self.staging / "submission"), self.staging / "scratch"
        if self.group is not None:
            prefix = [*self.group.join_command(), *prefix]
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
            self.isolation.bubblewrap = None
            self.isolation.missing.append(f"bubblewrap did not start the worker ({problem.splitlines()[0][:160]}); "
                                          "running without it, so the network is open and files are protected "
                                          "by their modes only")
            if self.isolation.uid is not None and not _python_reachable():
                self.isolation.uid = None
                self.isolation.missing.append(PYTHON_UNREACHABLE)
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
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
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
        except (wire.WireTimeout, TimeoutError, socket.timeout):
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
            claimed = _claim_uid()
            if claimed is None:
                self.isolation.uid = None
                self.isolation.missing.append("no free user id for the worker: it runs as root")
            else:
                self.isolation.uid, self._uid_lock = claimed
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.group = None
        if self.isolation.cgroup and self.isolation.uid is not None:
            self.group = Group(str(self.isolation.uid), self.limits.tree_memory, self.limits.processes)
            self.group.create()
        self._staging = Path(tempfile.mkdtemp(prefix="gradekit-sandbox-"))
        self._stage()
        prefetch = _library_imports([self._staging / "submission" / f"{t}.py" for t in topics])
        self.worker = Worker(self._staging, self.isolation, self.limits, prefetch, self.group)
        self.worker.spawn()
        self._failed: dict[str, str] = {}  # target or topic -> why it is not called again
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
        for key in (target.partition(".")[0], target):
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
            reply = self.worker.request(message, self.limits.call_timeout)
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
