"""Small graphs for the gnn checks, and the dense sums (A + I) X that GIN-0 aggregates.

PyG's layout throughout: ``edge_index`` (2, E) int64 is [source; target], and node i receives
from every edge j -> i. Built with NumPy and torch only: the trusted side needs no PyG.
"""
from __future__ import annotations

import numpy as np
import torch

F32 = torch.float32


def graph(x: np.ndarray, edges: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
    """A graph as the layer takes it: float32 ``x`` (N, F) and int64 ``edge_index`` (2, E)."""
    edge_index = torch.tensor(edges, dtype=torch.long).reshape(-1, 2).T.contiguous()
    return {"x": torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=F32), "edge_index": edge_index}


def random_graph(rng: np.random.Generator, features: int, *, lo: int = 2, hi: int = 9,
                 isolated_last: bool = False) -> dict[str, torch.Tensor]:
    """Directed edges without repeats or self-loops; the last node has no edge if ``isolated_last``."""
    n = int(rng.integers(lo, hi + 1))
    linked = n - 1 if isolated_last else n
    candidates = [(i, j) for i in range(linked) for j in range(linked) if i != j]
    chosen = rng.permutation(len(candidates))[: int(rng.integers(0, min(len(candidates), 2 * n) + 1))]
    return graph(rng.normal(size=(n, features)), [candidates[k] for k in sorted(chosen)])


def adjacency(g: dict[str, torch.Tensor]) -> np.ndarray:
    """A with A[i, j] = the number of edges j -> i (repeats and self-loops counted)."""
    n = g["x"].shape[0]
    a = np.zeros((n, n))
    for j, i in g["edge_index"].T.tolist():
        a[i, j] += 1
    return a


def summed(g: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The same nodes with features (A + I) X, computed in float64, and no edges."""
    x = g["x"].double().numpy()
    return graph((adjacency(g) + np.eye(x.shape[0])) @ x, [])


def permuted(g: dict[str, torch.Tensor], order: np.ndarray) -> dict[str, torch.Tensor]:
    """Node k of the result is node order[k] of ``g``; edges are relabelled to match."""
    new_label = np.argsort(order)
    edges = [(int(new_label[j]), int(new_label[i])) for j, i in g["edge_index"].T.tolist()]
    return graph(g["x"].numpy()[order], edges)


def batched(graphs: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The disjoint union, as PyG's ``Batch`` lays it out, with ``batch`` (N,) naming each node's graph."""
    offset, edges = 0, []
    for g in graphs:
        edges += [(j + offset, i + offset) for j, i in g["edge_index"].T.tolist()]
        offset += g["x"].shape[0]
    out = graph(np.concatenate([g["x"].numpy() for g in graphs]), edges)
    out["batch"] = torch.cat([torch.full((g["x"].shape[0],), k, dtype=torch.long) for k, g in enumerate(graphs)])
    return out
