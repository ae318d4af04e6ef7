"""Attack: keep running after returning, in threads the caller never sees.

``kernel`` starts a non-daemon thread that spins for 100 s (it would block an orderly
interpreter exit) and a daemon thread that keeps starting short-lived threads, then returns
garbage; ``mmd`` returns garbage while they run. The threads must die with the worker and
cost the honest function nothing (its hidden facets run later, in the same worker).
"""
import threading
import time

import numpy as np

_started = []


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.001)  # yield the GIL: a busy thread, not a GIL hog
        sum(range(1000))


def _spawner():
    end = time.monotonic() + 100
    while time.monotonic() < end:
        t = threading.Thread(target=_spin, args=(0.05,), daemon=True)
        t.start()
        t.join()


def kernel(A, B, sigma=1.0):
    if not _started:
        _started.append(threading.Thread(target=_spin, args=(100,)))
        _started.append(threading.Thread(target=_spawner, daemon=True))
        for t in _started:
            t.start()
    return np.full((len(A), len(B)), 0.5)


def mmd(X, Y, kernel_fn=kernel):
    return 7.0
