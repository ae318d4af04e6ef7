"""Attack: never return.

``log_likelihood_normal`` spins in pure Python and swallows every exception (KeyboardInterrupt,
SystemExit, a timeout raised into it); ``kl_gaussian_gaussian_analytic`` blocks in C, in
``select`` with nothing to wait for, where no Python-level timeout can reach it. Both end by
themselves after 100 s at the latest.
"""
import select
import time

import torch


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def log_likelihood_normal(mu, logvar, z):
    end = time.monotonic() + 100
    while time.monotonic() < end:
        try:
            pass
        except BaseException:  # noqa: BLE001
            continue
    return torch.full((mu.shape[0],), 123.0, dtype=mu.dtype)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    select.select([], [], [], 100)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
