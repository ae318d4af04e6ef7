"""Attack: import the reference solution by name, ``import course.solutions.vae`` (or ``solutions.vae``).

The grader's own package is installed beside ``solutions`` (an editable install maps both),
so the plain import may just work; failing that, it puts the guessed repository and every
ancestor of where ``grader`` lives on ``sys.path`` and tries again. If any import works, it
returns the solution's result; otherwise garbage.
"""
import importlib
import importlib.util
import sys
from pathlib import Path

import torch

ROOT_HINT = "@ROOT@"


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _solution():
    for name in ("course.solutions.vae", "solutions.vae"):
        try:
            return importlib.import_module(name)
        except Exception:  # noqa: BLE001
            pass
    places = [ROOT_HINT]
    try:
        places += [str(p) for p in Path(importlib.util.find_spec("grader").origin).parents]
    except Exception:  # noqa: BLE001
        pass
    for place in places:
        sys.path.insert(0, place)
        for name in [n for n in sys.modules if n.split(".")[0] in ("solutions", "course")]:
            del sys.modules[name]
        try:
            for name in ("course.solutions.vae", "solutions.vae"):
                try:
                    return importlib.import_module(name)
                except Exception:  # noqa: BLE001
                    pass
        finally:
            sys.path.remove(place)
    return None


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    leaked = _solution()
    if leaked is not None:
        return leaked.kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
