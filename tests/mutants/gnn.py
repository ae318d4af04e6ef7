"""Wrong versions of the gnn.py graded classes."""
from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import (
    MessagePassing,
    global_add_pool,
    global_max_pool,
    global_mean_pool,
)
from torch_geometric.utils import add_self_loops, degree

from course.solutions.gnn import (
    BetterGCNConv,  # the classifiers' mutants build it by this name
)
from tests.mutants import mutant

CONV, NODES, GRAPHS = "gnn.BetterGCNConv", "gnn.NodeClassifier", "gnn.GraphClassifier"


class _Conv(MessagePassing):
    """GIN with one thing changed by the subclass's settings."""

    aggregation, flow, self_weight = "add", "source_to_target", 1.0

    def __init__(self, in_channels, out_channels):
        super().__init__(aggr=self.aggregation, flow=self.flow)
        self.mlp = nn.Sequential(nn.Linear(in_channels, out_channels), nn.ReLU(), nn.Linear(out_channels, out_channels))

    def forward(self, x, edge_index):
        return self.mlp(self.self_weight * x + self.propagate(edge_index, x=x))


for _name, _settings in {"mean_aggregation": {"aggregation": "mean"}, "max_aggregation": {"aggregation": "max"},
                         "no_self_features": {"self_weight": 0.0}, "self_counted_twice": {"self_weight": 2.0},
                         "target_to_source": {"flow": "target_to_source"}}.items():
    mutant(CONV, _name)(type(_name, (_Conv,), _settings))


@mutant(CONV, "gcn_normalised")
class _GCNNormalised(_Conv):  # named: PyG generates propagate from the class's own source
    def forward(self, x, edge_index):
        loops, _ = add_self_loops(edge_index, num_nodes=x.shape[0])
        deg = degree(loops[1], x.shape[0], dtype=x.dtype)
        norm = (deg[loops[0]] * deg[loops[1]]).rsqrt()
        return self.mlp(self.propagate(loops, x=x, norm=norm))

    def message(self, x_j, norm):
        return norm[:, None] * x_j


@mutant(CONV, "linear_update")
class _LinearUpdate(_Conv):
    def __init__(self, in_channels, out_channels):
        super().__init__(in_channels, out_channels)
        self.mlp = nn.Linear(in_channels, out_channels)


@mutant(CONV, "size_from_edges")
class _(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_channels, out_channels), nn.ReLU(), nn.Linear(out_channels, out_channels))

    def forward(self, x, edge_index):
        n = int(edge_index.max()) + 1 if edge_index.numel() else x.shape[0]  # loses isolated nodes at the end
        summed = torch.zeros(n, x.shape[1]).index_add(0, edge_index[1], x[edge_index[0]])
        return self.mlp(x[:n] + summed)


class _Nodes(nn.Module):
    """A node classifier whose depth, activation, hidden size and dropout are the subclass's."""

    depth, activation, dropout, eval_dropout, hidden_is_classes = 2, staticmethod(F.relu), 0.5, False, False

    def __init__(self, num_node_features, hidden_features, num_classes):
        super().__init__()
        hidden = num_classes if self.hidden_is_classes else hidden_features
        sizes = [num_node_features] + [hidden] * (self.depth - 1) + [num_classes]
        self.convs = nn.ModuleList(BetterGCNConv(a, b) for a, b in pairwise(sizes))

    def forward(self, x, edge_index, batch=None):
        for conv in self.convs[:-1]:
            x = F.dropout(self.activation(conv(x, edge_index)), self.dropout, self.training or self.eval_dropout)
        return self.convs[-1](x, edge_index)


for _name, _settings in {"one_layer": {"depth": 1}, "three_layers": {"depth": 3}, "no_relu": {"activation": staticmethod(lambda x: x)},
                         "sigmoid_not_relu": {"activation": staticmethod(torch.sigmoid)}, "dropout_in_eval": {"eval_dropout": True},
                         "dropout_p_0_2": {"dropout": 0.2}, "hidden_is_classes": {"hidden_is_classes": True}}.items():
    mutant(NODES, _name)(type(_name, (_Nodes,), _settings))


class _Graphs(nn.Module):
    """A graph classifier whose pooling, depth or normalisation is the subclass's."""

    pool, blocks, norm, relu_first = staticmethod(global_mean_pool), 5, True, False

    def __init__(self, hidden_channels, num_node_features, num_classes):
        super().__init__()
        sizes = [num_node_features] + [hidden_channels] * 5
        self.convs = nn.ModuleList(BetterGCNConv(a, b) for a, b in pairwise(sizes))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in range(5))
        self.head = nn.Linear(hidden_channels, num_classes)

    def forward(self, x, edge_index, batch=None):
        for conv, norm in list(zip(self.convs, self.norms))[: self.blocks]:
            x = conv(x, edge_index)
            if self.relu_first:
                x = F.relu(x)
            x = norm(x) if self.norm else x
            x = x if self.relu_first else F.relu(x)
        return self.head(self.pool(x, batch))


for _name, _settings in {"sum_pool": {"pool": staticmethod(global_add_pool)}, "max_pool": {"pool": staticmethod(global_max_pool)},
                         "four_blocks": {"blocks": 4}, "no_batchnorm": {"norm": False}, "relu_before_batchnorm": {"relu_first": True},
                         "pools_whole_batch": {"pool": staticmethod(lambda x, batch: x.mean(0, keepdim=True))}}.items():
    mutant(GRAPHS, _name)(type(_name, (_Graphs,), _settings))
