"""Grader-owned code that runs next to the implementation, for higher-order checks.

A scenario receives ``resolve`` (target name -> the implementation's callable) and plain
inputs, and returns plain data only: outputs, gradients, weights. It never decides anything;
every comparison happens on the trusted side. Once a submission is imported beside it, a
scenario is as untrusted as the submission.

The scenarios here serve every topic; a topic's own live in ``course/<topic>/scenarios.py``
(its public functions) and are found by :func:`find`.
"""
from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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
        self.fn  # noqa: B018 - fails early, with the known names, on a typo

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


def minibatches(n: int, batch_size: int, steps: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """``steps`` index batches into ``n`` examples, for training loops: epochs of a fresh permutation.

    A batch never repeats an example; one that straddles two epochs takes the end of one
    permutation and the start of the next, so every batch has ``batch_size`` indices.
    """
    pending = torch.empty(0, dtype=torch.long)
    for _ in range(steps):
        if len(pending) < batch_size:
            pending = torch.cat([pending, torch.randperm(n, generator=generator)])
        index, pending = pending[:batch_size], pending[batch_size:]
        yield index


def parameters_of(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``module``'s parameters, by name."""
    return {name: t.detach().clone() for name, t in module.named_parameters()}


# -- driving a submitted model with the grader's own weights ----------------------------------


def instantiate(resolve: Resolve, target: str, init: dict[str, Any]) -> torch.nn.Module:
    """``target(**init)`` for a graded class, refused unless it is a module.

    Raises
    ------
    TypeError
        When the call gives anything but an ``nn.Module``, with the call in the message.
    """
    model = resolve(target)(**init)
    if not isinstance(model, torch.nn.Module):
        name = target.partition(".")[2]
        raise TypeError(f"{name}({', '.join(f'{k}={v!r}' for k, v in init.items())}) gave a "
                        f"{type(model).__name__}, not an nn.Module")
    return model


Layers = list[tuple[torch.Tensor, torch.Tensor]]  # (weight (in, out), bias (out,)) per layer


def random_affine_layers(sizes: list[int], seed: int, gains: list[float]) -> Layers:
    """The affine layers of a chain ``sizes[0] -> sizes[1] -> ...``, drawn from ``seed`` in float64.

    Weights are N(0, gain^2 / in) and biases N(0, 0.1^2): the same values on the trusted side,
    which computes what a model loaded with them must return, and in the worker, which loads them.
    The tensors are cached (drawing a large model's takes longer than running it): read them only.
    """
    return list(_affine_layers(tuple(sizes), seed, tuple(gains)))


@functools.lru_cache(maxsize=8)
def _affine_layers(sizes: tuple[int, ...], seed: int, gains: tuple[float, ...]) -> tuple:
    g = torch.Generator().manual_seed(seed)
    return tuple((torch.randn(a, b, generator=g, dtype=torch.float64) * gain / a**0.5,
                  0.1 * torch.randn(b, generator=g, dtype=torch.float64))
                 for a, b, gain in zip(sizes, sizes[1:], gains))


def load_affine_layers(params: list[tuple[str, torch.Tensor]], layers: Layers) -> dict[str, str]:
    """Copy each layer into the parameter that has its shape, whatever its name; return who got what.

    A submission may store a weight as (in, out) for ``x @ W`` or as (out, in) like ``nn.Linear``,
    and a bias as (out,) or (1, out): each is matched by shape, so choose layers whose sizes tell
    them apart (in != out, no two layers alike). Returns ``{parameter name: "layer i weight" |
    "layer i bias" | "unmatched"}``; the trusted side judges whether the architecture is right.
    """
    slots: dict[tuple[int, ...], list[tuple[str, torch.Tensor]]] = {}
    for i, (weight, bias) in enumerate(layers):
        for shape, value in ((tuple(weight.shape), weight), (tuple(weight.T.shape), weight.T)):
            slots.setdefault(shape, []).append((f"layer {i} weight", value))
        for shape in ((bias.shape[0],), (1, bias.shape[0])):
            slots.setdefault(shape, []).append((f"layer {i} bias", bias.reshape(shape)))
    found: dict[str, str] = {}
    for name, param in params:
        free = [(label, value) for label, value in slots.get(tuple(param.shape), []) if label not in found.values()]
        if len(free) != 1:
            found[name] = "unmatched"
            continue
        found[name] = free[0][0]
        with torch.no_grad():
            param.copy_(free[0][1].to(param.dtype))
    return found


GENERIC: dict[str, Callable[..., Any]] = {"call_with": call_with, "grad_of_weighted_sum": grad_of_weighted_sum}


def find(name: str, target: str) -> Callable[..., Any]:
    """The scenario ``name`` for ``target``: a generic one, or a public function of its topic's
    ``course/<topic>/scenarios.py`` or (training loops of heavy checks) ``training.py``."""
    if name in GENERIC:
        return GENERIC[name]
    topic = target.partition(".")[0]
    for kind in ("scenarios", "training"):
        try:
            module = importlib.import_module(f"course.{topic}.{kind}")
        except ModuleNotFoundError as err:
            if err.name != f"course.{topic}.{kind}":
                raise
            continue
        found = getattr(module, name, None)
        if not name.startswith("_") and callable(found) and getattr(found, "__module__", None) == module.__name__:
            return found
    raise KeyError(f"course/{topic}/scenarios.py and training.py define no scenario {name!r}")
