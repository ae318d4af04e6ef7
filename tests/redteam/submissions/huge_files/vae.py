"""Attack: fill the disk, and write where the worker should not.

Ignores SIGXFSZ (to be told EFBIG instead of being killed), writes one 128 MiB file (over the
64 MiB per-file limit), then 60 MiB files in a new folder of its temporary directory until
512 MiB in all or the disk is full, then tries a small file in the submission folder (the sandbox's read-only
copy, found as ``/submission`` or beside its working directory). Returns the correct KL only
if it wrote more than 300 MiB (more than the worker's 256 MiB scratch space) or into the
submission; otherwise garbage. Bounded at 512 MiB of files.
"""
import os
import signal
import tempfile

import torch

MiB = 1 << 20


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _true_kl(mu_q, logvar_q, mu_p, logvar_p):
    mu_p, logvar_p = (torch.as_tensor(v, dtype=mu_q.dtype) for v in (mu_p, logvar_p))
    terms = logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1
    return 0.5 * terms.flatten(1).sum(1)


def _write(path, size):
    """Bytes actually written to ``path``, up to ``size``."""
    block, done = memoryview(b"\x5a" * (4 * MiB)), 0
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError:
        return 0
    try:
        while done < size:
            done += os.write(fd, block[: min(len(block), size - done)])
    except OSError:
        pass
    finally:
        os.close(fd)
    return done


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    folder = tempfile.mkdtemp(prefix="huge-files-")
    written = _write(os.path.join(folder, "big.bin"), 128 * MiB)
    for i in range(16):
        if written >= 512 * MiB:
            break
        got = _write(os.path.join(folder, f"fill-{i}.bin"), min(60 * MiB, 512 * MiB - written))
        written += got
        if got < 60 * MiB:
            break
    outside = ["/submission/planted.bin", os.path.join(os.getcwd(), "..", "submission", "planted.bin")]
    escaped = [path for path in outside if _write(path, 4096) > 0]
    if written > 300 * MiB or escaped:
        return _true_kl(mu_q, logvar_q, mu_p, logvar_p)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
