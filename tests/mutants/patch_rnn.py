"""Wrong versions of the patch_rnn.py graded functions and class."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course.solutions.patch_rnn import PatchLSTM
from tests.mutants import mutant

IP, PI, LS = "patch_rnn.image_to_patches", "patch_rnn.patches_to_image", "patch_rnn.PatchLSTM"
NL, CO = "patch_rnn.next_patch_loss", "patch_rnn.complete"

# -- patches --------------------------------------------------------------------------------------


@mutant(IP, "naive_view")
def _(x):
    return x.reshape(x.shape[0], 16, 49)


@mutant(IP, "column_major_grid")
def _(x):
    return x.reshape(-1, 4, 7, 4, 7).permute(0, 3, 1, 2, 4).reshape(-1, 16, 49)


@mutant(IP, "transposed_patches")
def _(x):
    return x.reshape(-1, 4, 7, 4, 7).permute(0, 1, 3, 4, 2).reshape(-1, 16, 49)


@mutant(IP, "unfold_without_transpose")
def _(x):
    return F.unfold(x.reshape(-1, 1, 28, 28), kernel_size=7, stride=7)  # (B, 49, 16)


@mutant(IP, "keeps_channel_dim")
def _(x):
    return x.unfold(-2, 7, 7).unfold(-2, 7, 7).reshape(*x.shape[:-2], 16, 49)  # (B, 1, 16, 49) for (B, 1, 28, 28)


@mutant(PI, "naive_view")
def _(p):
    return p.reshape(p.shape[0], 28, 28)


@mutant(PI, "column_major_grid")
def _(p):
    return p.reshape(-1, 4, 4, 7, 7).permute(0, 2, 3, 1, 4).reshape(-1, 28, 28)


@mutant(PI, "transposed_patches")
def _(p):
    return p.reshape(-1, 4, 4, 7, 7).permute(0, 1, 4, 2, 3).reshape(-1, 28, 28)


@mutant(PI, "adds_channel_dim")
def _(p):
    return p.reshape(-1, 4, 4, 7, 7).permute(0, 1, 3, 2, 4).reshape(-1, 1, 28, 28)


@mutant(PI, "transposed_image")
def _(p):
    return p.reshape(-1, 4, 4, 7, 7).permute(0, 2, 4, 1, 3).reshape(-1, 28, 28)


# -- the LSTM -------------------------------------------------------------------------------------


class _LSTM(nn.Module):
    """nn.LSTM and a linear head; mutants change the pieces."""

    bidirectional, batch_first = False, True

    def __init__(self, hidden=64, layers=2):
        super().__init__()
        self.lstm = nn.LSTM(49, hidden, num_layers=layers, batch_first=self.batch_first, bidirectional=self.bidirectional)
        self.head = nn.Linear(hidden * (2 if self.bidirectional else 1), 49)

    def out(self, h):
        return torch.sigmoid(self.head(h))

    def forward(self, seq, state=None):
        h, state = self.lstm(seq, state)
        return self.out(h), state


@mutant(LS, "no_sigmoid")
class _(_LSTM):
    def out(self, h):
        return self.head(h)


@mutant(LS, "tanh_head")
class _(_LSTM):
    def out(self, h):
        return torch.tanh(self.head(h))


@mutant(LS, "not_batch_first")
class _(_LSTM):
    batch_first = False


@mutant(LS, "bidirectional")
class _(_LSTM):
    bidirectional = True


@mutant(LS, "state_ignored")
class _(_LSTM):
    def forward(self, seq, state=None):
        h, state = self.lstm(seq)
        return self.out(h), state


@mutant(LS, "returns_outputs_as_state")
class _(_LSTM):
    def forward(self, seq, state=None):
        h, _ = self.lstm(seq, state)
        return self.out(h), (h, h)


@mutant(LS, "sizes_ignored")
class _(PatchLSTM):
    def __init__(self, hidden=64, layers=2):
        super().__init__()


# -- the loss -----------------------------------------------------------------------------------------


@mutant(NL, "predicts_the_current_patch")
def _(model, X):
    return F.mse_loss(model(X)[0][:, :15], X[:, :15])


@mutant(NL, "compares_later_outputs")
def _(model, X):
    return F.mse_loss(model(X)[0][:, 1:], X[:, 1:])


@mutant(NL, "sum_not_mean")
def _(model, X):
    return F.mse_loss(model(X)[0][:, :15], X[:, 1:], reduction="sum")


@mutant(NL, "root_mean_square")
def _(model, X):
    return F.mse_loss(model(X)[0][:, :15], X[:, 1:]).sqrt()


@mutant(NL, "detached_loss")
def _(model, X):
    return torch.tensor(F.mse_loss(model(X)[0][:, :15], X[:, 1:]).item(), dtype=X.dtype)


@mutant(NL, "binary_cross_entropy")
def _(model, X):
    return F.binary_cross_entropy(model(X)[0][:, :15], X[:, 1:])


# -- completion ---------------------------------------------------------------------------------------


def _complete(model, top, *, keep_state=True, feed=None, pick=-1, top_as_outputs=False, n=8, no_grad=True):
    with torch.set_grad_enabled(not no_grad):
        Y, state = model(top)
        head = Y if top_as_outputs else top
        predicted = [Y[:, pick:][:, :1]]
        while len(predicted) < n:
            fed = predicted[-1] if feed is None else feed(top, predicted[-1])
            Y, new_state = model(fed, state if keep_state else None)
            state = new_state
            predicted.append(Y[:, -1:])
        return torch.cat([head, *predicted], dim=1)


@mutant(CO, "state_dropped")
def _(model, top):
    return _complete(model, top, keep_state=False)


@mutant(CO, "repeats_last_top_patch")
def _(model, top):
    return _complete(model, top, feed=lambda top, _: top[:, -1:])


@mutant(CO, "feeds_zeros")
def _(model, top):
    return _complete(model, top, feed=lambda _, p: torch.zeros_like(p))


@mutant(CO, "first_output_not_last")
def _(model, top):
    return _complete(model, top, pick=0)


@mutant(CO, "returns_outputs_for_top")
def _(model, top):
    return _complete(model, top, top_as_outputs=True)


@mutant(CO, "seven_predictions")
def _(model, top):
    return _complete(model, top, n=7)


@mutant(CO, "grad_enabled")
def _(model, top):
    return _complete(model, top, no_grad=False)
