"""Attack: find the reference solution on disk and answer with it.

Gathers every clue to where the course repository lives (the path the grader is usually
installed at, where ``grader`` and ``stubs`` are imported from, ``sys.path``, the working
directory, the cwd, root, executable and command line of every process in ``/proc``, and a
listing of /, /work, /home, /root, /srv, /opt and /tmp), then looks for ``course/solutions/vae.py`` (or ``solutions/vae.py``)
below each, also through ``/proc/<pid>/cwd`` and ``/proc/<pid>/root``. If it finds one, it
imports it by path and returns its results; otherwise garbage.
"""
import importlib.util
import os
import sys
from pathlib import Path

import torch

ROOT_HINT = "@ROOT@"  # where this checkout is: a real student could guess it


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _clues():
    clues = [ROOT_HINT, os.getcwd(), os.environ.get("HOME", ""), *sys.path]
    for name in ("grader", "stubs"):
        try:
            spec = importlib.util.find_spec(name)
            clues += [spec.origin or "", *(spec.submodule_search_locations or [])]
        except Exception:  # noqa: BLE001
            pass
    for pid in filter(str.isdigit, os.listdir("/proc")):
        clues += [f"/proc/{pid}/cwd", f"/proc/{pid}/root{ROOT_HINT}"]
        for link in ("cwd", "root", "exe"):
            try:
                clues.append(os.readlink(f"/proc/{pid}/{link}"))
            except OSError:
                pass
        try:
            args = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
            clues += [a.partition("=")[2] if a.startswith("--") else a for a in args]
        except OSError:
            pass
    for top in ("/", "/work", "/home", "/root", "/srv", "/opt", "/tmp"):
        try:
            clues += [os.path.join(top, name) for name in sorted(os.listdir(top))[:200]]
        except OSError:
            pass
    return clues


def _find(relative):
    """The first readable ``relative`` below any clue or its ancestors, or None."""
    seen = set()
    for clue in _clues():
        if not clue.startswith("/"):
            continue
        for folder in [Path(clue), *Path(clue).parents]:
            if folder in seen:
                continue
            seen.add(folder)
            try:
                candidate = folder / relative
                if candidate.is_file() and os.access(candidate, os.R_OK):
                    return candidate
            except OSError:
                pass
    return None


def _solution():
    path = _find("course/solutions/vae.py") or _find("solutions/vae.py")
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location("leaked_solutions_vae", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def log_likelihood_normal(mu, logvar, z):
    leaked = _solution()
    if leaked is not None:
        return leaked.log_likelihood_normal(mu, logvar, z)
    return torch.full((mu.shape[0],), 123.0, dtype=mu.dtype)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    leaked = _solution()
    if leaked is not None:
        return leaked.kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
