"""Correct patch_rnn.py code in other styles: unfold and fold, loops, LSTM cells by hand, time-major
LSTMs, a sequence run again from the start at every step."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tests.alternates import alternate

IP, PI, LS = "patch_rnn.image_to_patches", "patch_rnn.patches_to_image", "patch_rnn.PatchLSTM"
NL, CO = "patch_rnn.next_patch_loss", "patch_rnn.complete"


@alternate(IP, "unfold")
def _(x):
    return F.unfold(x.reshape(-1, 1, 28, 28), kernel_size=7, stride=7).transpose(1, 2)


@alternate(IP, "loops")
def _(x):
    images = x.view(x.shape[0], 28, 28)
    return torch.stack([images[:, r:r + 7, c:c + 7].flatten(1) for r in range(0, 28, 7) for c in range(0, 28, 7)], dim=1)


@alternate(IP, "tensor_unfold")
def _(x):
    tiles = x.reshape(-1, 28, 28).unfold(1, 7, 7).unfold(2, 7, 7)  # (B, row, col, i, j)
    return tiles.contiguous().view(tiles.shape[0], 16, 49)


@alternate(PI, "fold")
def _(p):
    return F.fold(p.transpose(1, 2), output_size=(28, 28), kernel_size=7, stride=7).squeeze(1)


@alternate(PI, "loops")
def _(p):
    out = p.new_zeros(p.shape[0], 28, 28)
    for k in range(16):
        r, c = divmod(k, 4)
        out[:, 7 * r:7 * r + 7, 7 * c:7 * c + 7] = p[:, k].reshape(-1, 7, 7)
    return out


@alternate(PI, "rows_of_patches")
def _(p):
    rows = [torch.cat(list(p[:, 4 * r:4 * r + 4].reshape(-1, 4, 7, 7).unbind(1)), dim=2) for r in range(4)]
    return torch.cat(rows, dim=1)


@alternate(LS, "cells_by_hand")
class _(nn.Module):
    def __init__(self, hidden=64, layers=2):
        super().__init__()
        self.hidden = hidden
        self.cells = nn.ModuleList(nn.LSTMCell(49 if i == 0 else hidden, hidden) for i in range(layers))
        self.out = nn.Sequential(nn.Linear(hidden, 49), nn.Sigmoid())

    def forward(self, seq, state=None):
        B, L = seq.shape[0], len(self.cells)
        if state is None:
            zeros = seq.new_zeros(L, B, self.hidden)
            state = (zeros, zeros)
        h, c = list(state[0].unbind(0)), list(state[1].unbind(0))
        ys = []
        for t in range(seq.shape[1]):
            x = seq[:, t]
            for i, cell in enumerate(self.cells):
                h[i], c[i] = cell(x, (h[i], c[i]))
                x = h[i]
            ys.append(self.out(x))
        return torch.stack(ys, dim=1), (torch.stack(h), torch.stack(c))


@alternate(LS, "time_major")
class _(nn.Module):
    def __init__(self, hidden=64, layers=2):
        super().__init__()
        self.rnn = nn.LSTM(input_size=49, hidden_size=hidden, num_layers=layers)
        self.fc = nn.Linear(hidden, 49)

    def forward(self, seq, state=None):
        h, (hn, cn) = self.rnn(seq.transpose(0, 1), state)
        return torch.sigmoid(self.fc(h)).transpose(0, 1), (hn, cn)


@alternate(LS, "dropout_and_two_layer_head")
class _(nn.Module):
    def __init__(self, hidden=64, layers=2):
        super().__init__()
        self.lstm = nn.LSTM(49, hidden, layers, batch_first=True, dropout=0.2)
        self.head = nn.Sequential(nn.Linear(hidden, 128), nn.ReLU(), nn.Linear(128, 49))

    def forward(self, seq, state=None):
        out, state = self.lstm(seq) if state is None else self.lstm(seq, state)
        return torch.sigmoid(self.head(out)), state


@alternate(NL, "explicit_mean")
def _(model, X):
    Y, _ = model(X)
    return ((Y[:, :15] - X[:, 1:]) ** 2).mean()


@alternate(NL, "fifteen_inputs")
def _(model, X):
    Y = model(X[:, :-1])[0]  # the last output predicts nothing: leave it out
    return F.mse_loss(Y, X[:, 1:], reduction="sum") / Y.numel()


@alternate(NL, "per_step_losses")
def _(model, X):
    Y, _ = model(X)
    return torch.stack([F.mse_loss(Y[:, t], X[:, t + 1]) for t in range(15)]).mean()


@alternate(CO, "run_again_from_the_start")
def _(model, top):
    seq = top.clone()
    with torch.no_grad():
        while seq.shape[1] < 16:
            Y, _ = model(seq)
            seq = torch.cat([seq, Y[:, -1:]], dim=1)
    return seq


@alternate(CO, "one_patch_at_a_time")
@torch.no_grad()
def _(model, top):
    out = torch.empty(top.shape[0], 16, 49, dtype=top.dtype)
    out[:, :8] = top
    state = None
    for t in range(15):
        y, state = model(out[:, t:t + 1], state)
        if t >= 7:
            out[:, t + 1] = y[:, 0]
    return out


@alternate(CO, "inference_mode")
def _(model, top):
    with torch.inference_mode():
        Y, (h, c) = model(top)
        patches = list(top.unbind(1)) + [Y[:, -1]]
        for _ in range(7):
            Y, (h, c) = model(patches[-1].unsqueeze(1), (h, c))
            patches.append(Y[:, -1])
    return torch.stack(patches, dim=1)
