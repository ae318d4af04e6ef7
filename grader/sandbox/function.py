"""One graded function's worker, seen from the trusted side: its requests, and what it holds after each.

Forked by the fork server (:class:`grader.sandbox.process.Zygote`) for one target, it imports that
target's module and serves that target's calls only. After each reply the trusted side reads
what the worker holds from ``/proc`` (:meth:`FunctionWorker.usage`), never from the worker's
own account, and compares it with :class:`grader.isolation.Budget`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from grader.sandbox import kill
from grader.sandbox.process import WorkerLost, Zygote, exit_reason


@dataclass(frozen=True)
class Usage:
    """What a worker holds between two calls, read from ``/proc``."""

    descriptors: int
    threads: int
    resident: int  # bytes


class FunctionWorker:
    """A forked worker serving one target's calls.

    Attributes
    ----------
    retired : list of str
        Why it must not serve another call (empty while it may).
    settings : dict or None
        torch's settings after its import, as it reported them: a call that leaves them otherwise
        has changed what the next call computes.
    imported : Usage or None
        What it held right after importing its module; the budgets count from there.
    """

    def __init__(self, zygote: Zygote, target: str):
        self.zygote, self.target = zygote, target
        self.sock, self.inner, self.pid = zygote.fork()
        self.retired: list[str] = []
        self.settings: dict[str, Any] | None = None
        self.imported: Usage | None = None
        self._ids = 0

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request; return the worker's reply (``ok`` or ``error``).

        Raises
        ------
        WorkerLost
            When the worker timed out, died, or answered out of protocol.
        """
        from grader import wire

        self._ids += 1
        message = {**message, "id": self._ids}
        try:
            self.sock.settimeout(timeout)
            wire.send(self.sock, message)
            self.sock.settimeout(None)
            reply = wire.receive(self.sock, timeout=timeout, max_bytes=self.zygote.limits.reply)
        except (wire.WireTimeout, TimeoutError):  # TimeoutError: the send blocked
            raise WorkerLost(f"did not finish within {timeout:g} s (stopped)", timed_out=True) from None
        except (wire.WireError, OSError) as err:
            code = self.zygote.status(self.inner)
            output = self.zygote.output_tail().strip()
            reason = exit_reason(code) if code is not None else f"broke the connection ({err})"
            tail = f"; its output ended with: {output[-300:]!r}" if output else ""
            raise WorkerLost(f"ended the grading process: it {reason}{tail}") from None
        if type(reply) is not dict or reply.get("id") != self._ids or not ({"ok", "error"} & reply.keys()):
            raise WorkerLost("answered out of protocol (the grading process was tampered with)")
        return reply

    def usage(self) -> Usage | None:
        """Its open descriptors, threads and resident memory now; None when it is gone."""
        try:
            status = kill.read(f"/proc/{self.pid}/status")
            descriptors = len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return None
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").split()[:1] in (["Z"], ["X"]):
            return None
        try:
            resident = int(fields.get("VmRSS", "0 kB").split()[0]) << 10
            return Usage(descriptors, int(fields["Threads"]), resident)
        except (KeyError, ValueError):
            return None

    def close(self) -> None:
        self.sock.close()
