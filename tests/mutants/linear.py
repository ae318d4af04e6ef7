"""Wrong versions of the linear.py graded functions and classes."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course.solutions.linear import FeedForwardNet, LogisticRegression
from tests.mutants import mutant

CF, AG, LR, FF = "linear.closed_form_gradient", "linear.autograd_gradient", "linear.LogisticRegression", "linear.FeedForwardNet"
CE, EV = "linear.cross_entropy", "linear.evaluate"

# -- the gradient, by hand ------------------------------------------------------------------------


@mutant(CF, "mean_not_sum")
def _(X, w, y):
    return 2 * X.T @ (X @ w - y) / X.shape[0]


@mutant(CF, "missing_factor_two")
def _(X, w, y):
    return X.T @ (X @ w - y)


@mutant(CF, "sign_flip")
def _(X, w, y):
    return 2 * X.T @ (y - X @ w)


@mutant(CF, "drops_target_term")
def _(X, w, y):
    return 2 * X.T @ X @ w


@mutant(CF, "adds_target_term")
def _(X, w, y):
    return 2 * X.T @ X @ w + 2 * X.T @ y


# -- the gradient, by autograd ------------------------------------------------------------------


def _autograd(X, w, y, loss_of):
    w = w.detach().clone().requires_grad_(True)
    return torch.autograd.grad(loss_of(X @ w - y), w)[0]


@mutant(AG, "mean_loss")
def _(X, w, y):
    return _autograd(X, w, y, lambda r: (r**2).mean())


@mutant(AG, "norm_not_squared")
def _(X, w, y):
    return _autograd(X, w, y, torch.linalg.norm)


@mutant(AG, "half_loss")
def _(X, w, y):
    return _autograd(X, w, y, lambda r: 0.5 * (r**2).sum())


@mutant(AG, "fills_callers_grad")
def _(X, w, y):
    w.requires_grad_(True)
    ((X @ w - y) ** 2).sum().backward()
    return w.grad.clone()


@mutant(AG, "keeps_graph")
def _(X, w, y):
    w = w.detach().clone().requires_grad_(True)
    return torch.autograd.grad(((X @ w - y) ** 2).sum(), w, create_graph=True)[0]


# -- logistic regression ----------------------------------------------------------------------


class _Logistic(LogisticRegression):
    """The reference's parameters with another forward: ``probabilities(logits)``."""

    def probabilities(self, logits):
        return torch.softmax(logits, dim=1)

    def forward(self, x):
        return self.probabilities(x.reshape(x.shape[0], 784) @ self.weight + self.bias)


@mutant(LR, "random_init")
class _(_Logistic):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(0.01 * torch.randn(784, 10))


@mutant(LR, "uses_nn_linear")
class _(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(784, 10)

    def forward(self, x):
        return torch.softmax(self.linear(x.reshape(x.shape[0], -1)), dim=1)


@mutant(LR, "sigmoid_not_softmax")
class _(_Logistic):
    def probabilities(self, logits):
        return torch.sigmoid(logits)


@mutant(LR, "log_probabilities")
class _(_Logistic):
    def probabilities(self, logits):
        return torch.log_softmax(logits, dim=1)


@mutant(LR, "softmax_over_batch")
class _(_Logistic):
    def probabilities(self, logits):
        return torch.softmax(logits, dim=0)


@mutant(LR, "naive_softmax")
class _(_Logistic):
    def probabilities(self, logits):
        e = torch.exp(logits)
        return e / e.sum(1, keepdim=True)


@mutant(LR, "no_bias")
class _(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(784, 10))

    def forward(self, x):
        return torch.softmax(x.reshape(x.shape[0], -1) @ self.weight, dim=1)


# -- the feed-forward net ------------------------------------------------------------------------


@mutant(FF, "uses_nn_linear")
class _(nn.Module):
    def __init__(self, hidden=128, activation="sigmoid"):
        super().__init__()
        if activation not in ("sigmoid", "relu", "tanh", "softplus", "elu", "linear"):
            raise ValueError(activation)
        self.act = {"linear": lambda h: h, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                    "softplus": F.softplus, "elu": F.elu}[activation]
        self.hidden, self.out = nn.Linear(784, hidden), nn.Linear(hidden, 10)

    def forward(self, x):
        return torch.softmax(self.out(self.act(self.hidden(x.reshape(x.shape[0], -1)))), dim=1)


@mutant(FF, "activation_ignored")
class _(FeedForwardNet):
    def __init__(self, hidden=128, activation="sigmoid"):
        super().__init__(hidden, activation)
        self.activation = torch.sigmoid


@mutant(FF, "activation_on_logits")
class _(FeedForwardNet):
    def forward(self, x):
        h = self.activation(x.reshape(x.shape[0], 784) @ self.w1 + self.b1)
        return torch.softmax(self.activation(h @ self.w2 + self.b2), dim=1)


@mutant(FF, "unknown_falls_back")
class _(FeedForwardNet):
    def __init__(self, hidden=128, activation="sigmoid"):
        known = activation in ("sigmoid", "relu", "tanh", "softplus", "elu", "linear")
        super().__init__(hidden, activation if known else "sigmoid")


@mutant(FF, "width_ignored")
class _(FeedForwardNet):
    def __init__(self, hidden=128, activation="sigmoid"):
        super().__init__(128, activation)


@mutant(FF, "elu_as_leaky_relu")
class _(FeedForwardNet):
    def __init__(self, hidden=128, activation="sigmoid"):
        super().__init__(hidden, activation)
        if activation == "elu":
            self.activation = F.leaky_relu


@mutant(FF, "returns_logits")
class _(FeedForwardNet):
    def forward(self, x):
        return self.activation(x.reshape(x.shape[0], 784) @ self.w1 + self.b1) @ self.w2 + self.b2


# -- cross-entropy -------------------------------------------------------------------------------


def _picked(probs, targets):
    return probs.gather(1, targets.long().reshape(-1, 1)).squeeze(1)


@mutant(CE, "sum_not_mean")
def _(probs, targets):
    return -torch.log(_picked(probs, targets).clamp_min(1e-12)).sum()


@mutant(CE, "probs_as_logits")
def _(probs, targets):
    return F.cross_entropy(probs, targets.long())


@mutant(CE, "no_log")
def _(probs, targets):
    return F.nll_loss(probs, targets.long())


@mutant(CE, "unsafe_log")
def _(probs, targets):
    return -torch.log(_picked(probs, targets)).mean()


@mutant(CE, "mean_over_all_classes")
def _(probs, targets):
    return -torch.log(probs.clamp_min(1e-12)).mean()


@mutant(CE, "column_not_row_index")
def _(probs, targets):
    return -torch.log(probs[:, targets.long()].clamp_min(1e-12)).mean()


# -- accuracy ------------------------------------------------------------------------------------


def _accuracy(model, loader, *, per_batch=False, fraction=True, dim=1, restore=True, no_grad=True, first_only=False):
    was_training = model.training
    model.eval()
    correct, total, accuracies = 0, 0, []
    with torch.set_grad_enabled(not no_grad):
        for x, y in loader:
            hits = int((model(x).argmax(dim=dim) == y).sum())
            correct, total = correct + hits, total + y.shape[0]
            accuracies.append(hits / y.shape[0])
            if first_only:
                break
    if restore:
        model.train(was_training)
    if per_batch:
        return sum(accuracies) / len(accuracies)
    return correct / total if fraction else float(correct)


@mutant(EV, "mean_of_batch_accuracies")
def _(model, loader):
    return _accuracy(model, loader, per_batch=True)


@mutant(EV, "counts_not_fraction")
def _(model, loader):
    return _accuracy(model, loader, fraction=False)


@mutant(EV, "argmax_over_batch")
def _(model, loader):
    return _accuracy(model, loader, dim=0)


@mutant(EV, "leaves_eval_mode")
def _(model, loader):
    return _accuracy(model, loader, restore=False)


@mutant(EV, "grad_enabled")
def _(model, loader):
    return _accuracy(model, loader, no_grad=False)


@mutant(EV, "only_first_batch")
def _(model, loader):
    return _accuracy(model, loader, first_only=True)


@mutant(EV, "returns_tensor")
def _(model, loader):
    with torch.no_grad():
        hits = torch.cat([model(x).argmax(1) == y for x, y in loader])
    return hits.double().mean()
