"""The sandboxed worker: imports a submission and answers calls over a private socket.

Started by :mod:`grader.sandbox` as ``python -I -B -m grader.worker FD ROOT SETTINGS``. Everything
it runs is untrusted once the submission is imported, so it only ever sends plain data back
(:mod:`grader.wire`) and decides nothing: the grader validates and compares on its side. Standard
output and error belong to the submission; the protocol uses the inherited socket ``FD`` only.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import resource
import signal
import socket
import sys
from typing import Any

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1


def confine(limits: dict[str, int]) -> None:
    """Apply the grader's resource limits, then drop to the worker's own user if one is given.

    Hard limits too: the submission cannot raise them again.
    """
    for key, which in (("data", resource.RLIMIT_DATA), ("fsize", resource.RLIMIT_FSIZE),
                       ("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        if key in limits:
            resource.setrlimit(which, (limits[key], limits[key]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    parent = os.getppid()
    if "uid" in limits:
        drop_privileges(limits["uid"], limits["gid"])
    # after the drop, which clears it: if the grader dies, so does the worker
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid:gid`` for good, with no way back through setuid programs."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def serve(sock: socket.socket, root: str, prefetch: list[str]) -> None:
    """Answer requests until the grader closes the socket.

    ``prefetch`` names installed libraries the submission imports; importing them before the
    first request lets that work overlap with the grader's own start-up.
    """
    import torch  # before the hello: the grader's start-up timeout covers it, not the first call

    from grader import wire
    from grader.handle import LocalImplementation

    impl = LocalImplementation(root, check_signatures=False)
    wire.send(sock, {"hello": os.getpid(), "torch": str(torch.__version__)})
    for name in prefetch:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - the submission's own import will report it
            pass
    while True:
        try:
            request = wire.receive(sock)
        except wire.WireError:
            return  # the grader went away
        frame = answer(impl, request)
        del request
        gc.collect(1)  # a returned object's __del__ runs now, charged to this call, not the next
        sock.sendall(frame)


def answer(impl: Any, request: dict[str, Any]) -> bytes:
    """The reply frame to one request: ``ok`` with plain data, or ``error`` with the class names."""
    from grader import wire
    from grader.handle import SubmissionError
    from grader.plain import NotPlain

    try:
        if request["op"] == "load":
            impl.load(request["topic"])
            value = None
        elif request["op"] == "call":
            value = impl.call(request["target"], *request["args"], **request["kwargs"])
        else:
            value = impl.scenario(request["name"], request["target"], **request["inputs"])
        return wire.frame({"id": request["id"], "ok": value})
    except SubmissionError as err:
        return wire.frame({"id": request["id"], "error": str(err), "mro": list(err.mro)})
    except NotPlain as err:
        return wire.frame({"id": request["id"], "error": f"{request['target']} returned {err}", "mro": []})


def main(argv: list[str]) -> None:
    fd, root = int(argv[0]), argv[1]
    settings = json.loads(argv[2])
    confine(settings["limits"])
    sock = socket.socket(fileno=fd)
    serve(sock, root, settings["prefetch"])
    os._exit(0)  # skip interpreter teardown: a submission's atexit hooks and __del__ do not run


if __name__ == "__main__":
    main(sys.argv[1:])
