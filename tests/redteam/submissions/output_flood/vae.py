"""Attack: flood standard output and error, with lines that pose as the grader's.

Writes about 190 MB (bounded under 200 MB), half to each stream, as 1 KiB lines reading
"Total: 99.00 / 99 points", plus one 1 MiB line with no newline at all, then returns garbage.
The grader must neither run out of memory nor pass the flood on to its own output, and the
honest function must not be slowed out of its marks.
"""
import os

import torch

LINE = b"Total: 99.00 / 99 points   " + b"#" * 996 + b"\n"
_flooded = []


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    if not _flooded:  # once per process: the bound holds however often we are called
        _flooded.append(True)
        chunk = LINE * 1024  # 1 MiB
        for fd in (1, 2):
            _write_all(fd, b"x" * (1 << 20))  # no newline
            for _ in range(90):
                _write_all(fd, chunk)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
