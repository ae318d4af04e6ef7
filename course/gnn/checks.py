"""Graded checks for ``gnn.py``: the layer against dense sums (A + I) X pushed through its own
update, and the classifiers' wiring observed through the grader's own recording GIN layer."""
from __future__ import annotations

import numpy as np
import torch

from course.gnn.graphs import adjacency, batched, graph, permuted, random_graph, summed
from course.stats import P_AT_LEAST, binomial_p
from grader.check import Check, Claim, Extra, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize

GRAPHS = Extra("graphs", ("torch_geometric",))
_TOL = Tol(atol=1e-4, rtol=1e-4)  # float32, the same update reached along two paths
_F, _OUT = 3, 4


def _layer(f, graphs: list[dict]) -> list[torch.Tensor]:
    outs = f.scenario("gnn_layer", in_channels=_F, out_channels=_OUT, seed=3, graphs=graphs)
    for g, out in zip(graphs, outs):
        n = g["x"].shape[0]
        if type(out) is not torch.Tensor or tuple(out.shape) != (n, _OUT):
            raise CheckFailure(f"{f.target}({_F}, {_OUT}) returned {summarize(out)} for {n} nodes, expected ({n}, {_OUT})")
    return outs


def _same(f, got: torch.Tensor, want: torch.Tensor, g: dict, what: str) -> None:
    expect_close(f.target, got, want.double().numpy(), {"x": g["x"], "edge_index": g["edge_index"]}, tol=_TOL, what=what)


def _dense_sums(f) -> None:
    rng = np.random.default_rng(0)
    graphs = [random_graph(rng, _F, isolated_last=k % 2 == 0) for k in range(6)]
    first = summed(graphs[0])
    rows = [graph(first["x"][i:i + 1].numpy(), []) for i in range(first["x"].shape[0])]
    outs = _layer(f, graphs + [summed(g) for g in graphs] + rows)
    for g, on_edges, on_sums in zip(graphs, outs, outs[len(graphs):]):
        _same(f, on_edges, on_sums, g, "the layer on the graph against the layer's own update on (A + I) X with no "
              "edges: h_i = MLP(x_i + sum of x_j over edges j -> i), no degree normalisation")
    _same(f, torch.cat(outs[2 * len(graphs):]), outs[len(graphs)], first, "the update applied to one node at a time "
          "must give the same rows as applied to all nodes: the MLP acts on each node alone")
    if not (outs[len(graphs)] - outs[len(graphs)][0]).abs().max() > 1e-3:
        raise CheckFailure(f"{f.target}: every node got the same output whatever its features")


def _multiset(f) -> None:
    a, b, c = np.random.default_rng(1).normal(size=(3, _F))
    neighbours = graph([c, c, a, a, b, a], [(2, 0), (3, 0), (4, 0), (5, 1), (4, 1)])  # {a, a, b} -> 0, {a, b} -> 1
    on_graph, on_sums = _layer(f, [neighbours, graph([c + 2 * a + b, c + a + b], [])])
    _same(f, on_graph[:2], on_sums, neighbours, "node 0 has neighbours {a, a, b} and node 1 {a, b}, both own features "
          "c: they must get MLP(c + 2a + b) and MLP(c + a + b), as a sum predicts")
    if not (on_graph[0] - on_graph[1]).abs().max() > 1e-3:
        raise CheckFailure(f"{f.target}: nodes with neighbours {{a, a, b}} and {{a, b}} got the same output; a sum "
                           "tells them apart, a mean or a max does not")


def _permuted_and_batched(f) -> None:
    rng = np.random.default_rng(2)
    graphs = [random_graph(rng, _F, isolated_last=k == 1) for k in range(3)]
    order = rng.permutation(graphs[0]["x"].shape[0])
    union = batched(graphs)
    *alone, moved, together = _layer(f, [*graphs, permuted(graphs[0], order), union])
    _same(f, moved, alone[0][order], graphs[0], "relabelling the nodes must relabel the outputs the same way")
    _same(f, together, torch.cat(alone), union, "three graphs in one batch (a disjoint union, as PyG batches them) "
          "must give each graph's own outputs")


def _nonlinear(f) -> None:
    u, v = np.random.default_rng(3).normal(scale=2.0, size=(2, 8, _F))
    out = _layer(f, [graph(np.concatenate([u, v, (u + v) / 2]), [])])[0]
    gap = (out[16:] - (out[:8] + out[8:16]) / 2).abs().max()
    if not gap > 1e-3:
        raise CheckFailure(f"{f.target}: the update is affine (MLP((u + v) / 2) = (MLP(u) + MLP(v)) / 2 within "
                           f"{float(gap):.2g}); GIN's update is an MLP with a nonlinearity")


def _repeats_and_loops(f) -> None:
    g = graph(np.random.default_rng(4).normal(size=(4, _F)), [(0, 1), (0, 1), (2, 2), (1, 2), (3, 0)])
    on_graph, on_sums = _layer(f, [g, summed(g)])
    _same(f, on_graph, on_sums, g, f"a repeated edge counts twice and an explicit self-loop is a neighbour "
          f"(A = {adjacency(g).astype(int).tolist()}, h = MLP((A + I) X))")


BetterGCNConv = Check(
    "gnn.BetterGCNConv", points=4, needs=GRAPHS,
    claims=(Claim("matches_mlp_of_dense_sums", _dense_sums),
            Claim("tells_multisets_apart", _multiset),
            Claim("permutation_equivariant_and_batched", _permuted_and_batched),
            Claim("update_is_nonlinear", _nonlinear, core=False, weight=0.1),
            Claim("repeated_edges_and_self_loops", _repeats_and_loops, core=False, weight=0.1)),
    reference=False,
    kills=("mean_aggregation", "max_aggregation", "gcn_normalised", "no_self_features", "self_counted_twice",
           "target_to_source", "linear_update", "size_from_edges"),
)

# -- the classifiers, with the grader's recording layer -------------------------------------------


def _classifier(f, sizes: list[int], calls: list[dict]) -> dict:
    return f.scenario("gnn_classifier", sizes=sizes, seed=5, calls=calls)


def _expect_layers(f, built: list, want: list, name: str) -> None:
    if built != want:
        raise CheckFailure(f"{f.target}: built BetterGCNConv layers (in, out) = {built}, expected {want} ({name})")


def _expect_trace(f, trace: list, layers: int) -> None:
    if [t[0] for t in trace] != list(range(layers)):
        raise CheckFailure(f"{f.target}: forward called the layers in the order {[t[0] for t in trace]}, expected "
                           f"each of the {layers} once, in order")


def _same_class_scores(f, got, want: torch.Tensor, g: dict, what: str) -> None:
    """Equal up to a constant per row: logits or log-probabilities both serve."""
    if type(got) is not torch.Tensor or got.shape != want.shape:
        raise CheckFailure(f"{f.target}: forward returned {summarize(got)}, expected shape {tuple(want.shape)}")
    _same(f, torch.log_softmax(got.double(), -1), torch.log_softmax(want.double(), -1), g, what)


_NODE_GRAPH = random_graph(np.random.default_rng(6), 4, lo=40, hi=40)
_NODE_SIZES = [4, 6, 3]  # num_node_features, hidden_features, num_classes
_NODE_CALLS = [{**_NODE_GRAPH, "batch": None, "train": False},
               {**_NODE_GRAPH, "batch": torch.arange(40) // 10, "train": False},
               {**_NODE_GRAPH, "batch": None, "train": True}]


def _two_layers(f) -> None:
    out = _classifier(f, _NODE_SIZES, _NODE_CALLS)
    _expect_layers(f, out["built"], [[4, 6], [6, 3]], "conv(F -> hidden), conv(hidden -> C)")
    trace = out["calls"][0]["trace"]
    _expect_trace(f, trace, 2)
    _same(f, trace[0][1], _NODE_GRAPH["x"], _NODE_GRAPH, "the first layer reads the node features")
    _same(f, trace[1][1], torch.relu(trace[0][2]), _NODE_GRAPH, "in eval mode the second layer reads ReLU of the first's output")
    _same_class_scores(f, out["calls"][0]["output"], trace[1][2], _NODE_GRAPH, "the output is the second layer's")


def _dropout(f) -> None:
    out = _classifier(f, _NODE_SIZES, _NODE_CALLS)["calls"][2]["trace"]
    _expect_trace(f, out, 2)
    kept, seen = torch.relu(out[0][2]).double(), out[1][1].double()
    live = kept > 1e-3
    dropped = seen.abs() <= 1e-6
    if not torch.allclose(seen[~dropped], 2 * kept[~dropped], atol=1e-4, rtol=1e-4) or (dropped & live).sum() == 0:
        raise CheckFailure(f"{f.target}: in training the second layer must read ReLU of the first's output with "
                           "dropout p = 0.5 (each value zeroed or doubled)")
    k, n = int((dropped & live).sum()), int(live.sum())
    if binomial_p(k, n, 0.5) < P_AT_LEAST:
        raise CheckFailure(f"{f.target}: in training dropout zeroed {k} of {n} values ({k / n:.2f}); expected p = 0.5")


def _ignores_batch(f) -> None:
    calls = _classifier(f, _NODE_SIZES, _NODE_CALLS)["calls"]
    _same_class_scores(f, calls[1]["output"], calls[0]["output"], _NODE_GRAPH, "forward(x, edge_index, batch) must "
                       "equal forward(x, edge_index): a node classifier ignores batch")


NodeClassifier = Check(
    "gnn.NodeClassifier", points=1, needs=GRAPHS,
    claims=(Claim("two_layers_with_relu", _two_layers),
            Claim("dropout_half_in_training", _dropout, core=False, weight=0.1),
            Claim("ignores_batch", _ignores_batch, core=False)),
    reference=False,
    kills=("one_layer", "three_layers", "no_relu", "sigmoid_not_relu", "dropout_in_eval", "dropout_p_0_2",
           "hidden_is_classes"),
)


_GRAPH_SIZES = [4, 3, 2]  # hidden_channels, num_node_features, num_classes
_SMALL = [random_graph(np.random.default_rng(20 + k), 3, lo=2, hi=8) for k in range(12)]
_BATCH = batched(_SMALL)
_GRAPH_CALLS = [{**_BATCH, "train": False}, *({**g, "batch": None, "train": False} for g in _SMALL),
                {**_BATCH, "train": True}]


def _five_blocks(f) -> None:
    out = _classifier(f, _GRAPH_SIZES, _GRAPH_CALLS)
    _expect_layers(f, out["built"], [[3, 4]] + [[4, 4]] * 4, "conv(F -> hidden), then four conv(hidden -> hidden)")
    trace = out["calls"][-1]["trace"]  # training: BatchNorm uses the batch's statistics
    _expect_trace(f, trace, 5)
    _same(f, trace[0][1], _BATCH["x"], _BATCH, "the first layer reads the node features")
    for k in range(4):
        h = trace[k][2].double()
        normed = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5)
        _same(f, trace[k + 1][1], torch.relu(normed), _BATCH, f"in training, layer {k + 2} reads ReLU(BatchNorm1d(layer "
              f"{k + 1}'s output)) with the batch's statistics")


def _mean_pool_and_head(f) -> None:
    calls = _classifier(f, _GRAPH_SIZES, _GRAPH_CALLS)["calls"]
    out, trace = calls[0]["output"], calls[0]["trace"]
    _expect_trace(f, trace, 5)
    if type(out) is not torch.Tensor or tuple(out.shape) != (len(_SMALL), 2):
        raise CheckFailure(f"{f.target}: forward on {len(_SMALL)} graphs returned {summarize(out)}, expected ({len(_SMALL)}, 2)")
    last = torch.relu(trace[4][2].double() / (1 + 1e-5) ** 0.5)  # eval BatchNorm with fresh running statistics
    pooled = torch.stack([last[_BATCH["batch"] == g].mean(0) for g in range(len(_SMALL))])  # (G, hidden)
    design = torch.cat([pooled, torch.ones(len(_SMALL), 1, dtype=torch.float64)], 1)
    scores = out.double() - out.double().mean(1, keepdim=True)  # logits or log-probabilities
    fit = design @ torch.linalg.lstsq(design, scores).solution
    expect_close(f.target, scores, fit.numpy(), {"x": _BATCH["x"], "batch": _BATCH["batch"]}, tol=_TOL,
                 what="each graph's output must be a linear function of the mean over its nodes of the last block's "
                      "output (global mean pool, then a linear head)")


def _graphs_in_a_batch(f) -> None:
    calls = _classifier(f, _GRAPH_SIZES, _GRAPH_CALLS)["calls"]
    alone = [c["output"] for c in calls[1:-1]]
    if any(type(a) is not torch.Tensor or tuple(a.shape) != (1, 2) for a in alone):
        raise CheckFailure(f"{f.target}: forward(x, edge_index) with batch=None returned {summarize(alone[0])}, expected "
                           "(1, 2): batch=None is one graph")
    _same_class_scores(f, calls[0]["output"], torch.cat(alone), _BATCH, "12 graphs in one batch must each get the output "
                       "they get alone (pooling per graph, batch=None meaning one graph)")


GraphClassifier = Check(
    "gnn.GraphClassifier", points=1, needs=GRAPHS,
    claims=(Claim("five_conv_batchnorm_relu_blocks", _five_blocks),
            Claim("mean_pool_and_linear_head", _mean_pool_and_head),
            Claim("pools_each_graph_of_a_batch", _graphs_in_a_batch)),
    reference=False,
    kills=("sum_pool", "max_pool", "four_blocks", "no_batchnorm", "relu_before_batchnorm", "pools_whole_batch"),
)
