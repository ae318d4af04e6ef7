"""A sandboxed worker: serves one graded function's calls over a private socket.

Forked by the fork server (:mod:`grader.zygote`), which also runs :func:`confine` once for all its
workers. A worker imports the submission's module of its function and answers calls and scenarios
for that function only; the grader forks a fresh one for the next function. Everything it runs is
untrusted once the submission is imported, so it only ever sends plain data back
(:mod:`grader.wire`) and decides nothing: the grader validates and compares on its side. Standard
output and error belong to the submission; the protocol uses its socket only.
"""
from __future__ import annotations

import ctypes
import gc
import os
import resource
import signal
import socket
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38


def prctl(option: int, value: int) -> None:
    """``prctl(option, value)`` of this process (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def confine(limits: dict[str, int]) -> None:
    """Apply the grader's resource limits, then drop to the worker's own user if one is given.

    Hard limits too: the submission cannot raise them again.
    """
    for key, which in (("data", resource.RLIMIT_DATA), ("fsize", resource.RLIMIT_FSIZE),
                       ("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        if key in limits:
            resource.setrlimit(which, (limits[key], limits[key]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # POSIX message queues outlive their processes and cannot be listed without a mount: none may
    # be made, so that a fork server kept for the next submission holds none of this one's
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
    parent = os.getppid()
    if "uid" in limits:
        drop_privileges(limits["uid"], limits["gid"])
    # after the drop, which clears it: if the grader dies, so does the worker
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid:gid`` for good, with no way back through setuid programs."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def serve(sock: socket.socket, root: str, library: dict[str, Any]) -> None:
    """Answer requests until the grader closes the socket.

    ``library`` is the fork server's snapshot of torch's own functions
    (:func:`grader.torch_state.library`), taken before any submitted code ran.
    """
    from grader import wire
    from grader.handle import LocalImplementation

    impl = LocalImplementation(root, check_signatures=False)
    warm_up(library)
    while True:
        try:
            request = wire.receive(sock)
        except wire.WireError:
            return  # the grader went away
        # Traceable (and its /proc readable by the grader's user) only once it serves: a worker
        # forked ahead waits untraceable, as its parent is, while another function's worker runs.
        prctl(PR_SET_DUMPABLE, 1)
        frame = answer(impl, request, library)
        del request
        gc.collect(1)  # a returned object's __del__ runs now, charged to this call, not the next
        sock.sendall(frame)


def warm_up(library: dict[str, Any]) -> None:
    """Pay now, while the grader still works with the previous function's worker, what the first
    call of a fresh fork would pay: the pages of our own objects copied as they are touched,
    autograd's first backward, the wire's first tensors. Grader code only, before any submitted
    code: the worker stays as clean as the fork server. No random numbers are drawn, so the
    submission sees the same generators as without it.
    """
    import torch

    from grader import torch_state, wire

    x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    (x * x).sum().backward()
    wire.decode(*wire.encode({"tensor": x.detach(), "array": x.detach().numpy(), "number": 1.0}))
    torch_state.replaced(library)
    torch_state.settings()


def answer(impl: Any, request: dict[str, Any], library: dict[str, Any]) -> bytes:
    """The reply frame to one request: ``ok`` with plain data, or ``error`` with the class names.

    Every reply carries torch's settings as the request left them (``state``); the reply to
    ``load`` also says what importing the module changed: the settings before it, and which of
    torch's own functions it replaced.
    """
    from grader import torch_state, wire
    from grader.handle import SubmissionError
    from grader.plain import NotPlain

    reply: dict[str, Any] = {"id": request["id"]}
    try:
        if request["op"] == "load":
            reply["before"] = torch_state.settings()
            impl.load(request["topic"])
            reply["replaced"] = torch_state.replaced(library)
            reply["ok"] = None
        elif request["op"] == "call":
            reply["ok"] = impl.call(request["target"], *request["args"], **request["kwargs"])
        else:
            reply["ok"] = impl.scenario(request["name"], request["target"], **request["inputs"])
    except SubmissionError as err:
        reply.pop("ok", None)
        reply.update(error=str(err), mro=list(err.mro))
    reply["state"] = torch_state.settings()
    try:
        return wire.frame(reply)
    except NotPlain as err:
        return wire.frame({"id": request["id"], "error": f"{request['target']} returned {err}", "mro": [],
                           "state": reply["state"]})
