"""What one graded function could leave behind in torch for the next: its own functions and its settings.

Runs inside the sandbox. The fork server (:mod:`grader.zygote`) snapshots the library functions
below before any submitted module is imported; a worker compares them after importing its
module, and reports torch's global settings after its import and after every call. The worker
is untrusted by then, so what it says only feeds notes and the decision to replace it, never a
score: a module that hides a change it made spoils nobody's points but its own functions'.
"""
from __future__ import annotations

from typing import Any

# Where a patch at import could replace the library's callables: modules, and classes.
MODULES = ("torch", "torch.nn.functional", "torch.autograd", "torch.linalg", "torch.special", "numpy")
CLASSES = ("torch.Tensor",)


def _space(name: str) -> dict[str, Any]:
    """The attributes of a module, or of a class through its MRO (a subclass entry shadows its base)."""
    import importlib

    if name in MODULES:
        return dict(vars(importlib.import_module(name)))
    module, _, attr = name.rpartition(".")
    found: dict[str, Any] = {}
    for klass in reversed(getattr(importlib.import_module(module), attr).__mro__):
        found.update(vars(klass))
    return found


def library() -> dict[str, Any]:
    """The library's own callables by qualified name (``torch.Tensor.sum``): references, not ids,
    so that a replacement is seen even where the original's id was reused."""
    found = {}
    for space in (*MODULES, *CLASSES):
        for key, value in _space(space).items():
            if callable(value) or isinstance(value, (staticmethod, classmethod, property)):
                found[f"{space}.{key}"] = value
    return found


def replaced(before: dict[str, Any]) -> list[str]:
    """The names of ``before`` that now resolve to another object, or to nothing."""
    now: dict[str, dict[str, Any]] = {}
    missing = object()
    changed = []
    for name, value in before.items():
        space, _, key = name.rpartition(".")
        if space not in now:
            now[space] = _space(space)
        if now[space].get(key, missing) is not value:
            changed.append(name)
    return changed


def settings() -> dict[str, Any]:
    """torch's process-wide settings that change what later code computes."""
    import torch

    return {"default dtype": str(torch.get_default_dtype()).removeprefix("torch."),
            "grad mode": torch.is_grad_enabled(),
            "inference mode": torch.is_inference_mode_enabled(),
            "threads": torch.get_num_threads(),
            "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
            "anomaly detection": torch.is_anomaly_enabled()}


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """``"default dtype float64 (was float32)"`` for each setting that differs."""
    return [f"{key} {after.get(key)} (was {value})" for key, value in before.items() if after.get(key) != value]
