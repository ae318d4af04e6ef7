r"""A better graph convolution (GIN with eps = 0), and the node and graph classifiers built on it.

Handout: CPSC 663 Exercise III (2022), problem 3. A GCN averages its neighbours, so it cannot
tell a node with neighbours {a, a, b} from one with {a, b}; GIN sums them and pushes the sum
through an MLP, which is as powerful as the Weisfeiler-Lehman test (Xu et al., 2019,
https://arxiv.org/abs/1810.00826). Compared on Cora (node classification) and REDDIT-BINARY
(graph classification) against PyG's ``GCNConv``.

Conventions for every class here:
- N nodes, E edges, F input features, C classes, G graphs in a batch;
- ``edge_index`` is PyG's (2, E) int64 [source; target]: node i receives x_j over every edge
  j -> i (an explicit self-loop is a neighbour like any other);
- ``batch`` (N,) int64 gives each node's graph, 0 .. G-1; ``None`` means one graph.

Needs the ``graphs`` extra: ``pip install 'gradekit[graphs]'`` (torch_geometric).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import MessagePassing, global_mean_pool

__all__ = ["BetterGCNConv", "NodeClassifier", "GraphClassifier", "TrainConfig", "CORA", "REDDIT"]


class BetterGCNConv(MessagePassing):
    r"""The graph isomorphism operator with eps = 0 (GIN-0).

    h_i = MLP( x_i + sum_{j -> i} x_j )

    where the sum runs over the edges into node i (no degree normalisation: a neighbour that
    appears twice counts twice) and the MLP is Linear(F, out) -> ReLU -> Linear(out, out).

    Parameters
    ----------
    in_channels : int
        F, the size of each node's features.
    out_channels : int
        The size of each node's output.

    Shapes
    ------
    forward : x (N, F), edge_index (2, E) -> (N, out_channels)
    """

    def __init__(self, in_channels: int, out_channels: int):
        # BEGIN SOLUTION
        super().__init__(aggr="add")  # a sum keeps multiplicities; a mean or max would not
        self.mlp = nn.Sequential(nn.Linear(in_channels, out_channels), nn.ReLU(), nn.Linear(out_channels, out_channels))
        # END SOLUTION

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """(N, F) features and (2, E) edges -> (N, out_channels)."""
        # BEGIN SOLUTION
        neighbours = self.propagate(edge_index, x=x)  # (N, F): sum of x_j over edges j -> i
        return self.mlp(x + neighbours)
        # END SOLUTION


class NodeClassifier(nn.Module):
    """Two ``BetterGCNConv`` layers: conv -> ReLU -> dropout 0.5 -> conv.

    Parameters
    ----------
    num_node_features : int
        F.
    hidden_features : int
        Size of the hidden node representation.
    num_classes : int
        C.

    Shapes
    ------
    forward : x (N, F), edge_index (2, E), batch ignored -> logits (N, C)
    """

    def __init__(self, num_node_features: int, hidden_features: int, num_classes: int):
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = BetterGCNConv(num_node_features, hidden_features)
        self.conv2 = BetterGCNConv(hidden_features, num_classes)
        # END SOLUTION

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of each node's class; ``batch`` is accepted and ignored."""
        # BEGIN SOLUTION
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index)  # (N, C)
        # END SOLUTION


class GraphClassifier(nn.Module):
    """Five (``BetterGCNConv`` -> BatchNorm1d -> ReLU) blocks, a global mean pool, a linear head.

    Parameters
    ----------
    hidden_channels : int
        Size of every hidden node representation.
    num_node_features : int
        F.
    num_classes : int
        C.

    Shapes
    ------
    forward : x (N, F), edge_index (2, E), batch (N,) or None -> logits (G, C) (G = 1 for None)
    """

    def __init__(self, hidden_channels: int, num_node_features: int, num_classes: int):
        super().__init__()
        # BEGIN SOLUTION
        sizes = [num_node_features] + [hidden_channels] * 5
        self.convs = nn.ModuleList(BetterGCNConv(a, b) for a, b in pairwise(sizes))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in range(5))
        self.head = nn.Linear(hidden_channels, num_classes)
        # END SOLUTION

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, batch: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of each graph's class."""
        # BEGIN SOLUTION
        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(norm(conv(x, edge_index)))  # (N, hidden)
        return self.head(global_mean_pool(x, batch))  # (G, hidden) -> (G, C)
        # END SOLUTION


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): the training settings of the handout's comparison.


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of one classifier (handout values in ``CORA`` and ``REDDIT``)."""

    dataset: str  # "cora" (nodes) or a TU dataset name (graphs)
    hidden: int  # hidden_features / hidden_channels
    lr: float = 0.01  # Adam
    weight_decay: float = 5e-4
    epochs: int = 200
    batch_size: int = 64  # graphs per batch (graph classification only)
    train_graphs: int = 1000  # the first graphs train, the rest test (graph classification only)
    seed: int = 0


CORA = TrainConfig("cora", hidden=16)
REDDIT = TrainConfig("REDDIT-BINARY", hidden=64, weight_decay=0.0, epochs=100)
