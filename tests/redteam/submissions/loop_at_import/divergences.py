"""Attack: hang while being imported, deaf to the polite signals.

Ignores SIGTERM, SIGINT and SIGHUP, then spins in pure Python, swallowing every exception, for
100 s (bounded, so that it ends by itself even where nothing stops it). An unsandboxed grader
would stall here; the honest vae.py must keep its marks, hidden facets included.
"""
import signal
import time

import numpy as np

for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, signal.SIG_IGN)
_end = time.monotonic() + 100
while time.monotonic() < _end:
    try:
        pass
    except BaseException:  # noqa: BLE001 - swallow whatever tries to interrupt us
        continue


def kernel(A, B, sigma=1.0):
    return np.full((len(A), len(B)), 0.5)


def mmd(X, Y, kernel_fn=kernel):
    return 7.0
