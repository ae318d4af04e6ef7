"""Grader-owned code for the patch_rnn checks: the submitted PatchLSTM run whole, in two parts and
perturbed; small recurrent models of ours, whose outputs we compute by hand, for the loss and completion."""
from __future__ import annotations

from typing import Any

import torch

from grader.plain import summarize
from grader.scenarios import Resolve, instantiate


def _run(model: torch.nn.Module, *args: Any) -> dict[str, Any]:
    """One forward call as plain data: ``Y`` and ``state`` (a list of tensors), or what came back instead."""
    result = model(*args)
    if type(result) is not tuple or len(result) != 2 or type(result[0]) is not torch.Tensor:
        return {"returned": summarize(result)}
    Y, state = result
    if type(state) not in (tuple, list) or not all(type(t) is torch.Tensor for t in state):
        return {"returned": f"(Y, {summarize(state)})"}
    return {"Y": Y, "state": list(state)}


def patch_lstm_probe(
    resolve: Resolve, target: str, init: dict[str, Any], seq: torch.Tensor, split: int, row: int, step: int, seed: int
) -> dict[str, Any]:
    """Build the model (seeded) and record which parameters a loss on its outputs reaches; then, in
    eval mode, run ``seq`` whole, in two parts passing the state on, with ``seq[row, step]`` changed
    and scaled up."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = instantiate(resolve, target, init)
    params = list(model.named_parameters())
    out: dict[str, Any] = {"untrained": []}
    trained = _run(model, seq)
    if "Y" in trained and trained["Y"].requires_grad:
        found = torch.autograd.grad(trained["Y"].sum(), [p for _, p in params], allow_unused=True)
        out["untrained"] = [name for (name, _), g in zip(params, found) if g is None]
    model.eval()  # dropout between LSTM layers is the student's choice: off for the runs compared below
    with torch.no_grad():  # every run compared below takes the same path (autograd off)
        out["whole"] = _run(model, seq)
        out["first"] = _run(model, seq[:, :split])
        if "state" in out["first"]:
            out["second"] = _run(model, seq[:, split:], tuple(out["first"]["state"]))
        changed = seq.clone()
        changed[row, step] += 1.0
        out["perturbed"] = _run(model, changed)
        out["large"] = _run(model, 50 * seq)
    return out


class _Readout(torch.nn.Module):
    """Y_t = sigmoid(seq_t W + t c): position-aware, so that comparing the wrong steps shows."""

    def __init__(self, W: torch.Tensor, c: torch.Tensor):
        super().__init__()
        self.W, self.c = torch.nn.Parameter(W.clone()), torch.nn.Parameter(c.clone())

    def forward(self, seq: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        steps = torch.arange(seq.shape[1], dtype=seq.dtype).reshape(1, -1, 1)
        Y = torch.sigmoid(seq @ self.W + steps * self.c)  # (B, T, 49)
        last = Y[:, -1].unsqueeze(0)
        return Y, (last, last)


def patch_loss_with(resolve: Resolve, target: str, W: torch.Tensor, c: torch.Tensor, X: torch.Tensor) -> dict[str, Any]:
    """``next_patch_loss`` on a :class:`_Readout`; the loss and its gradients w.r.t. W and c."""
    model = _Readout(W, c)
    loss = resolve(target)(model, X)
    grads = {"W": None, "c": None}
    if type(loss) is torch.Tensor and loss.requires_grad and loss.numel() == 1:
        grads = dict(zip(grads, torch.autograd.grad(loss.sum(), [model.W, model.c], allow_unused=True)))
    return {"loss": loss, "grads": grads}


class _Recurrent(torch.nn.Module):
    """h_t = tanh(h_{t-1} A + x_t B), Y_t = sigmoid(h_t C + d), state (h, c) shaped like nn.LSTM's
    (c = h); records what each call was fed and whether autograd was on."""

    def __init__(self, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, d: torch.Tensor):
        super().__init__()
        self.A, self.B, self.C, self.d = (torch.nn.Parameter(t.clone()) for t in (A, B, C, d))
        self.fed: list[torch.Tensor] = []
        self.grad_enabled: list[bool] = []

    def forward(self, seq: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        self.fed.append(seq.detach().clone())
        self.grad_enabled.append(torch.is_grad_enabled())
        h = seq.new_zeros(seq.shape[0], self.A.shape[0]) if state is None else state[0][0]
        outputs = []
        for t in range(seq.shape[1]):
            h = torch.tanh(h @ self.A + seq[:, t] @ self.B)
            outputs.append(torch.sigmoid(h @ self.C + self.d))
        return torch.stack(outputs, dim=1), (h.unsqueeze(0), h.unsqueeze(0))


def complete_with(resolve: Resolve, target: str, weights: dict[str, torch.Tensor], top: torch.Tensor) -> dict[str, Any]:
    """``complete`` with a :class:`_Recurrent`; its result, what the model was fed, and when."""
    model = _Recurrent(**weights)
    result = resolve(target)(model, top)
    return {"output": result, "fed": model.fed, "grad_enabled": model.grad_enabled}
