"""Trusted-side arithmetic for the classifier checks: our weights, the network they make, by hand.

A submitted classifier is loaded with layers of ours (``grader.scenarios.load_affine_layers``
matches them to its parameters by shape); what it must then return is computed here in NumPy:
scipy's softmax, each activation with its derivative, gradients backpropagated by hand. Neither the
implementation under test nor our solution is involved.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit, softmax

from grader.check import Tol
from grader.facets import CheckFailure, expect_close
from grader.scenarios import random_affine_layers
from course.strategies import seeded

PIXELS, CLASSES = 784, 10
PROBS_TOL = Tol(atol=1e-5, rtol=1e-4)  # float32 models against float64 math on the same weights
GRADS_TOL = Tol(atol=1e-5, rtol=1e-3)

# each activation and its derivative, for the forward pass and for backpropagation by hand
ACTIVATIONS = {
    "sigmoid": (expit, lambda z: expit(z) * (1 - expit(z))),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "softplus": (lambda z: np.logaddexp(0, z), expit),
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))), lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0)))),
    "linear": (lambda z: z, np.ones_like),
}


def network(x: np.ndarray, layers: list, activation: str, weight: np.ndarray) -> tuple[np.ndarray, dict]:
    """softmax(act(x W1 + b1) W2 + b2) and the gradients of sum(weight * it), backpropagated by hand."""
    act, slope = ACTIVATIONS[activation]
    inputs, pre = [x], []
    for i, (W, b) in enumerate(layers):
        pre.append(inputs[-1] @ W + b)
        if i < len(layers) - 1:
            inputs.append(act(pre[-1]))
    p = softmax(pre[-1], axis=1)
    delta = p * (weight - (p * weight).sum(1, keepdims=True))  # d/dlogits of sum(weight * softmax)
    grads = {}
    for i in reversed(range(len(layers))):
        grads[f"layer {i} weight"], grads[f"layer {i} bias"] = inputs[i].T @ delta, delta.sum(0)
        if i:
            delta = (delta @ layers[i][0].T) * slope(pre[i - 1])
    return p, grads


def _oriented(got: torch.Tensor, want: np.ndarray) -> torch.Tensor:
    """A parameter's gradient in our orientation: (out, in) weights transposed, (1, out) biases flattened."""
    if tuple(got.shape) != want.shape and got.ndim == 2 and tuple(got.shape[::-1]) == want.shape:
        return got.T
    return got.reshape(want.shape) if got.numel() == want.size else got


def _call_text(f, init: dict) -> str:
    return f"{f.target.partition('.')[2]}({', '.join(f'{k}={v!r}' for k, v in init.items())})"


def probe(f, init: dict, sizes: list[int], seed: int, *, shift: float = 0.0) -> tuple[dict, dict, np.ndarray, list]:
    """Drive ``f``'s class with our layers; fail unless each of its parameters took one of them."""
    layers = random_affine_layers(sizes, seed, gains=[3.0] * (len(sizes) - 1))
    layers[-1] = (layers[-1][0], layers[-1][1] + shift)
    g = seeded(seed)
    x, weight = torch.rand(6, PIXELS, generator=g), torch.randn(6, CLASSES, generator=g)
    out = f.scenario("classifier_probe", init=init, layers=[list(layer) for layer in layers], x=x, weight=weight)
    wanted = {f"layer {i} {kind}" for i in range(len(layers)) for kind in ("weight", "bias")}
    if sorted(out["slots"].values()) != sorted(wanted):
        shapes = ", ".join(f"{name} {tuple(t.shape)}" for name, t in out["initial"].items()) or "none"
        expected = "; ".join(f"a weight ({a}, {b}) or ({b}, {a}) and a bias ({b},)" for a, b in zip(sizes, sizes[1:]))
        raise CheckFailure(f"{_call_text(f, init)}: its parameters are {shapes}; expected exactly {expected}, as "
                           "nn.Parameters registered on the module")
    loaded = [(W.float().double().numpy(), b.float().double().numpy()) for W, b in layers]  # as the model holds them
    return out, {"x": x}, weight.double().numpy(), loaded


def expect_network(f, init: dict, sizes: list[int], activation: str, seed: int) -> None:
    """Fail unless the class built with ``init`` and loaded with our layers gives our probabilities and gradients."""
    out, shown, weight, loaded = probe(f, init, sizes, seed)
    probs, grads = network(shown["x"].double().numpy(), loaded, activation, weight)
    what = f"{_call_text(f, init)} with our weights"
    expect_close(f.target, out["probs"], probs, shown, tol=PROBS_TOL, what=f"{what}: the probabilities")
    for label, want in grads.items():
        got = out["grads"].get(label)
        if got is None:
            raise CheckFailure(f"{what}: no gradient reaches the parameter holding {label}; compute the output "
                               "from the nn.Parameters with differentiable torch operations")
        expect_close(f.target, _oriented(got, want), want, shown, tol=GRADS_TOL,
                     what=f"{what}: d sum(w * probabilities) / d ({label}), against backpropagation by hand")
