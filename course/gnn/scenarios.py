"""The graph layer and the classifiers, driven next to the implementation by grader-owned code.

The layer is driven as a black box: the trusted side compares what it returns on a graph with
what it returns on the dense sums (A + I) X and no edges. The classifiers are built with the
grader's own GIN layer in place of the submission's ``BetterGCNConv`` (so their wiring is graded
apart from the layer), which records what each layer receives and returns.
"""
from __future__ import annotations

import random
import sys
from typing import Any, ClassVar
from unittest import mock

import numpy as np
import torch
from torch import nn

from grader.scenarios import Resolve


def _seed(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def gnn_layer(resolve: Resolve, target: str, in_channels: int, out_channels: int, seed: int,
              graphs: list[dict[str, torch.Tensor]]) -> list[Any]:
    """Build the layer with ``seed``, put it in eval mode and return its output on each graph
    (``x``, ``edge_index``), all with the same weights."""
    _seed(seed)
    layer = resolve(target)(in_channels, out_channels)
    layer.eval()
    with torch.no_grad():
        return [layer(graph["x"], graph["edge_index"]) for graph in graphs]


class _RecordingGIN(nn.Module):
    """The grader's GIN-0 layer: h = W2 relu(W1 (x_i + sum_{j -> i} x_j) + b1) + b2, seeded by
    the order of construction; every call is written to the shared ``trace``."""

    built: ClassVar[list] = []  # set per scenario by a subclass: (in_channels, out_channels) of each layer
    trace: ClassVar[list] = []  # (layer index, input, output) of each call

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.index = len(self.built)
        self.built.append([in_channels, out_channels])
        g = torch.Generator().manual_seed(100 + self.index)
        self.w1 = nn.Parameter(torch.randn(in_channels, out_channels, generator=g) / in_channels**0.5)
        self.b1 = nn.Parameter(0.1 * torch.randn(out_channels, generator=g))
        self.w2 = nn.Parameter(torch.randn(out_channels, out_channels, generator=g) / out_channels**0.5)
        self.b2 = nn.Parameter(0.1 * torch.randn(out_channels, generator=g))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        summed = x.index_add(0, edge_index[1], x[edge_index[0]])  # (N, F): x_i + sum over edges j -> i
        h = torch.relu(summed @ self.w1 + self.b1) @ self.w2 + self.b2
        self.trace.append([self.index, x.detach().clone(), h.detach().clone()])
        return h


def gnn_classifier(resolve: Resolve, target: str, sizes: list[int], seed: int,
                   calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the classifier with ``BetterGCNConv`` replaced by :class:`_RecordingGIN`, then run
    each call (``x``, ``edge_index``, ``batch`` or None, ``train``) in order.

    Returns the layers built and, per call, the output and the trace of the layers' calls.
    """
    cls = resolve(target)
    built, trace = [], []
    recording = type("BetterGCNConv", (_RecordingGIN,), {"built": built, "trace": trace})
    module = sys.modules.get(getattr(cls, "__module__", ""), None)
    _seed(seed)
    if module is None:
        model = cls(*sizes)
    else:
        with mock.patch.object(module, "BetterGCNConv", recording, create=True):
            model = cls(*sizes)
    answers = []
    for call in calls:
        model.train(call["train"])
        trace.clear()
        with torch.no_grad():
            if call["batch"] is None:
                output = model(call["x"], call["edge_index"])
            else:
                output = model(call["x"], call["edge_index"], call["batch"])
        answers.append({"output": output, "trace": [list(t) for t in trace]})
    return {"built": built, "calls": answers}
