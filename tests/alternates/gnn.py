"""Correct gnn.py classes in other styles: dense adjacency, index_add without PyG, PyG's GINConv,
other MLP shapes; classifiers with module-style activations, PyG's BatchNorm, pooling by hand."""
from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import BatchNorm, GINConv, MessagePassing, global_mean_pool
from torch_geometric.utils import add_self_loops

from course.solutions.gnn import BetterGCNConv  # the classifiers build it by this name
from tests.alternates import alternate

CONV, NODES, GRAPHS = "gnn.BetterGCNConv", "gnn.NodeClassifier", "gnn.GraphClassifier"


@alternate(CONV, "dense_adjacency_batchnorm_mlp")
class _(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_channels, 2 * out_channels), nn.BatchNorm1d(2 * out_channels), nn.ReLU(),
                                 nn.Linear(2 * out_channels, out_channels))

    def forward(self, x, edge_index):
        n = x.shape[0]
        a = torch.zeros(n, n, dtype=x.dtype).index_put_((edge_index[1], edge_index[0]), torch.ones(edge_index.shape[1]),
                                                        accumulate=True)  # a[i, j] = edges j -> i
        return self.mlp((a + torch.eye(n, dtype=x.dtype)) @ x)


@alternate(CONV, "index_add_elu_three_layers")
class _(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_channels, 8), nn.ELU(), nn.Linear(8, 8), nn.ELU(), nn.Linear(8, out_channels))

    def forward(self, x, edge_index):
        source, target = edge_index
        return self.mlp(x.index_add(0, target, x[source]))


@alternate(CONV, "pyg_gin_conv")
class _(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        mlp = nn.Sequential(nn.Linear(in_channels, out_channels), nn.Tanh(), nn.Linear(out_channels, out_channels))
        self.gin = GINConv(mlp, eps=0.0, train_eps=False)

    def forward(self, x, edge_index):
        return self.gin(x, edge_index)


@alternate(CONV, "self_loops_added_then_summed")
class _SelfLoopsThenSum(MessagePassing):  # named: PyG generates propagate from the class's own source
    def __init__(self, in_channels, out_channels):
        super().__init__(aggr="sum")
        self.lin1, self.lin2 = nn.Linear(in_channels, out_channels), nn.Linear(out_channels, out_channels)

    def forward(self, x, edge_index):
        with_self, _ = add_self_loops(edge_index, num_nodes=x.size(0))  # one more edge i -> i per node
        return self.lin2(F.leaky_relu(self.lin1(self.propagate(with_self, x=x))))

    def message(self, x_j):
        return x_j


@alternate(NODES, "input_dropout_log_softmax")
class _(nn.Module):
    def __init__(self, num_node_features, hidden_features, num_classes):
        super().__init__()
        self.conv1 = BetterGCNConv(num_node_features, hidden_features)
        self.conv2 = BetterGCNConv(hidden_features, num_classes)

    def forward(self, x, edge_index, batch=None):
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.dropout(F.relu(self.conv1(x, edge_index)), p=0.5, training=self.training)
        return F.log_softmax(self.conv2(x, edge_index), dim=1)


@alternate(NODES, "module_activations")
class _(nn.Module):
    def __init__(self, num_node_features, hidden_features, num_classes):
        super().__init__()
        self.layers = nn.ModuleList([BetterGCNConv(num_node_features, hidden_features),
                                     BetterGCNConv(hidden_features, num_classes)])
        self.act, self.drop = nn.ReLU(), nn.Dropout(0.5)

    def forward(self, x, edge_index, batch=None, **_):
        return self.layers[1](self.drop(self.act(self.layers[0](x, edge_index))), edge_index)


@alternate(NODES, "relu_after_dropout")
class _(nn.Module):
    def __init__(self, num_node_features, hidden_features, num_classes):
        super().__init__()
        self.first = BetterGCNConv(num_node_features, hidden_features)
        self.second = BetterGCNConv(hidden_features, num_classes)

    def forward(self, x, edge_index, batch=None):
        h = self.first(x, edge_index)
        return self.second(torch.relu(F.dropout(h, 0.5, self.training)), edge_index)  # the same: the mask is positive


@alternate(GRAPHS, "head_per_node_then_mean")
class _(nn.Module):
    def __init__(self, hidden_channels, num_node_features, num_classes):
        super().__init__()
        self.convs = nn.ModuleList([BetterGCNConv(num_node_features, hidden_channels)]
                                   + [BetterGCNConv(hidden_channels, hidden_channels) for _ in range(4)])
        self.bns = nn.ModuleList([nn.BatchNorm1d(hidden_channels) for _ in range(5)])
        self.lin = nn.Linear(hidden_channels, num_classes)

    def forward(self, x, edge_index, batch=None):
        for conv, bn in zip(self.convs, self.bns):
            x = bn(conv(x, edge_index)).relu()
        batch = torch.zeros(x.shape[0], dtype=torch.long) if batch is None else batch
        graphs = int(batch.max()) + 1
        sums = torch.zeros(graphs, self.lin.out_features).index_add(0, batch, self.lin(x))  # mean of a linear map
        counts = torch.zeros(graphs).index_add(0, batch, torch.ones(x.shape[0]))
        return sums / counts[:, None]


@alternate(GRAPHS, "pyg_batchnorm_log_softmax")
class _(nn.Module):
    def __init__(self, hidden_channels, num_node_features, num_classes):
        super().__init__()
        sizes = [num_node_features] + 5 * [hidden_channels]
        self.blocks = nn.ModuleList(nn.ModuleList([BetterGCNConv(a, b), BatchNorm(b)]) for a, b in pairwise(sizes))
        self.head = nn.Linear(hidden_channels, num_classes)

    def forward(self, x, edge_index, batch=None):
        for conv, norm in self.blocks:
            x = F.relu(norm(conv(x, edge_index)))
        if batch is None:
            batch = x.new_zeros(x.size(0), dtype=torch.long)
        return F.log_softmax(self.head(global_mean_pool(x, batch)), dim=-1)


@alternate(GRAPHS, "named_layers")
class _(nn.Module):
    def __init__(self, hidden_channels, num_node_features, num_classes):
        super().__init__()
        self.conv1 = BetterGCNConv(num_node_features, hidden_channels)
        self.conv2, self.conv3, self.conv4, self.conv5 = (BetterGCNConv(hidden_channels, hidden_channels) for _ in range(4))
        self.norm1, self.norm2, self.norm3, self.norm4, self.norm5 = (nn.BatchNorm1d(hidden_channels) for _ in range(5))
        self.classify = nn.Linear(hidden_channels, num_classes)

    def forward(self, x, edge_index, batch=None):
        for k in range(1, 6):
            x = torch.relu(getattr(self, f"norm{k}")(getattr(self, f"conv{k}")(x, edge_index)))
        pooled = x.mean(0, keepdim=True) if batch is None else global_mean_pool(x, batch)
        return self.classify(pooled)
