"""A control group per worker, where the machine lets us make one: a ceiling for the whole tree.

Resource limits (``setrlimit``) bound each process; a worker that forks many processes which
each allocate could still add up. A cgroup bounds the sum: memory of every process in it, and
how many there are. Only cgroup v1 (``memory`` and ``pids`` hierarchies, as in most
containers) is used; elsewhere the worker runs without one and the report says so.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

V1 = Path("/sys/fs/cgroup")


class Group:
    """The cgroups ``gradekit-<name>`` under the v1 ``memory`` and ``pids`` hierarchies."""

    def __init__(self, name: str, memory: int, processes: int):
        self.dirs = {"memory": V1 / "memory" / f"gradekit-{name}", "pids": V1 / "pids" / f"gradekit-{name}"}
        self.settings = {"memory": {"memory.limit_in_bytes": memory, "memory.swappiness": 0},
                         "pids": {"pids.max": processes}}

    @staticmethod
    def available() -> str | None:
        """Why no cgroup can be made here, or None when one can."""
        if os.geteuid() != 0:
            return "not root"
        for kind in ("memory", "pids"):
            if not os.access(V1 / kind, os.W_OK) or not (V1 / kind / "cgroup.procs").exists():
                return f"no writable cgroup v1 '{kind}' hierarchy"
        return None

    def create(self) -> None:
        for kind, folder in self.dirs.items():
            folder.mkdir(exist_ok=True)
            for key, value in self.settings[kind].items():
                with contextlib.suppress(OSError):  # swappiness is missing on some kernels
                    (folder / key).write_text(str(value))

    def join_command(self) -> list[str]:
        """A prefix that moves itself into the group, then execs the rest of the command."""
        procs = " ".join(str(folder / "cgroup.procs") for folder in self.dirs.values())
        script = f'for f in {procs}; do echo $$ > "$f" || exit 97; done; exec "$@"'
        return ["/bin/sh", "-c", script, "gradekit-cgroup"]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in self.dirs.values():
            with contextlib.suppress(OSError):
                found.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
        return found

    def remove(self) -> None:
        for folder in self.dirs.values():
            with contextlib.suppress(OSError):
                folder.rmdir()

    @staticmethod
    def sweep(dead: Callable[[str], bool]) -> int:
        """Remove each empty group whose name (after ``gradekit-``) ``dead`` says has no owner left; how many went."""
        removed = 0
        for kind in ("memory", "pids"):
            for folder in (V1 / kind).glob("gradekit-*"):
                if dead(folder.name.removeprefix("gradekit-")):
                    with contextlib.suppress(OSError):
                        folder.rmdir()
                        removed += 1
        return removed
