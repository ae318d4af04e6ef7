"""Attack: end the importing process with ``os._exit(0)`` while the module is imported.

A clean exit status, below any exception handler: an unsandboxed grader importing this would
vanish mid-run with "success". Every divergences function defined below is unreachable; the
honest vae.py must keep its marks, hidden facets included, in a worker that comes back.
"""
import os

import numpy as np

os._exit(0)


def kernel(A, B, sigma=1.0):
    return np.full((len(A), len(B)), 0.5)


def mmd(X, Y, kernel_fn=kernel):
    return 7.0
