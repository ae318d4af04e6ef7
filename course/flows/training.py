"""The handout's planar-flow training, with the implementation's layer math and losses plugged in.

Runs next to the implementation and returns plain data only: each flow's parameters. The
parameters and ``adjust_u`` come from the grader's own copy of the provided code
(``stubs.flows``); each layer's map and log-determinant are the implementation's, as in the
handout's ``Flow``. The trusted side computes every metric (``course/flows/heavy.py``).
"""
from __future__ import annotations

import torch

from grader.scenarios import Resolve


def _flow(resolve: Resolve, layers: torch.nn.ModuleList, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The handout's ``Flow.forward``: log-determinants taken at each layer's input."""
    planar, get_logdet = resolve("flows.planar_transformation"), resolve("flows.get_logdet")
    logdet = torch.zeros(z.shape[0], 1, dtype=z.dtype)
    for layer in layers:
        u = layer.adjust_u()
        z, logdet = planar(z, u, layer.w, layer.b), logdet + get_logdet(z, u, layer.w, layer.b)
    return z, logdet


def train_flows(resolve: Resolve, target: str, tasks: list[str], num_layers: list[int],
                samples: dict[str, torch.Tensor], iterations: int, batch_size: int, lr: float, seed: int,
                device: str) -> dict[str, dict[str, torch.Tensor]]:
    """Train one flow per task and k with RMSprop; return ``{"<task>-<k>": parameters}``.

    A task ``nll-<name>`` maps data points of ``samples[name]`` to the base and minimises the
    implementation's ``loss1``; ``kl-<name>`` pushes N(0, I) samples through the flow and
    minimises its ``loss2`` against the provided energy ``density_<name>``.
    """
    import stubs.flows as provided

    out = {}
    for task in tasks:
        kind, name = task.split("-")
        for k in num_layers:
            torch.manual_seed(seed)
            order = torch.Generator().manual_seed(seed)
            layers = torch.nn.ModuleList(provided.PlanarTransformation(2) for _ in range(k))
            optimizer = torch.optim.RMSprop(layers.parameters(), lr=lr)
            for _ in range(iterations):
                if kind == "nll":
                    x = samples[name][torch.randint(len(samples[name]), (batch_size,), generator=order)]
                    z0, logdet = _flow(resolve, layers, x)
                    loss = resolve("flows.loss1")(z0, logdet).mean()
                else:
                    z0 = torch.randn(batch_size, 2, generator=order)
                    zk, logdet = _flow(resolve, layers, z0)
                    energy = getattr(provided, f"density_{name}")(zk)
                    loss = resolve("flows.loss2")(energy, z0, logdet).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            out[f"{task}-{k}"] = {n: p.detach().clone() for n, p in layers.named_parameters()}
    return out
