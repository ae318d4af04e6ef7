"""Attack: break the wire protocol, to crash, hang or confuse the grader's reader.

Each cheating function replaces the worker's ``grader.wire.frame`` for its own reply, once:
``log_likelihood_bernoulli`` answers twice and with the wrong request id;
``log_likelihood_normal`` declares a frame of 2**40 bytes; ``kl_gaussian_gaussian_analytic``
sends a JSON header nested 100 000 deep (a recursion bomb for a naive decoder) holding a huge
integer; ``reparameterize`` sends half a frame and then nothing (slowloris). All hold
garbage. The grader must reject each, restart the worker, and grade the honest function.
"""
import json
import struct

import torch


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _reply_with(forge):
    """Make the worker's next reply frame (ours) whatever ``forge(value, wire)`` returns, once."""
    from grader import wire

    original = wire.frame

    def forged(value):
        wire.frame = original
        return forge(value, wire)

    wire.frame = forged


def _frame(wire, header, blob=b"", declared=None):
    size = len(blob) if declared is None else declared
    return struct.pack(">4sQQ", wire.MAGIC, len(header), size) + header + blob


def _wrong_id(value, wire):
    early = wire.frame({"id": value["id"] + 1, "ok": value.get("ok")})
    return early + wire.frame({"id": value["id"] - 1, "ok": value.get("ok")})


def _huge(value, wire):
    return _frame(wire, json.dumps({"d": {"id": value["id"], "ok": None}}).encode(), declared=1 << 40)


def _nested(value, wire):
    deep = "[" * 100_000 + "9" * 5000 + "]" * 100_000
    return _frame(wire, ('{"d":{"id":%d,"ok":%s}}' % (value["id"], deep)).encode())


def _half(value, wire):
    whole = wire.frame(value)
    return whole[: len(whole) // 2]


def log_likelihood_bernoulli(mu, target):
    _reply_with(_wrong_id)
    return torch.zeros(mu.shape[0], dtype=mu.dtype)


def log_likelihood_normal(mu, logvar, z):
    _reply_with(_huge)
    return torch.zeros(mu.shape[0], dtype=mu.dtype)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    _reply_with(_nested)
    return torch.zeros(mu_q.shape[0], dtype=mu_q.dtype)


def reparameterize(mu, logvar):
    _reply_with(_half)
    return torch.zeros_like(mu)
