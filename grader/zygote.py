"""The fork server inside the sandbox: a fresh worker for each graded function.

Started by :mod:`grader.sandbox` as ``python -I -B -m grader.zygote FD ROOT SETTINGS``. It
confines itself (:func:`grader.worker.confine`), imports torch, the code every worker runs and the
libraries the submission imports, and from then on only forks: for each graded function the
grader sends a socket along with a one-byte request, and a child forked here serves that
function's calls on it (:func:`grader.worker.serve`). The fork server never imports the
submission and never runs a torch computation: a fork after a parallel op can hang in the
child, and a fork of a parent that never saw submitted code starts clean.

It is a subreaper, so whatever a worker orphans (a double fork, ``setsid``) stays below it,
where the grader finds and kills it after each call; it reaps what dies there and tells the
grader how a worker ended. It cannot be traced by its workers (not dumpable), though they run as
its user and may signal it; the grader checks it after every call.

Requests on the control socket are 5 bytes, an operation and a pid (unsigned, big-endian):
``F`` forks a worker on the socket passed with it (answer ``{"pid": n}``); ``S`` asks how
worker ``pid`` ended (answer ``{"status": code}``, ``None`` if it has not, after a second); ``R``
removes the System V IPC objects of the sandbox's IPC namespace, once its workers are dead, for a
fork server kept for the next submission (answer ``{"left": n}``, those it could not remove).
"""
from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any

from grader import worker
from grader.worker import prctl

REQUEST = struct.Struct(">cI")
FORK, STATUS, RESET = b"F", b"S", b"R"
_IPC_KINDS = ("shm", "msg", "sem")  # the tables of /proc/sysvipc; the id is the second column
_IPC_RMID = 0


def run(control: socket.socket, root: str, prefetch: list[str]) -> None:
    """Say hello, import what workers need, then fork one worker per request until the grader leaves."""
    import torch  # before the hello: the grader's start-up timeout covers it, not the first call

    from grader import torch_state, wire

    prctl(worker.PR_SET_CHILD_SUBREAPER, 1)
    prctl(worker.PR_SET_DUMPABLE, 0)
    wire.send(control, {"hello": os.getpid(), "torch": str(torch.__version__)})
    for name in ("grader.handle", "grader.plain", "grader.scenarios"):  # every worker runs these: import them once
        importlib.import_module(name)
    for name in prefetch:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001, S110 - the submission's own import will report it
            pass
    library = torch_state.library()  # before any submitted code: what a worker compares after its import
    gc.collect()
    gc.freeze()  # the collector leaves these objects alone: a worker copies fewer of our pages
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wake-up byte is written
    signal.set_wakeup_fd(wake_w)
    workers: set[int] = set()
    ended: dict[int, int] = {}
    while True:
        ready = select.select([control, wake_r], [], [])[0]
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _reap(workers, ended)
        if control not in ready:
            continue
        request = _receive(control)
        if request is None:
            return  # the grader went away
        op, pid, fds = request
        if op == FORK and len(fds) == 1:
            child = os.fork()
            if child == 0:
                _become_worker(fds[0], [control.fileno(), wake_r, wake_w], root, library)
            os.close(fds[0])
            workers.add(child)
            wire.send(control, {"pid": child})
        elif op == STATUS:
            deadline = time.monotonic() + 1.0
            while pid in workers and pid not in ended and time.monotonic() < deadline:
                time.sleep(0.01)
                _reap(workers, ended)
            workers.discard(pid)
            wire.send(control, {"status": ended.pop(pid, None)})
        elif op == RESET:
            wire.send(control, {"left": _remove_ipc()})
        else:
            for fd in fds:
                os.close(fd)


def _receive(control: socket.socket) -> tuple[bytes, int, list[int]] | None:
    """One request and the descriptors sent with it; None when the grader closed the socket."""
    data, fds, _flags, _addr = socket.recv_fds(control, REQUEST.size, 1)
    while data and len(data) < REQUEST.size:
        more = control.recv(REQUEST.size - len(data))
        if not more:
            return None
        data += more
    if not data:
        return None
    op, pid = REQUEST.unpack(data)
    return op, pid, fds


def _reap(workers: set[int], ended: dict[int, int]) -> None:
    """Collect every dead process below us; remember how our workers ended (Popen's sign convention)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in workers:
            ended[pid] = os.waitstatus_to_exitcode(status)


def _ipc_ids() -> dict[str, list[int]]:
    """The System V IPC objects of our IPC namespace, by kind (``/proc/sysvipc`` shows the reader's)."""
    found: dict[str, list[int]] = {}
    for kind in _IPC_KINDS:
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as table:
                found[kind] = [int(line.split()[1]) for line in list(table)[1:] if line.strip()]
        except (OSError, ValueError, IndexError):
            found[kind] = []
    return found


def _remove_ipc() -> int:
    """Remove every System V shared memory segment, message queue and semaphore set; how many are left."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    remove = {"shm": lambda i: libc.shmctl(i, _IPC_RMID, None), "msg": lambda i: libc.msgctl(i, _IPC_RMID, None),
              "sem": lambda i: libc.semctl(i, 0, _IPC_RMID)}
    for kind, ids in _ipc_ids().items():
        for ident in ids:
            remove[kind](ident)
    return sum(map(len, _ipc_ids().values()))


def _become_worker(fd: int, inherited: list[int], root: str, library: dict[str, Any]) -> None:
    """In the forked child: drop what belongs to the fork server, then serve one function's calls."""
    code = 70
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for inherited_fd in inherited:
            os.close(inherited_fd)
        server = os.getppid()
        prctl(worker.PR_SET_PDEATHSIG, signal.SIGKILL)  # not inherited through fork: set again
        if os.getppid() != server:
            os._exit(1)
        worker.serve(socket.socket(fileno=fd), root, library)
        code = 0
    finally:
        os._exit(code)  # never back into the fork server's loop; no interpreter teardown, no atexit hooks


def main(argv: list[str]) -> None:
    fd, root = int(argv[0]), argv[1]
    settings = json.loads(argv[2])
    worker.confine(settings["limits"])
    run(socket.socket(fileno=fd), root, settings["prefetch"])
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
