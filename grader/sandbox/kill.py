"""Killing a worker's whole process tree, whatever it did to escape, and reaping only what was killed."""
from __future__ import annotations

import collections
import contextlib
import os
import signal
import time
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


# -- the handle ------------------------------------------------------------------------------
