"""The 2-D MNIST autoencoder of CPSC 453 PS3 §3, trained by the grader's loop.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: the
trained parameters by name, which of them ``encode`` and ``decode`` use, and the loss curve. The
reconstructions and codes that decide the points are computed from those parameters on the
trusted side (``course/autoencoder/heavy.py``).
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from grader.scenarios import Resolve, instantiate, minibatches


def _uses(output: Any, params: list[tuple[str, torch.Tensor]]) -> list[str]:
    """The names of the parameters ``output`` depends on, by autograd."""
    if type(output) is not torch.Tensor or not output.requires_grad:
        return []
    found = torch.autograd.grad(output.sum(), [p for _, p in params], allow_unused=True)
    return [name for (name, _), g in zip(params, found) if g is not None]


def train_autoencoder(resolve: Resolve, target: str, images: torch.Tensor, steps: int, batch_size: int,
                      lr: float, seed: int, device: str) -> dict[str, Any]:
    """Train ``Autoencoder("sigmoid")`` for ``steps`` Adam steps on the batch mean squared error.

    The loss is mean((model(x) - x)^2) over the batch and the pixels; batches are drawn without
    replacement (a fresh permutation each epoch). ``images`` are MNIST as uint8 ``(N, 784)``.
    Returns ``{"state": parameters, "encoder": names, "decoder": names, "losses": (steps,)}``,
    where ``encoder``/``decoder`` name the parameters that ``encode``/``decode`` depend on.
    """
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    model = instantiate(resolve, target, {"out_activation": "sigmoid"}).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    data = images.to(device)
    losses = torch.empty(steps)
    for step, index in enumerate(minibatches(len(data), batch_size, steps, order)):
        index = index.to(device)
        x = data[index].float() / 255
        loss = F.mse_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[step] = loss.detach()
    params = list(model.named_parameters())
    probe = data[:2].float() / 255
    return {"state": {n: p.detach().cpu().clone() for n, p in params}, "losses": losses,
            "encoder": _uses(model.encode(probe), params),
            "decoder": _uses(model.decode(torch.zeros(2, 2, device=device)), params)}
