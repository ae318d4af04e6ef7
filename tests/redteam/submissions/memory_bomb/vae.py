"""Attack: take more memory than a worker may use, by every route one process has.

Allocates and touches memory in steps: private heap (what RLIMIT_DATA counts), then memfd
pages and shared anonymous mmap (which RLIMIT_DATA does not count), then torch tensors, until
it holds 6 GiB or every route fails. Returns the correct KL only if it got all 6 GiB, that is
only if the memory limit leaked; otherwise garbage. Bounded at 6 GiB in all.
"""
import mmap
import os

import torch

GOAL = 6 << 30
BLOCK = 16 << 20


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _true_kl(mu_q, logvar_q, mu_p, logvar_p):
    mu_p, logvar_p = (torch.as_tensor(v, dtype=mu_q.dtype) for v in (mu_p, logvar_p))
    terms = logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1
    return 0.5 * terms.flatten(1).sum(1)


def _private(block):
    return block * 16, 16 * len(block)


def _tensor(block):
    return torch.ones(len(block) * 4, dtype=torch.float32), 16 * len(block)


def _shared(block):
    area = mmap.mmap(-1, 16 * len(block))
    for _ in range(16):
        area.write(block)
    return area, 16 * len(block)


def _memfd(block):
    fd = os.memfd_create("bomb")
    for _ in range(3):  # 48 MiB: under the per-file limit, whose SIGXFSZ would end us
        os.write(fd, block)
    return fd, 3 * len(block)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    block, held, got = b"\xa5" * BLOCK, [], 0
    for route in (_private, _memfd, _shared, _tensor):
        while got < GOAL:
            try:
                thing, size = route(block)
            except (MemoryError, OSError, RuntimeError, ValueError):
                break
            held.append(thing)
            got += size
    if got >= GOAL:
        return _true_kl(mu_q, logvar_q, mu_p, logvar_p)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
