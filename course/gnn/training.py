"""The handout's GIN vs GCN comparison, trained with the implementation's classifiers.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: logits
of the nodes and graphs that are judged. The worker never sees their labels: the trusted side
sends labels for the training nodes and graphs only (the others read −1) and computes every
accuracy itself (``course/gnn/heavy.py``). The GCN side of the comparison is the grader's own
model with PyG's ``GCNConv`` in place of the implementation's layer.
"""
from __future__ import annotations

import sys
from itertools import pairwise
from typing import Any
from unittest import mock

import torch
import torch.nn.functional as F
from torch import nn

from grader.scenarios import Resolve


class GCNNodes(nn.Module):
    """The node classifier with PyG's ``GCNConv``: conv → ReLU → dropout 0.5 → conv."""

    def __init__(self, features: int, hidden: int, classes: int):
        from torch_geometric.nn import GCNConv

        super().__init__()
        self.conv1, self.conv2 = GCNConv(features, hidden), GCNConv(hidden, classes)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: Any = None) -> torch.Tensor:
        x = F.dropout(F.relu(self.conv1(x, edge_index)), 0.5, self.training)
        return self.conv2(x, edge_index)


class GCNGraphs(nn.Module):
    """The graph classifier with PyG's ``GCNConv``: five (conv → BatchNorm → ReLU), mean pool, linear."""

    def __init__(self, hidden: int, features: int, classes: int):
        from torch_geometric.nn import GCNConv

        super().__init__()
        self.convs = nn.ModuleList(GCNConv(a, b) for a, b in pairwise([features] + [hidden] * 5))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(5))
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        from torch_geometric.nn import global_mean_pool

        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(norm(conv(x, edge_index)))
        return self.head(global_mean_pool(x, batch))


def _nodes(model: nn.Module, cora: dict[str, torch.Tensor], epochs: int, lr: float, weight_decay: float,
           device: str) -> torch.Tensor:
    """The handout's full-batch training on the labelled nodes; logits of every node, in eval mode."""
    x, edge_index, y = (cora[k].to(device) for k in ("x", "edge_index", "y"))
    known = y >= 0
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        model.train()
        loss = F.cross_entropy(model(x, edge_index)[known], y[known])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        return model(x, edge_index).cpu()


def _batch(graphs: list[dict[str, torch.Tensor]], device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The disjoint union of ``graphs`` as PyG's ``Batch`` lays it out: x, edge_index, batch."""
    sizes = torch.tensor([g["num_nodes"] for g in graphs])
    offsets = torch.cumsum(sizes, 0) - sizes
    edge_index = torch.cat([g["edge_index"] + o for g, o in zip(graphs, offsets.tolist())], 1)
    batch = torch.repeat_interleave(torch.arange(len(graphs)), sizes)
    return torch.ones(int(sizes.sum()), 1, device=device), edge_index.to(device), batch.to(device)


def _graphs(model: nn.Module, graphs: list[dict[str, torch.Tensor]], labels: torch.Tensor, epochs: int,
            batch_size: int, lr: float, weight_decay: float, seed: int, device: str) -> torch.Tensor:
    """Mini-batch training on the labelled graphs (constant node features); logits of the others."""
    train = [i for i in range(len(graphs)) if labels[i] >= 0]
    judged = [i for i in range(len(graphs)) if labels[i] < 0]
    order = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        model.train()
        for chunk in torch.randperm(len(train), generator=order).split(batch_size):
            if len(chunk) < 2:  # BatchNorm needs two graphs' worth of nodes to normalise over
                continue
            chosen = [train[i] for i in chunk.tolist()]
            logits = model(*_batch([graphs[i] for i in chosen], device))
            loss = F.cross_entropy(logits, labels[chosen].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return torch.cat([model(*_batch([graphs[i] for i in chunk.tolist()], device)).cpu()
                          for chunk in torch.tensor(judged).split(batch_size)])


def _built(resolve: Resolve, target: str, *sizes: int) -> nn.Module:
    """The implementation's classifier, its layers built from the ``BetterGCNConv`` that ``resolve`` gives.

    In a submission that is the class its module already holds; a planted layer (tests) takes its place.
    """
    cls = resolve(target)
    module = sys.modules.get(getattr(cls, "__module__", ""), None)
    if module is None:
        return cls(*sizes)
    with mock.patch.object(module, "BetterGCNConv", resolve("gnn.BetterGCNConv"), create=True):
        return cls(*sizes)


def train_gin_gcn(resolve: Resolve, target: str, cora: dict[str, torch.Tensor], node_hidden: int,
                  node_epochs: int, graphs: list[dict[str, torch.Tensor]], graph_labels: torch.Tensor,
                  graph_hidden: int, graph_epochs: int, batch_size: int, lr: float, node_weight_decay: float,
                  graph_weight_decay: float, seed: int, device: str) -> dict[str, torch.Tensor]:
    """Train the implementation's ``NodeClassifier`` and ``GraphClassifier`` and the GCN twins.

    ``cora`` holds ``x``, ``edge_index`` and ``y`` (−1 for every node but the training ones);
    ``graphs`` each hold ``edge_index`` and ``num_nodes`` (features are constant ones), and
    ``graph_labels`` is −1 for the graphs that are judged. Returns the logits of every Cora node
    and of the judged graphs (in order), for both kinds of layer.
    """
    features, classes = cora["x"].shape[1], int(cora["y"].max()) + 1
    out = {}
    for name, nodes, graphs_model in (
            ("gin", lambda: _built(resolve, "gnn.NodeClassifier", features, node_hidden, classes),
             lambda: _built(resolve, "gnn.GraphClassifier", graph_hidden, 1, 2)),
            ("gcn", lambda: GCNNodes(features, node_hidden, classes), lambda: GCNGraphs(graph_hidden, 1, 2))):
        torch.manual_seed(seed)
        out[f"{name}_nodes"] = _nodes(nodes().to(device), cora, node_epochs, lr, node_weight_decay, device)
        torch.manual_seed(seed)
        out[f"{name}_graphs"] = _graphs(graphs_model().to(device), graphs, graph_labels, graph_epochs, batch_size,
                                        lr, graph_weight_decay, seed, device)
    return out
