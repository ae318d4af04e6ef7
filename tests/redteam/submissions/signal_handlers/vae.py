"""Attack: make the process hard to stop with signals.

``log_likelihood_normal`` sends SIGSTOP to itself: a stopped process answers nothing and
ignores every catchable signal (a helper resumes it after 100 s, to keep the attack bounded).
``kl_gaussian_gaussian_analytic`` ignores and blocks every catchable signal (TERM, INT, HUP,
QUIT, ALRM, USR1/2, XFSZ, PIPE, ...), then spins for 100 s. Only a timeout that ends in
SIGKILL stops either.
"""
import os
import signal
import subprocess
import sys
import time

import torch

RESUMER = """
import os, signal, sys, time
time.sleep(100)
for pid in map(int, sys.argv[1:]):
    try:
        os.kill(pid, signal.SIGCONT)
    except OSError:
        pass
# @TOKEN@
"""


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _resume_later(pids):
    """Bound the stop: a helper sends SIGCONT after 100 s, should nothing have ended us by then."""
    try:
        subprocess.Popen([sys.executable, "-c", RESUMER, *map(str, pids)], start_new_session=True)
    except OSError:
        pass


def log_likelihood_normal(mu, logvar, z):
    _resume_later([os.getpid()])
    os.kill(os.getpid(), signal.SIGSTOP)
    return torch.full((mu.shape[0],), 123.0, dtype=mu.dtype)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    catchable = set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD}
    for sig in catchable:
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.pthread_sigmask(signal.SIG_BLOCK, catchable)
    end = time.monotonic() + 100
    while time.monotonic() < end:
        try:
            pass
        except BaseException:  # noqa: BLE001
            continue
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
