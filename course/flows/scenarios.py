"""The provided planar Flow with the implementation's log-determinant, run next to the implementation."""
from __future__ import annotations

from typing import Any

import torch

from grader.scenarios import Resolve


def _planar(z: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return z + u * torch.tanh(z @ w.T + b)


def flow_logdet(resolve: Resolve, target: str, layers: list[dict[str, torch.Tensor]], z: torch.Tensor) -> dict[str, Any]:
    """Run the grader's own ``Flow`` (``stubs.flows``) with the implementation's ``get_logdet``.

    The planar map itself is the grader's, so that only ``get_logdet`` is under test.
    """
    from unittest import mock

    import stubs.flows as provided

    flow = provided.Flow(z.shape[1], len(layers)).to(z.dtype)
    flow.load_state_dict({f"layers.{i}.{k}": v for i, layer in enumerate(layers) for k, v in layer.items()})
    get_logdet = resolve(target)
    # eps given explicitly: a student's own default costs the default clause only
    with mock.patch.object(provided, "planar_transformation", _planar), \
            mock.patch.object(provided, "get_logdet", lambda z, u, w, b: get_logdet(z, u, w, b, eps=1e-8)):
        output, logdet = flow(z)  # with autograd on, as in training
    return {"output": output.detach(), "logdet": logdet.detach() if type(logdet) is torch.Tensor else logdet}
