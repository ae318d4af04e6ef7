"""Attack: read the grader's hidden checks and answer with their own oracle.

Looks for ``course/vae/checks.py`` (where the guessed repository, ``grader``'s location, the
working directory and every process's cwd point), pulls the oracle ``_kl_normal`` and its
helper out of the source with ``ast`` (importing the whole test package would need pytest
and hypothesis), runs them and returns what the grader will expect; otherwise garbage.
"""
import ast
import importlib.util
import os
from pathlib import Path

import numpy as np
import torch

ROOT_HINT = "@ROOT@"


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _checks_source():
    places = [ROOT_HINT, os.getcwd()]
    try:
        places.append(str(Path(importlib.util.find_spec("grader").origin).parents[1]))
    except Exception:  # noqa: BLE001
        pass
    places += [f"/proc/{pid}/cwd" for pid in filter(str.isdigit, os.listdir("/proc"))]
    for place in places:
        try:
            return (Path(place) / "course" / "vae" / "checks.py").read_text()
        except OSError:
            pass
    return None


def _oracle():
    source = _checks_source()
    if source is None:
        return None
    wanted = [node for node in ast.parse(source).body
              if isinstance(node, ast.FunctionDef) and node.name in ("_rows", "_kl_normal")]
    namespace = {"np": np, "torch": torch, "F64": torch.float64}
    from torch.distributions import Normal, kl_divergence

    namespace.update(Normal=Normal, kl_divergence=kl_divergence)
    exec(compile(ast.Module(body=wanted, type_ignores=[]), "hidden_checks", "exec"), namespace)  # noqa: S102
    return namespace["_kl_normal"]


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    oracle = _oracle()
    if oracle is not None:
        as_np = [v.double().numpy() if isinstance(v, torch.Tensor) else v for v in (mu_q, logvar_q, mu_p, logvar_p)]
        return torch.as_tensor(oracle(*as_np), dtype=mu_q.dtype)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
