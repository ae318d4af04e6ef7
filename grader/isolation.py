"""How the workers are confined: the strongest isolation the machine offers, and what it lacks.

Chosen once per submission, for the fork server (:mod:`grader.zygote`), whose workers inherit it,
from strongest to weakest:

- bubblewrap: own pid, network, IPC and UTS namespaces; a read-only view of the system, the
  Python installation, ``grader/``, ``stubs/`` and the topics' scenarios only (not
  the reference solutions and the checks in ``course/``, ``tests/``, the repository's history or the grader's
  outputs); a size-limited private ``/tmp`` as working directory;
- without bubblewrap, as root: ``unshare`` for the pid, network, IPC and UTS namespaces, the
  file system as file modes allow;
- a user of its own (as root, where that user can run our Python): the process limit applies,
  other users' files are protected by their modes, and killing by user reaches every process;
  where it cannot, the worker stays root but without any capability;
- a cgroup (as root, cgroup v1): memory and processes bounded for the whole tree;
- resource limits everywhere (the fork server applies them to itself, :func:`grader.worker.confine`,
  before it imports anything), and a wall-clock limit per call enforced by killing the worker.

Whatever the level, each graded function gets a fresh worker, and after each call what the
worker started is killed and what it holds is checked against a :class:`Budget`: that needs no
privilege.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.cgroups import Group
from grader.layout import LAYOUT

ROOT = LAYOUT.root


def visible() -> list[Path]:
    """The only parts of this repository a worker may read: the engine, the provided code, and
    of the course content only what runs next to a submission: scenarios and training loops,
    never the checks."""
    course = LAYOUT.course
    return [LAYOUT.engine, LAYOUT.stubs, course / "__init__.py",
            *sorted(p for p in course.glob("*/*.py")
                    if p.name in ("__init__.py", "scenarios.py", "training.py") and not p.is_relative_to(LAYOUT.solutions))]

UID_RANGE = range(61000, 61064)
LEVELS = ("full", "no-bubblewrap", "none")  # GRADEKIT_ISOLATION, to test the fallbacks
NAMESPACES = ["--pid", "--net", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc"]
PYTHON_UNREACHABLE = ("Python is installed where other users cannot read it: the worker runs as root, "
                      "without capabilities, and can read and write what root owns")


@dataclass(frozen=True)
class Budget:
    """What a function's worker may hold between two calls; past any of it, the worker is replaced
    before the next call, and the report says so under that function. Descriptors and threads
    count from what the worker held right after importing its module. Processes have no budget:
    every one a worker started is killed after each call. A function whose worker was replaced
    ``replacements`` times keeps its next one whatever it holds: a function that fills the
    scratch on every call would otherwise cost a fresh worker per call, and what it leaves only
    reaches its own calls (the next function gets a fresh worker and an empty scratch anyway)."""

    descriptors: int = 32  # of the 256 a worker may open
    threads: int = 0  # left running beside the one that answers
    resident: int = 2 << 30  # bytes of memory in RAM
    scratch: int = 64 << 20  # bytes of files in the scratch folder
    scratch_entries: int = 1000  # files and folders there
    replacements: int = 10  # per function; then it keeps its worker, and only its own calls suffer


@dataclass(frozen=True)
class Limits:
    """What one worker may use. Sizes in bytes, times in seconds."""

    call_timeout: float = 30.0
    import_timeout: float = 60.0  # importing one topic, with the libraries it imports (torch_geometric: ~5 s)
    start_timeout: float = 120.0
    memory: int = 4 << 30  # RLIMIT_DATA: heap and private mappings (torch alone maps ~1 GiB)
    file_size: int = 64 << 20
    open_files: int = 256
    processes: int = 256  # threads count too; enforced only under a user of its own
    tree_memory: int = 6 << 30  # all the worker's processes together, where a cgroup is possible
    scratch: int = 256 << 20  # the private /tmp under bubblewrap
    submission: int = 64 << 20  # the copy of the submission folder
    source: int = 1 << 20  # one topic's .py, which the trusted side parses (see _oversized_sources)
    reply: int = 512 << 20
    crashes_per_target: int = 3
    output_kept: int = 4000
    budget: Budget = field(default_factory=Budget)


@dataclass
class Isolation:
    """How a worker is isolated, and what is missing, in words for the report."""

    bubblewrap: str | None = None  # path of bwrap
    unshare: str | None = None  # path of unshare, used where bubblewrap is not
    uid: int | None = None  # the worker's own user (-1: to be claimed), or None to keep ours
    cgroup: bool = False  # a control group bounds the worker's whole tree
    missing: list[str] = field(default_factory=list)

    def describe(self, limits: Limits) -> str:
        if self.bubblewrap:
            how = [("bubblewrap (no network; own pid namespace; sees only the system, Python, grader/, stubs/ "
                    "and the scenarios)")]
        elif self.unshare:
            how = ["unshare (no network; own pid namespace)"]
        else:
            how = ["a plain process"]
        if self.uid is not None:
            how.append(f"user {self.uid}")
        if self.cgroup:
            how.append(f"cgroup of {limits.tree_memory >> 20} MiB and {limits.processes} processes")
        text = (f"sandbox: {', '.join(how)}; limits {limits.call_timeout:g} s per call, "
                f"{limits.import_timeout:g} s per import, "
                f"{limits.memory >> 20} MiB data, {limits.file_size >> 20} MiB per file")
        if self.missing:
            text += "; degraded: " + "; ".join(self.missing)
        return text

    def fall_back(self, why: str) -> None:
        """Bubblewrap passed its probe but could not start the worker: go on without it."""
        self.bubblewrap = None
        self.missing.append(f"bubblewrap did not start the worker ({why.splitlines()[0][:160]}); running "
                            "without it, so files are protected by their modes only")
        self.unshare = _unshare()
        if self.uid is not None and not python_reachable():
            self.uid = None
            self.missing.append(PYTHON_UNREACHABLE)

    def command(self, submission: Path, limits: Limits, group: Group | None) -> tuple[list[str], bool]:
        """The prefix that confines the worker, and whether it sees ``submission`` at ``/submission``."""
        if self.bubblewrap:
            prefix, remapped = bubblewrap_command(self.bubblewrap, submission, limits), True
        elif self.unshare:
            prefix, remapped = [self.unshare, *NAMESPACES, "--"], False
        else:
            prefix, remapped = [], False
        if os.geteuid() == 0 and self.uid is None and (setpriv := shutil.which("setpriv")):
            # a worker that must stay root keeps no capability: no mounts, no raw sockets, no ptrace
            prefix += [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]
        if group is not None:
            prefix = [*group.join_command(), *prefix]
        return prefix, remapped


def _probe(path: str, flags: list[str]) -> str | None:
    """Why ``path FLAGS -- true`` fails here (the namespaces cannot be made), or None when it runs."""
    try:
        done = subprocess.run([path, *flags, "--", "true"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def _unshare() -> str | None:
    """The ``unshare`` program, where it can make our namespaces (as root), else None."""
    path = shutil.which("unshare")
    return path if os.geteuid() == 0 and path and _probe(path, NAMESPACES) is None else None


def _world_reachable(path: Path) -> bool:
    """Whether any user may walk down to ``path`` (every ancestor has o+x)."""
    for part in [path, *path.parents]:
        try:
            if not os.stat(part).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def python_reachable() -> bool:
    """Whether a user of its own could run our Python without bubblewrap re-mounting it."""
    return all(_world_reachable(Path(p)) for p in (sys.base_prefix, sys.prefix, ROOT))


def claim_uid() -> tuple[int, int] | None:
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


def choose_isolation() -> Isolation:
    """The strongest isolation this machine supports (capped by ``GRADEKIT_ISOLATION``)."""
    level = os.environ.get("GRADEKIT_ISOLATION", "full")
    if level not in LEVELS:
        raise ValueError(f"GRADEKIT_ISOLATION={level!r}; choose one of {', '.join(LEVELS)}")
    root = os.geteuid() == 0
    found = Isolation()
    bwrap = shutil.which("bwrap")
    if level != "full":
        found.missing.append(f"bubblewrap switched off (GRADEKIT_ISOLATION={level}): files are protected by "
                             "their modes only")
    elif bwrap is None:
        found.missing.append("bubblewrap not installed (install the 'bubblewrap' package): files are protected "
                             "by their modes only")
    elif (why := _probe(bwrap, ["--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
                                *([] if root else ["--unshare-user"])])) is not None:
        found.missing.append(f"bubblewrap cannot create namespaces here ({why.splitlines()[0][:120]}): files "
                             "are protected by their modes only")
    else:
        found.bubblewrap = bwrap
    if not found.bubblewrap and level != "none":
        found.unshare = _unshare()
        if found.unshare is None:
            found.missing.append("no network or pid namespace (needs bubblewrap, or root and unshare): the "
                                 "worker can use the network and see other processes")
    if level == "none":
        found.missing.append("everything but resource limits switched off (GRADEKIT_ISOLATION=none): no "
                             "namespaces, no user of its own, no cgroup")
        return found
    if not root:
        found.missing.append("not running as root: the worker keeps the grader's user, so no process limit "
                             "and a process that leaves the worker's session may outlive it")
    elif found.bubblewrap or python_reachable():
        found.uid = -1  # claimed per worker
    else:
        found.missing.append(PYTHON_UNREACHABLE)
    found.cgroup = root and (why_not := Group.available()) is None
    if root and not found.cgroup:
        found.missing.append(f"no cgroup ({why_not}): memory and processes are bounded per process, not for the "
                             "worker's processes together")
    return found


def _python_paths() -> list[Path]:
    paths = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent}
    paths.update(Path(p) for p in sysconfig.get_paths().values())
    # folders a .pth file adds (a shared set of libraries, a distribution's own packages): the
    # worker's Python reads the same .pth files and imports from there
    paths.update(Path(p) for p in sys.path if p and Path(p).is_absolute())
    installed = ROOT in {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    # never an ancestor of a checkout: that would show solutions/, tests/ and .git. An installed
    # wheel lives inside the Python installation: what it must hide is masked instead (masked()).
    return sorted(p.resolve() for p in paths if p.exists() and (installed or p.resolve() not in [ROOT, *ROOT.parents]))


def masked(bound: list[Path]) -> list[Path]:
    """What lies under a bound path but must stay unreadable: the reference solutions, the
    project's tests, and every course file the worker is not shown (compiled ones included)."""
    shown = set(visible())
    secret = [LAYOUT.solutions, ROOT / "tests",
              *(p for p in sorted(LAYOUT.course.rglob("*"))
                if p.is_file() and p not in shown and not p.is_relative_to(LAYOUT.solutions))]
    return [p for p in secret if p.exists() and any(p.is_relative_to(b) for b in bound)]


def bubblewrap_command(bwrap: str, submission: Path, limits: Limits) -> list[str]:
    binds = [*_python_paths(), *visible()]
    command = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
               "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:
        command.append("--unshare-user")
    command += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for node in sorted(Path("/dev").glob("nvidia*")):  # a GPU, for training checks on CUDA (--device)
        command += ["--dev-bind", str(node), str(node)]
    for top in ("bin", "sbin", "lib", "lib32", "lib64"):
        link = Path("/") / top
        if link.is_symlink():
            command += ["--symlink", os.readlink(link), str(link)]
        elif link.is_dir():
            command += ["--ro-bind", str(link), str(link)]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime"):
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # the private /tmp first: a checkout or a Python that lives under /tmp is bound on top of it
    command += ["--perms", "1777", "--size", str(limits.scratch), "--tmpfs", "/tmp"]
    made = {Path("/"), Path("/usr"), Path("/tmp")}
    for path in binds:
        for parent in reversed(path.parents):
            if parent not in made:  # bwrap would make missing parents 0700, unreadable after the drop
                command += ["--dir", str(parent)]
                made.add(parent)
        command += ["--ro-bind", str(path), str(path)]
        made.add(path)
    for path in masked(binds):
        command += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    command += ["--ro-bind", str(submission), "/submission", "--chdir", "/tmp"]
    return command
