"""Reading a trained submission's weights on the trusted side, whatever it named them.

A training check gets back a submitted model's parameters by name. The trusted side computes
every metric with its own forward pass of the API's architecture, so it must find each affine
layer among them: a weight stored as (in, out) for ``x @ W`` or as (out, in) like ``nn.Linear``,
a bias as (out,) or (1, out). Layers are told apart by their sizes, which the architectures fix.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import torch

from grader.heavy import Unusable, finite

Layer = tuple[torch.Tensor, torch.Tensor]  # weight (in, out), bias (out,); float64


def tensors(state: Any, what: str) -> dict[str, torch.Tensor]:
    """``state`` as ``{name: tensor}``, checked finite; :class:`Unusable` when it is anything else."""
    if type(state) is not dict or not all(type(k) is str and type(v) is torch.Tensor for k, v in state.items()):
        raise Unusable(f"training returned no parameters of {what} (a dict of tensors by name)")
    return dict(finite(state))


def affine_chain(state: Mapping[str, torch.Tensor], sizes: Sequence[int], what: str) -> list[Layer]:
    """The affine layers ``sizes[0] -> sizes[1] -> ...`` found by shape among ``state``, in order.

    Parameters
    ----------
    state : mapping of str to torch.Tensor
        Every parameter of the model (or of one half of it): each must be one layer's weight or bias.
    sizes : sequence of int
        The widths of the chain; consecutive widths differ, so each weight's orientation shows.
    what : str
        The model, for the message.

    Returns
    -------
    list of (torch.Tensor, torch.Tensor)
        Per layer, the weight ``(in, out)`` and the bias ``(out,)``, in float64.

    Raises
    ------
    grader.heavy.Unusable
        When a layer is missing, found twice, or a parameter is none of them.
    """
    wanted: dict[tuple[int, ...], tuple[int, str, bool]] = {}  # shape -> (layer, kind, transposed)
    for i, (a, b) in enumerate(pairwise(sizes)):
        wanted.update({(a, b): (i, "weight", False), (b, a): (i, "weight", True), (b,): (i, "bias", False),
                       (1, b): (i, "bias", False)})
    found: dict[tuple[int, str], torch.Tensor] = {}
    for name, value in state.items():
        slot = wanted.get(tuple(value.shape))
        if slot is None or slot[:2] in found:
            raise Unusable(f"{what}: parameter {name} {tuple(value.shape)} is not one of the affine layers "
                           f"{' -> '.join(map(str, sizes))} (or one of them appears twice), so the grader "
                           "cannot recompute its outputs from the trained weights")
        layer, kind, transposed = slot
        value = value.double()
        found[layer, kind] = value.T if transposed else value.reshape(-1) if kind == "bias" else value
    missing = [f"layer {i} {kind}" for i in range(len(sizes) - 1) for kind in ("weight", "bias")
               if (i, kind) not in found]
    if missing:
        raise Unusable(f"{what}: no parameter holds {', '.join(missing)} of the affine layers "
                       f"{' -> '.join(map(str, sizes))}")
    return [(found[i, "weight"], found[i, "bias"]) for i in range(len(sizes) - 1)]
