"""A fork server that a batch slot keeps from one submission to the next.

Starting the sandboxed fork server costs every submission about 1.7 s of CPU, most of it torch's
import. A batch slot (:mod:`grader.batch.slot`) instead starts one in a bubblewrap sandbox of its
own (its own user, cgroup and staging folder) and hands it to each grading child in turn. The
fork server never runs submitted code, only forks workers that do, so it can serve the next
submission once nothing of the last one is left. :meth:`KeptServer.prepare` makes sure of that
before every grading child, and starts a fresh fork server when anything is in doubt:

- every process below it is killed (it is a subreaper in its own pid namespace: a worker's
  descendants cannot leave its tree), and the fork server must then be running, untouched;
- its replies to requests of a grading child that died before reading them are skipped;
- System V IPC objects are removed (POSIX message queues cannot be made at all: the workers'
  ``RLIMIT_MSGQUEUE`` is 0), and the private ``/tmp`` is emptied back to how it started;
- the staging folder that the sandbox shows as ``/submission`` is emptied for the next copy.

Only bubblewrap gives the fork server an IPC namespace and a ``/tmp`` of its own; elsewhere each
submission starts its own fork server, as ``grader grade`` does.
"""
from __future__ import annotations

import shutil
import time

from grader.isolation import Limits
from grader.sandbox import kill
from grader.sandbox.process import Zygote
from grader.sandbox.staging import confine, release, staging_folder

_current: KeptServer | None = None


class KeptServer:
    """The fork server a batch slot keeps, with the staging folder, user and cgroup it runs under.

    Parameters
    ----------
    limits : Limits
        What its workers may use (the per-call timeouts are the grading child's own).
    prefetch : list of str
        Libraries it imports before forking: those the graded topics' reference solutions import.
    """

    def __init__(self, limits: Limits, prefetch: list[str]):
        self.isolation, self._uid_lock, self.group = confine(limits)
        self.staging = staging_folder(self.isolation)
        self.zygote = Zygote(self.staging, self.isolation, limits, prefetch, self.group)
        self.restarts = 0  # fork servers started again: one was lost or could not be cleared
        self._started = False

    @property
    def usable(self) -> bool:
        """Whether submissions may share it: only under bubblewrap (see the module's notes)."""
        return self.isolation.bubblewrap is not None

    def prepare(self) -> None:
        """Before a grading child is forked: the fork server cleared of the last submission, or a fresh one."""
        zygote = self.zygote
        if zygote.proc is None or zygote.proc.poll() is not None or not zygote.alive() or not self._cleared():
            self.restarts += self._started
            self._started = True
            zygote.kill()
            zygote.spawn(drain=False)
            zygote.ensure()
        folder = self.staging / "submission"
        for entry in list(folder.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def _cleared(self) -> bool:
        """Kill everything below the fork server and remove what the last submission left; whether all went."""
        zygote = self.zygote
        kill.kill_below(zygote.pid)
        if zygote.remove_ipc() != 0:
            return False
        kill.kill_below(zygote.pid)  # workers forked for requests that were still queued
        deadline = time.monotonic() + 2.0
        while kill.children(zygote.pid, single_threaded=True):  # until the fork server has reaped them
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        zygote.empty_scratch()
        return zygote.scratch_usage() == (0, 0) and zygote.alive()

    def close(self) -> None:
        self.zygote.kill()
        release(self.staging, self._uid_lock, self.group)
        self._uid_lock = None


def keep(server: KeptServer | None) -> None:
    """Make ``server`` the one the next :class:`~grader.sandbox.SandboxImplementation` of this process takes."""
    global _current
    _current = server


def kept() -> KeptServer | None:
    """The fork server kept for this process's submissions, if any and usable."""
    return _current if _current is not None and _current.usable else None
