"""Correct linear.py functions and classes in other styles: expanded products, einsum, loops,
torch.func, nn.Linear-style (out, in) weights, torch.distributions, inference mode."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical

from tests.alternates import alternate

CF, AG, LR, FF = "linear.closed_form_gradient", "linear.autograd_gradient", "linear.LogisticRegression", "linear.FeedForwardNet"
CE, EV = "linear.cross_entropy", "linear.evaluate"


@alternate(CF, "expanded")
def _(X, w, y):
    return 2 * X.T @ X @ w - 2 * X.T @ y


@alternate(CF, "einsum")
def _(X, w, y):
    residual = torch.einsum("nd,d...->n...", X, w) - y
    return 2 * torch.einsum("nd,n...->d...", X, residual)


@alternate(CF, "loop_over_examples")
def _(X, w, y):
    grad = torch.zeros_like(w)
    for x_i, y_i in zip(X, y):
        grad = grad + 2 * (x_i @ w - y_i) * x_i.reshape(w.shape)
    return grad


@alternate(AG, "torch_func")
def _(X, w, y):
    return torch.func.grad(lambda v: F.mse_loss(X @ v, y, reduction="sum"))(w.detach())


@alternate(AG, "backward_on_a_copy")
def _(X, w, y):
    leaf = w.clone().detach()
    leaf.requires_grad = True
    loss = torch.sum((torch.matmul(X, leaf) - y) ** 2)
    loss.backward()
    return leaf.grad


@alternate(AG, "enable_grad_then_detach")
def _(X, w, y):
    with torch.enable_grad():
        v = w.detach().requires_grad_()
        residual = X @ v - y
        return torch.autograd.grad(residual.pow(2).sum(), v, create_graph=True)[0].detach()


class _ZeroInit(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(784, 10))
        self.bias = nn.Parameter(torch.zeros(10))


@alternate(LR, "max_shift_by_hand")
class _(_ZeroInit):
    def forward(self, x):
        z = torch.addmm(self.bias, x.flatten(1), self.weight)
        e = torch.exp(z - z.max(dim=1, keepdim=True).values)
        return e / e.sum(dim=1, keepdim=True)


@alternate(LR, "distributions")
class _(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(10))  # registered first: order is free
        self.weight = nn.Parameter(torch.zeros(784, 10))

    def forward(self, x):
        return Categorical(logits=x.view(-1, 784) @ self.weight + self.bias).probs


@alternate(LR, "exp_log_softmax")
class _(_ZeroInit):
    def forward(self, x):
        return torch.log_softmax(torch.einsum("bp,pc->bc", x.reshape(len(x), -1), self.weight) + self.bias, -1).exp()


_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh, "softplus": nn.Softplus, "elu": nn.ELU,
                "linear": nn.Identity}


@alternate(FF, "out_in_weights_and_modules")
class _(nn.Module):
    def __init__(self, hidden=128, activation="sigmoid"):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        self.act = _ACTIVATIONS[activation]()
        self.W1 = nn.Parameter(nn.init.kaiming_uniform_(torch.empty(hidden, 784)))  # F.linear's layout
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.W2 = nn.Parameter(nn.init.xavier_normal_(torch.empty(10, hidden)))
        self.b2 = nn.Parameter(torch.zeros(10))

    def forward(self, x):
        return F.softmax(F.linear(self.act(F.linear(x.flatten(1), self.W1, self.b1)), self.W2, self.b2), dim=-1)


@alternate(FF, "row_biases_and_branches")
class _(nn.Module):
    def __init__(self, hidden=128, activation="sigmoid"):
        super().__init__()
        self.activation = activation
        if activation not in ("sigmoid", "relu", "tanh", "softplus", "elu", "linear"):
            raise ValueError(activation)
        self.params = nn.ParameterList([nn.Parameter(0.01 * torch.randn(784, hidden)), nn.Parameter(torch.zeros(1, hidden)),
                                        nn.Parameter(0.01 * torch.randn(hidden, 10)), nn.Parameter(torch.zeros(1, 10))])

    def forward(self, x):
        W1, b1, W2, b2 = self.params
        z = x.reshape(x.shape[0], -1) @ W1 + b1
        if self.activation == "sigmoid":
            h = 1 / (1 + torch.exp(-z))
        elif self.activation == "relu":
            h = z.clamp(min=0)
        elif self.activation == "tanh":
            h = torch.tanh(z)
        elif self.activation == "softplus":
            h = torch.log1p(torch.exp(-z.abs())) + z.clamp(min=0)
        elif self.activation == "elu":
            h = torch.where(z > 0, z, torch.expm1(z))
        else:
            h = z
        return torch.softmax(h @ W2 + b2, dim=1)


@alternate(FF, "einsum_and_functional")
class _(nn.Module):
    def __init__(self, hidden=128, activation="sigmoid"):
        super().__init__()
        fns = {"sigmoid": torch.sigmoid, "relu": F.relu, "tanh": torch.tanh, "softplus": F.softplus, "elu": F.elu,
               "linear": lambda z: z}
        try:
            self.fn = fns[activation]
        except KeyError:
            raise ValueError(f"no activation {activation}") from None
        self.w_in = nn.Parameter(torch.empty(784, hidden).uniform_(-0.05, 0.05))
        self.b_in = nn.Parameter(torch.zeros(hidden))
        self.w_out = nn.Parameter(torch.empty(hidden, 10).uniform_(-0.05, 0.05))
        self.b_out = nn.Parameter(torch.zeros(10))

    def forward(self, x):
        h = self.fn(torch.einsum("bi,ih->bh", x.flatten(1), self.w_in) + self.b_in)
        return torch.exp(F.log_softmax(torch.einsum("bh,hc->bc", h, self.w_out) + self.b_out, dim=1))


@alternate(CE, "nll_of_clamped_log")
def _(probs, targets):
    return F.nll_loss(torch.log(probs.clamp(min=1e-6)), targets.long())


@alternate(CE, "distributions")
def _(probs, targets):
    return -Categorical(probs=probs.clamp_min(1e-8)).log_prob(targets).mean()


@alternate(CE, "one_hot_mask_with_eps")
def _(probs, targets):
    mask = F.one_hot(targets.long(), probs.shape[1]).to(probs.dtype)
    return -(mask * torch.log(probs + 1e-7)).sum(dim=1).mean()


@alternate(EV, "inference_mode_and_tensors")
def _(model, loader):
    mode = model.training
    model.eval()
    correct, seen = torch.tensor(0), torch.tensor(0)
    with torch.inference_mode():
        for images, labels in loader:
            correct += (torch.max(model(images), 1)[1] == labels).sum()
            seen += labels.numel()
    model.train(mode)
    return (correct / seen).item()


@alternate(EV, "no_grad_decorator_keep_mode")
@torch.no_grad()
def _(model, loader):
    hits = [(model(x).argmax(-1) == y).float() for x, y in loader]  # never switches the mode
    return float(torch.cat(hits).mean())


@alternate(EV, "enumerate_and_counts")
def _(model, loader):
    was = model.training
    model.train(False)
    right = total = 0
    with torch.no_grad():
        for _, (x, y) in enumerate(loader):
            pred = model(x).detach().numpy().argmax(axis=1)
            right += int((pred == y.numpy()).sum())
            total += len(y)
    if was:
        model.train()
    return right / total
