"""Attack: a source file that is cheap to ship and dear to parse, aimed at the trusted side.

The grader reads submitted sources with ``ast`` before anything runs (signatures, imports to
prefetch), outside every sandbox limit. The placeholder at the end becomes 512 Ki trivial
statements (2 MiB); parsing them takes about 1.2 GB and several seconds, and 64 MiB of them
(the submission limit) would take tens of GiB. The functions return garbage; the file must
be refused unparsed. Bounded at 2 MiB, so that it cannot harm the machine unfixed.
"""
import numpy as np


def kernel(A, B, sigma=1.0):
    return np.full((len(A), len(B)), 0.5)


def mmd(X, Y, kernel_fn=kernel):
    return 7.0


@FILLER@
