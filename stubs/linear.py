# Generated from course/solutions/linear.py by `grader stubs`; do not edit by hand.
"""Gradients and classifiers from scratch: the autograd check, logistic regression, a one-hidden-layer net.

Handouts: CPSC 663 (2021) Exercise III P1 (the gradient of a least-squares loss, by hand and by
autograd) and CPSC 453 PS3 sections 2-3 (MNIST classifiers built from raw parameters).

Conventions for every function here:
- X is (n, d); w is (d,) with y (n,), or (d, 1) with y (n, 1); a gradient has w's shape and dtype;
- images (B, 1, 28, 28) or (B, 28, 28) are flattened to (B, 784); C = 10 classes;
- classifiers return probabilities (rows summing to 1); targets are class indices, (B,).
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "closed_form_gradient",
    "autograd_gradient",
    "LogisticRegression",
    "FeedForwardNet",
    "cross_entropy",
    "evaluate",
    "TrainConfig",
    "FULL",
]

PIXELS = 784
CLASSES = 10


def closed_form_gradient(X: torch.Tensor, w: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Gradient of the summed squared error ||Xw - y||^2 with respect to w, in closed form.

    grad = 2 X^T X w - 2 X^T y

    The loss is a sum over the n examples, not a mean.

    Parameters
    ----------
    X : torch.Tensor
        Inputs, one example per row.
    w : torch.Tensor
        Weights.
    y : torch.Tensor
        Targets, shaped like ``X @ w``.

    Returns
    -------
    torch.Tensor
        The gradient, with w's shape and dtype.

    Shapes
    ------
    X : (n, d); w : (d,) and y : (n,), or w : (d, 1) and y : (n, 1)
    returns : like ``w``
    """
    raise NotImplementedError("closed_form_gradient: replace this line with your implementation")


def autograd_gradient(X: torch.Tensor, w: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The gradient of :func:`closed_form_gradient`, computed by autograd.

    grad = d/dw sum_i (x_i . w - y_i)^2

    The inputs are left untouched (no ``requires_grad`` switched on, no ``.grad`` filled), and
    the result carries no graph, so calling it twice gives the same answer.

    Parameters
    ----------
    X : torch.Tensor
        Inputs, one example per row.
    w : torch.Tensor
        Weights.
    y : torch.Tensor
        Targets, shaped like ``X @ w``.

    Returns
    -------
    torch.Tensor
        The gradient, with w's shape and dtype, without a graph.

    Shapes
    ------
    X : (n, d); w : (d,) and y : (n,), or w : (d, 1) and y : (n, 1)
    returns : like ``w``
    """
    raise NotImplementedError("autograd_gradient: replace this line with your implementation")


class LogisticRegression(nn.Module):
    """Multinomial logistic regression on flattened MNIST images.

    p(c | x) = softmax(x W + b)_c

    where W (``weight``) and b (``bias``) are ``nn.Parameter``s initialised to zero, so that an
    untrained model predicts 1/10 for every class.

    Shapes
    ------
    weight : (784, C); bias : (C,)
    forward : x (B, 784), (B, 28, 28) or (B, 1, 28, 28) -> (B, C) probabilities
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError("__init__: replace this line with your implementation")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: replace this line with your implementation")


class FeedForwardNet(nn.Module):
    """A net with one hidden layer, built from raw parameters (no ``nn.Linear``).

    p(c | x) = softmax(act(x W1 + b1) W2 + b2)_c

    Parameters
    ----------
    hidden : int, default 128
        Width H of the hidden layer.
    activation : str, default "sigmoid"
        One of "sigmoid", "relu", "tanh", "softplus", "elu" or "linear" (the identity).

    Raises
    ------
    ValueError
        For any other ``activation``.

    Shapes
    ------
    W1 : (784, H); b1 : (H,); W2 : (H, C); b2 : (C,) (any names, either orientation)
    forward : x (B, 784), (B, 28, 28) or (B, 1, 28, 28) -> (B, C) probabilities
    """

    def __init__(self, hidden: int = 128, activation: str = "sigmoid"):
        super().__init__()
        raise NotImplementedError("__init__: replace this line with your implementation")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("forward: replace this line with your implementation")


def cross_entropy(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean negative log-probability of the target classes.

    L = -(1/B) sum_b log p[b, targets[b]]

    Safe at p = 0: the probability is clamped (at 1e-6 or below) before the log, so the loss
    and its gradient stay finite.

    Parameters
    ----------
    probs : torch.Tensor
        Class probabilities, rows summing to 1 (a classifier's output, not logits).
    targets : torch.Tensor
        Class indices in [0, C).

    Returns
    -------
    torch.Tensor
        A 0-d tensor in ``probs``' dtype.

    Shapes
    ------
    probs : (B, C); targets : (B,) integers
    returns : ()
    """
    raise NotImplementedError("cross_entropy: replace this line with your implementation")


def evaluate(model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Fraction of the examples that ``model`` classifies correctly.

    accuracy = #{examples with argmax_c model(x)[c] == y} / #examples

    Counted over examples, not averaged over batches (the last batch may be smaller). Runs under
    ``torch.no_grad()`` and leaves the model in the train/eval mode it was found in.

    Parameters
    ----------
    model : nn.Module
        Returns class scores or probabilities, one row per example.
    loader : iterable of (x, y)
        Batches of inputs and integer labels (a DataLoader or any iterable).

    Returns
    -------
    float
        In [0, 1].

    Shapes
    ------
    x : (B, ...); y : (B,); model(x) : (B, C)
    """
    raise NotImplementedError("evaluate: replace this line with your implementation")


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): training settings of the MNIST classifiers.


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the MNIST classifiers (the handout's where it gives them)."""

    batch_size: int = 128  # the handout's
    lr: float = 0.5  # plain SGD; the handout's for logistic regression
    epochs: int = 10  # ours: the handout leaves the budget to the student
    hidden: int = 128  # FeedForwardNet's width
    activation: str = "relu"  # ours: the best of the six on MNIST
    min_test_accuracy: float = 0.95  # the handout's mark for the best classifier
    seed: int = 0


FULL = TrainConfig()
