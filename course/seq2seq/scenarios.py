"""The seq2seq classes and the masking, driven next to the implementation by grader-owned code.

Each scenario builds the submission's class with a fixed seed, drives it with the grader's own
inputs (and, for ``Seq2Seq``, the grader's own weights) and returns raw outputs; every verdict
is taken on the trusted side.
"""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from grader.scenarios import SGD, Resolve


def _seed(seed: int) -> None:
    """Seed every generator a submission may draw from."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _table(model: torch.nn.Module) -> torch.Tensor:
    """``model.embeddings`` as a tensor: a property, a method or an ``nn.Embedding`` all serve."""
    table = model.embeddings
    if isinstance(table, torch.nn.Embedding):
        table = table.weight
    elif callable(table) and not isinstance(table, torch.Tensor):
        table = table()
    return table.detach().clone()


def skipgram_train(
    resolve: Resolve, target: str, vocab_size: int, embedding_dim: int, centres: torch.Tensor, contexts: torch.Tensor,
    steps: int, lr: float, weight_decay: float, seed: int,
) -> dict[str, Any]:
    """Train ``SkipGram`` full-batch with the grader's loop: cross-entropy of ``forward``'s logits
    plus ``weight_decay`` times the squared norm of every parameter, SGD with momentum 0.9.

    Returns the input table and the logits of every id after training, and the loss before and after.
    """
    _seed(seed)
    model = resolve(target)(vocab_size, embedding_dim)
    optimizer = SGD(model.parameters(), lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(centres), contexts)
        losses.append(float(loss.detach()))
        (loss + weight_decay * sum(p.pow(2).sum() for p in model.parameters())).backward()
        optimizer.step()
    with torch.no_grad():
        logits = model(torch.arange(vocab_size))
    return {"embeddings": _table(model), "logits": logits.detach(), "first_loss": losses[0], "last_loss": losses[-1]}


def skipgram_step(
    resolve: Resolve, target: str, vocab_size: int, embedding_dim: int, centres: torch.Tensor, contexts: torch.Tensor,
    seed: int,
) -> dict[str, Any]:
    """The input table before and after one plain SGD step on the cross-entropy of a few pairs."""
    _seed(seed)
    model = resolve(target)(vocab_size, embedding_dim)
    before = _table(model)
    optimizer = SGD(model.parameters(), 1.0)
    F.cross_entropy(model(centres), contexts).backward()
    optimizer.step()
    return {"before": before, "after": _table(model), "logits_shape": list(model(centres).shape)}


def seq2seq_decode(
    resolve: Resolve, target: str, sizes: list[int], seed: int, scale: float, calls: list[dict[str, Any]],
) -> dict[str, Any]:
    """Build ``Seq2Seq(*sizes)``, give it the grader's weights (every parameter drawn from
    N(0, scale^2) with ``seed``), put it in eval mode and answer each call.

    A call is ``{"src": ..., "teacher": ... or None}`` (forward), ``{"src": ..., "reconstruct": True}``,
    or ``{"src": ..., "teacher": ..., "perturb_row": k}``: forward after adding 1 to row k of every
    ``nn.Embedding`` with ``vocab_size`` rows (the tables the decoder can read ``<sos>`` from).
    Returns the answers in order and how many such tables there are.
    """
    _seed(seed)
    model = resolve(target)(*sizes)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    model.eval()
    tables = [m.weight for m in model.modules() if isinstance(m, torch.nn.Embedding) and m.num_embeddings == sizes[0]]
    out = []
    with torch.no_grad():
        for call in calls:
            if call.get("reconstruct"):
                out.append(model.reconstruct(call["src"]))
                continue
            row = call.get("perturb_row")
            for table in tables if row is not None else ():
                table[row] += 1.0
            out.append(model(call["src"]) if call["teacher"] is None else model(call["src"], teacher=call["teacher"]))
            for table in tables if row is not None else ():
                table[row] -= 1.0
    return {"outputs": out, "tables": len(tables)}


def mask_draws(resolve: Resolve, target: str, calls: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Call ``mask_tokens`` once per entry of ``calls`` (``ids``, ``prob``, ``mask_id``), in order,
    after seeding every generator once; report each result and whether ``ids`` was changed."""
    _seed(seed)
    mask_tokens = resolve(target)
    out = []
    for call in calls:
        ids = call["ids"].clone()
        result = mask_tokens(ids, call["prob"], call["mask_id"])
        out.append({"result": result, "input_changed": not torch.equal(ids, call["ids"])})
    return out
