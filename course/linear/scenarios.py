"""Grader-owned code for the linear checks: submitted classifiers driven with the grader's weights,
a recording model and a loader for ``evaluate``, the side effects of ``autograd_gradient``."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from grader.scenarios import Resolve, instantiate, load_affine_layers


def classifier_probe(
    resolve: Resolve, target: str, init: dict[str, Any], layers: list[list[torch.Tensor]], x: torch.Tensor,
    weight: torch.Tensor,
) -> dict[str, Any]:
    """Build the classifier, then load the grader's ``layers`` into it by shape and run it.

    Returns the parameters as built (``initial``), the ``nn.Linear`` modules it holds, who got
    which layer (``slots``), its probabilities on ``x`` flat and image-shaped, and the gradients
    of sum(weight * probabilities) by slot.
    """
    model = instantiate(resolve, target, init)
    params = list(model.named_parameters())
    out: dict[str, Any] = {
        "initial": {name: p.detach().clone() for name, p in params},
        "linear_modules": sum(type(m) is torch.nn.Linear for m in model.modules()),
    }
    with torch.no_grad():
        out["initial_probs"] = model(x)
    out["slots"] = load_affine_layers(params, [(w, b) for w, b in layers])
    probs = model(x)
    out["probs"] = probs.detach() if type(probs) is torch.Tensor else probs
    with torch.no_grad():
        out["probs_images"] = model(x.reshape(x.shape[0], 1, 28, 28))
    out["grads"] = {}
    if type(probs) is torch.Tensor and probs.requires_grad and probs.shape == weight.shape:
        found = torch.autograd.grad((weight * probs).sum(), [p for _, p in params], allow_unused=True)
        out["grads"] = {out["slots"][name]: g for (name, _), g in zip(params, found) if g is not None}
    return out


# -- evaluate ------------------------------------------------------------------------------------


class _Scorer(torch.nn.Module):
    """Class scores x @ weight; records, at each call, whether autograd was on and the module's mode."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = torch.nn.Parameter(weight.clone())
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append((torch.is_grad_enabled(), self.training))
        return x.reshape(x.shape[0], -1) @ self.weight  # (B, C)


class _Batches:
    """An iterable over (x, y) batches that is no list: no len(), no indexing, fresh copies."""

    def __init__(self, batches: list[list[torch.Tensor]]):
        self._batches = batches

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter([(x.clone(), y.clone()) for x, y in self._batches])


def evaluate_with(
    resolve: Resolve, target: str, weight: torch.Tensor, batches: list[list[torch.Tensor]], training: bool
) -> dict[str, Any]:
    """``evaluate`` on a linear scorer set to train (or eval) mode and a loader of ``batches``."""
    model = _Scorer(weight)
    model.train(training)
    value = resolve(target)(model, _Batches(batches))
    return {"value": value, "grad_enabled": [g for g, _ in model.seen], "training_after": model.training}


# -- autograd_gradient ---------------------------------------------------------------------------


def gradient_side_effects(resolve: Resolve, target: str, X: torch.Tensor, w: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    """Two calls on the same plain tensors, then one on a ``w`` that is a trainable leaf; what changed."""
    fn = resolve(target)
    before = [t.clone() for t in (X, w, y)]
    results = [fn(X, w, y), fn(X, w, y)]
    leaf = before[1].clone().requires_grad_(True)  # a fresh leaf, whatever the calls did to w
    results.append(fn(X, leaf, y))
    return {
        "results": [r.detach() if type(r) is torch.Tensor else r for r in results],
        "with_graph": [type(r) is torch.Tensor and (r.requires_grad or r.grad_fn is not None) for r in results],
        "changed": [not torch.equal(a, b) for a, b in zip(before, (X, w, y))],
        "requires_grad": [t.requires_grad for t in (X, w, y)],
        "grads": [t.grad for t in (X, w, y, leaf)],
    }
