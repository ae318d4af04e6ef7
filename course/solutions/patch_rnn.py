"""Drawing the bottom half of a digit: an LSTM over 7x7 patches that predicts the next patch.

Handout: ENGR-E 533 Homework 5, Problem 1 (cut each MNIST digit into 16 patches, train an LSTM
to predict patch t + 1 from patches 0..t, then complete the bottom half from the top half).

Conventions for every function here:
- a 28x28 image is a 4x4 grid of 7x7 patches; patch k = 4 * row + col covers rows
  7 row .. 7 row + 6 and columns 7 col .. 7 col + 6, flattened row by row into 49 values;
- T is the number of patches in a sequence (16 for a whole image, 8 for its top half);
- the dtype and device of the inputs are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "image_to_patches",
    "patches_to_image",
    "PatchLSTM",
    "next_patch_loss",
    "complete",
    "TrainConfig",
    "FULL",
]

SIDE, PATCH, GRID = 28, 7, 4  # image side, patch side, patches per row
State = tuple[torch.Tensor, torch.Tensor]


def image_to_patches(x: torch.Tensor) -> torch.Tensor:
    """Cut images into their 16 patches, row-major from the top-left, each flattened.

    out[b, 4 row + col, 7 i + j] = image[b, 7 row + i, 7 col + j]

    Parameters
    ----------
    x : torch.Tensor
        28x28 images.

    Returns
    -------
    torch.Tensor
        The patch sequences.

    Shapes
    ------
    x : (B, 28, 28), (B, 1, 28, 28) or (B, 784)
    returns : (B, 16, 49)
    """
    # BEGIN SOLUTION
    B = x.shape[0]
    grid = x.reshape(B, GRID, PATCH, GRID, PATCH)  # (B, row, i, col, j)
    return grid.permute(0, 1, 3, 2, 4).reshape(B, GRID * GRID, PATCH * PATCH)  # (B, 4 row + col, 7 i + j)
    # END SOLUTION


def patches_to_image(p: torch.Tensor) -> torch.Tensor:
    """Put 16 patches back together: the exact inverse of :func:`image_to_patches`.

    image[b, 7 row + i, 7 col + j] = p[b, 4 row + col, 7 i + j]

    Parameters
    ----------
    p : torch.Tensor
        Patch sequences, row-major from the top-left.

    Returns
    -------
    torch.Tensor
        The images.

    Shapes
    ------
    p : (B, 16, 49)
    returns : (B, 28, 28)
    """
    # BEGIN SOLUTION
    B = p.shape[0]
    grid = p.reshape(B, GRID, GRID, PATCH, PATCH)  # (B, row, col, i, j)
    return grid.permute(0, 1, 3, 2, 4).reshape(B, SIDE, SIDE)  # (B, 7 row + i, 7 col + j)
    # END SOLUTION


class PatchLSTM(nn.Module):
    """An LSTM over patch sequences whose output at step t predicts patch t + 1.

    (h_t, c_t) = LSTM(patch_t, (h_{t-1}, c_{t-1})),  Y_t = sigmoid(h_t W + b)

    Parameters
    ----------
    hidden : int, default 64
        Width of each LSTM layer.
    layers : int, default 2
        Number of stacked LSTM layers.

    Shapes
    ------
    forward : seq (B, T, 49), state None or (h, c) -> (Y (B, T, 49) in (0, 1), (h, c))
    h, c : (layers, B, hidden), as ``nn.LSTM`` returns them; passing them back continues the sequence
    """

    def __init__(self, hidden: int = 64, layers: int = 2):
        super().__init__()
        # BEGIN SOLUTION
        self.lstm = nn.LSTM(PATCH * PATCH, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, PATCH * PATCH)
        # END SOLUTION

    def forward(self, seq: torch.Tensor, state: Optional[State] = None) -> tuple[torch.Tensor, State]:
        # BEGIN SOLUTION
        h, state = self.lstm(seq, state)  # (B, T, hidden)
        return torch.sigmoid(self.head(h)), state  # (B, T, 49)
        # END SOLUTION


def next_patch_loss(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the next-patch predictions.

    Y, _ = model(X);  L = mean over b, t < 15, d of (Y[b, t, d] - X[b, t + 1, d])^2

    The model reads all 16 patches; its output at step t is compared with patch t + 1.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(X)``, returning ``(Y, state)`` like :class:`PatchLSTM`.
    X : torch.Tensor
        Patch sequences of whole images.

    Returns
    -------
    torch.Tensor
        A 0-d tensor that carries the model's graph (training backpropagates it).

    Shapes
    ------
    X : (B, 16, 49); Y : (B, 16, 49)
    returns : ()
    """
    # BEGIN SOLUTION
    Y, _ = model(X)
    return F.mse_loss(Y[:, :-1], X[:, 1:])  # prediction at t against patch t + 1
    # END SOLUTION


def complete(model: nn.Module, top: torch.Tensor) -> torch.Tensor:
    """Complete the bottom half: feed the top 8 patches, then feed each prediction back in.

    The output after the 8 given patches is patch 8; it is fed back (with the state) to get
    patch 9, and so on until patch 15. The ground truth of the bottom half is never used.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(seq, state)``, returning ``(Y, state)`` like :class:`PatchLSTM`.
    top : torch.Tensor
        The first 8 patches of each image.

    Returns
    -------
    torch.Tensor
        The 16-patch sequences: ``top`` as given, then the 8 predicted patches. Computed under
        ``torch.no_grad()``.

    Shapes
    ------
    top : (B, 8, 49)
    returns : (B, 16, 49)
    """
    # BEGIN SOLUTION
    with torch.no_grad():
        Y, state = model(top)  # Y[:, t] predicts patch t + 1
        predicted = [Y[:, -1:]]  # patch 8, (B, 1, 49)
        while len(predicted) < GRID * GRID - top.shape[1]:
            Y, state = model(predicted[-1], state)  # feed the prediction back, never the truth
            predicted.append(Y[:, -1:])
        return torch.cat([top, *predicted], dim=1)
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): training settings of the patch LSTM.


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the patch LSTM (ours where the handout was silent)."""

    hidden: int = 64
    layers: int = 2
    lr: float = 1e-3  # Adam
    batch_size: int = 128
    epochs: int = 10
    seed: int = 0


FULL = TrainConfig()
