"""Killing what a worker started: after each call (below the fork server), and the whole tree at the end."""
from __future__ import annotations

import collections
import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from grader.cgroups import Group


def processes() -> list[tuple[int, int, int, int]]:
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


def kill_tree(pid: int, uid: int | None, group: Group | None = None) -> None:
    """SIGKILL everything the worker ``pid`` started, until nothing is left.

    That is its descendants, the rest of its session (orphans of a double fork reach us, a
    subreaper, and keep the session), every process of its own ``uid`` and of its cgroup.
    Repeated so that a fork bomb cannot outrun it.
    """
    if not Path("/proc/self/status").exists():
        return
    for _ in range(200):
        procs = processes()
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
        reap(doomed)


def reap(pids: set[int]) -> None:
    """Collect those of ``pids`` that became our children (orphans reach a subreaper).

    Only these: waiting on any child would steal the exit status of an unrelated subprocess.
    """
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


# -- below the fork server, after each call -----------------------------------------------------


def read(path: str) -> str:
    """A small ``/proc`` file, read in one system call (this runs after every call: no pathlib)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 1 << 16).decode("utf-8", "replace")
    finally:
        os.close(fd)


def children(pid: int, *, single_threaded: bool = False) -> list[int]:
    """The children of every thread of ``pid`` (empty when it is gone); of its main thread only
    when the caller knows it has no other."""
    tasks = [str(pid)]
    if not single_threaded:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return []
    found: list[int] = []
    for tid in tasks:
        with contextlib.suppress(OSError, ValueError):
            found += [int(child) for child in read(f"/proc/{pid}/task/{tid}/children").split()]
    return found


def state(pid: int) -> str | None:
    """The state letter of ``pid`` (``R``, ``S``, ``T``, ``Z``, ...), or None when it is gone."""
    try:
        return read(f"/proc/{pid}/stat").rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return None


_PF_EXITING = 0x4
_SIGKILL_BIT = 1 << (signal.SIGKILL - 1)
_SIGCHLD_BIT = 1 << (signal.SIGCHLD - 1)


def doomed(pid: int) -> bool:
    """Whether ``pid`` is gone, dead, exiting, or has a SIGKILL pending: it will run nothing more."""
    try:
        fields = read(f"/proc/{pid}/stat").rpartition(")")[2].split()
        if fields[0] in ("Z", "X") or int(fields[6]) & _PF_EXITING:
            return True
        status = dict(line.split(":", 1) for line in read(f"/proc/{pid}/status").splitlines() if ":" in line)
        return bool((int(status["SigPnd"], 16) | int(status["ShdPnd"], 16)) & _SIGKILL_BIT)
    except (OSError, IndexError, KeyError, ValueError):
        return True


def intact(pid: int) -> bool:
    """Whether ``pid`` runs or sleeps with no signal on its way but SIGCHLD: nothing stopped it, and
    nothing pending will stop it, end it or interrupt it (as a worker that signals its parent would)."""
    try:
        status = dict(line.split(":", 1) for line in read(f"/proc/{pid}/status").splitlines() if ":" in line)
        pending = int(status["SigPnd"], 16) | int(status["ShdPnd"], 16)
        return status["State"].split()[0] in ("R", "S", "D") and not pending & ~_SIGCHLD_BIT
    except (OSError, IndexError, KeyError, ValueError):
        return False


def inner_pid(pid: int) -> int | None:
    """The pid that ``pid`` has in its own (innermost) pid namespace."""
    try:
        for line in read(f"/proc/{pid}/status").splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def kill_below(server: int, keep: frozenset[int] = frozenset(),
               spare: Callable[[], frozenset[int]] | None = None, single: frozenset[int] = frozenset()) -> int:
    """SIGKILL every live process below the fork server ``server`` but those in ``keep`` (workers to
    keep; what they started is not spared); how many were killed.

    ``spare`` names a worker forked ahead; it is asked, once, when a child of ``server`` that
    ``keep`` does not hold is found: a fork in flight may be the spare as well as an intruder.
    ``server`` runs one thread, and so do the processes in ``single`` (as just read): their
    children are read from their main thread only.

    The fork server is a subreaper, so nothing a worker started leaves its tree while it lives.
    A process that a SIGKILL is pending for can no longer fork (the kernel aborts a fork under
    way), so once a scan finds nothing it has not already killed, nothing is left to kill: no
    need to wait for the dead to finish dying.
    """
    killed: set[int] = set()
    for _ in range(1000):  # a fork bomb adds processes while we kill: go round again
        found, stack = [], children(server, single_threaded=True)
        if spare is not None and any(pid not in keep for pid in stack):
            keep, spare = keep | spare(), None
        while stack:
            pid = stack.pop()
            stack += children(pid, single_threaded=pid in single)
            if pid not in keep and pid not in killed and not doomed(pid):
                found.append(pid)
        if not found:
            break
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        killed.update(found)
    return len(killed)
