"""Grader-owned code that runs next to the implementation, for higher-order checks.

A scenario receives ``resolve`` (target name -> the implementation's callable) and plain
inputs, and returns plain data only: outputs, gradients, weights. It never decides anything;
every comparison happens on the trusted side. Once a submission is imported beside it, a
scenario is as untrusted as the submission.

The scenarios here serve every topic; a topic's own live in ``course/<topic>/scenarios.py``
(its public functions) and are found by :func:`find`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

import torch

Resolve = Callable[[str], Callable[..., Any]]


# -- grader-owned callables passed as arguments ------------------------------------------------


@dataclass(frozen=True)
class Owned:
    """An argument that is a grader-owned callable: ``"topic.name"`` in the topic's ``OWNED``.

    Callables do not cross the wire: a check that passes one calls its target through the
    ``call_with`` scenario, which looks the name up next to the implementation.
    """

    name: str

    def __post_init__(self) -> None:
        self.fn  # fails early, with the known names, on a typo

    @property
    def fn(self) -> Callable[..., Any]:
        topic, _, name = self.name.partition(".")
        owned = getattr(importlib.import_module(f"course.{topic}.scenarios"), "OWNED", {})
        if name not in owned:
            raise KeyError(f"no grader-owned callable {self.name!r}; course/{topic}/scenarios.py OWNED has "
                           f"{', '.join(owned) or 'none'}")
        return owned[name]

    def __repr__(self) -> str:
        return self.name


def call_with(resolve: Resolve, target: str, kwargs: dict[str, Any], functions: dict[str, str]) -> Any:
    """``target(**kwargs)`` with the grader-owned callables named in ``functions`` added."""
    return resolve(target)(**kwargs, **{param: Owned(name).fn for param, name in functions.items()})


def grad_of_weighted_sum(
    resolve: Resolve, target: str, kwargs: dict[str, Any], wrt: list[str], weight: torch.Tensor,
    functions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Call ``target`` and backpropagate sum(weight * output) to the inputs named in ``wrt``.

    ``functions`` adds grader-owned callables by name, as in :func:`call_with`. Returns the
    output and one gradient per name (``None`` where no gradient arrived).
    """
    for name in wrt:
        kwargs[name] = kwargs[name].detach().requires_grad_(True)
    out = resolve(target)(**kwargs, **{param: Owned(name).fn for param, name in (functions or {}).items()})
    grads: dict[str, Any] = {name: None for name in wrt}
    if type(out) is torch.Tensor and out.requires_grad and out.shape == weight.shape:
        inputs = [kwargs[name] for name in wrt]
        found = torch.autograd.grad((weight * out).sum(), inputs, allow_unused=True)
        grads = {name: (g.detach() if g is not None else None) for name, g in zip(wrt, found)}
    return {"output": out.detach() if type(out) is torch.Tensor else out, "grads": grads}



class SGD:
    """SGD with momentum and an optimizer's interface (``zero_grad``, ``step``, ``param_groups``).

    Used instead of ``torch.optim.SGD``, whose first construction imports torch._dynamo (seconds).
    Like it, the momentum buffer is state that a second optimizer or a skipped step would show.
    """

    def __init__(self, params: Any, lr: float, momentum: float = 0.0):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.momentum, self.velocity = momentum, {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for t in self.param_groups[0]["params"]:
            if set_to_none:
                t.grad = None
            elif t.grad is not None:
                t.grad.detach_().zero_()

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:
        for i, t in enumerate(self.param_groups[0]["params"]):
            if t.grad is not None:
                velocity = self.momentum * self.velocity.get(i, torch.zeros_like(t)) + t.grad
                self.velocity[i] = velocity
                t.add_(velocity, alpha=-self.param_groups[0]["lr"])


def parameters_of(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``module``'s parameters, by name."""
    return {name: t.detach().clone() for name, t in module.named_parameters()}


GENERIC: dict[str, Callable[..., Any]] = {"call_with": call_with, "grad_of_weighted_sum": grad_of_weighted_sum}


def find(name: str, target: str) -> Callable[..., Any]:
    """The scenario ``name`` for ``target``: a generic one, or a public function of its topic's
    ``course/<topic>/scenarios.py``."""
    if name in GENERIC:
        return GENERIC[name]
    topic = target.partition(".")[0]
    module = importlib.import_module(f"course.{topic}.scenarios")
    found = getattr(module, name, None)
    if name.startswith("_") or not callable(found) or getattr(found, "__module__", None) != module.__name__:
        raise KeyError(f"course/{topic}/scenarios.py defines no scenario {name!r}")
    return found
