"""Grader-owned code for the autoencoder checks: the submitted model driven with our weights,
repeated corruption of one input, interpolation through a model whose codes we know."""
from __future__ import annotations

from typing import Any

import torch

from grader.scenarios import Resolve, instantiate, load_affine_layers, random_affine_layers


def _used_by(output: Any, params: list[tuple[str, torch.Tensor]]) -> list[bool]:
    """Which parameters ``output`` depends on, by autograd (a parameter it never touches gets ``None``)."""
    if type(output) is not torch.Tensor or not output.requires_grad:
        return [False] * len(params)
    found = torch.autograd.grad(output.sum(), [p for _, p in params], allow_unused=True)
    return [g is not None for g in found]


def autoencoder_probe(
    resolve: Resolve, target: str, init: dict[str, Any], sizes: list[int], gains: list[float], seed: int,
    x: torch.Tensor, z: torch.Tensor,
) -> dict[str, Any]:
    """Build the autoencoder, sort its parameters into encoder and decoder by what ``encode`` and
    ``decode`` use, load our layers into each half by shape, and run encode, decode and forward."""
    model = instantiate(resolve, target, init)
    params = list(model.named_parameters())
    by_encode, by_decode = _used_by(model.encode(x[:2]), params), _used_by(model.decode(z[:2]), params)
    roles = {name: {(True, False): "encoder", (False, True): "decoder", (True, True): "both"}.get((e, d), "neither")
             for (name, _), e, d in zip(params, by_encode, by_decode)}
    slots = {}
    for half, chain, half_seed in (("encoder", sizes, seed), ("decoder", sizes[::-1], seed + 1)):
        found = load_affine_layers([(n, p) for n, p in params if roles[n] == half],
                                   random_affine_layers(chain, half_seed, gains))
        slots.update({name: f"{half} {slot}" for name, slot in found.items()})
    with torch.no_grad():
        return {"shapes": {name: list(p.shape) for name, p in params}, "roles": roles, "slots": slots,
                "encode": model.encode(x), "decode": model.decode(z), "forward": model(x),
                "encode_images": model.encode(x.reshape(x.shape[0], 1, 28, 28))}


def corrupt_calls(
    resolve: Resolve, target: str, x: torch.Tensor, kwargs: dict[str, float], calls: int, seed: int
) -> dict[str, Any]:
    """``corrupt(x, **kwargs)`` ``calls`` times on the same tensor; whether ``x`` changed."""
    fn, before = resolve(target), x.clone()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        outputs = [fn(x, **kwargs) for _ in range(calls)]
    return {"outputs": outputs, "x_changed": not torch.equal(x, before)}


class _CodeModel(torch.nn.Module):
    """encode(x) = 2 tanh(x A + a) on x reshaped to (N, 784); decode(z) = sigmoid(z B + c) on (N, 2).

    The encoder is not affine, so that mixing two images is not mixing their codes.
    """

    def __init__(self, A: torch.Tensor, a: torch.Tensor, B: torch.Tensor, c: torch.Tensor):
        super().__init__()
        self.A, self.a, self.B, self.c = (torch.nn.Parameter(t.clone()) for t in (A, a, B, c))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * torch.tanh(x.reshape(-1, self.A.shape[0]) @ self.A + self.a)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z.reshape(-1, self.B.shape[0]) @ self.B + self.c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def interpolate_with(
    resolve: Resolve, target: str, model: dict[str, torch.Tensor], x1: torch.Tensor, x2: torch.Tensor, steps: int
) -> Any:
    """``interpolate`` through a :class:`_CodeModel` holding ``model``'s tensors."""
    return resolve(target)(_CodeModel(**model), x1, x2, steps)
