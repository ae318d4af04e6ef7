"""Correct cnf.py functions and classes in other styles: other fields of time, torch.func and batched
Jacobians, other solvers and sign conventions, torch.distributions, the energy integrated anew."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import MultivariateNormal, Normal
from torchdyn.core import NeuralODE
from torchdyn.numerics import odeint

from course.solutions.cnf import (  # the CNF variants build and call them by name
    ODEFunc,
    trace_df_dx,
)
from tests.alternates import alternate

FIELD, TRACE, FLOW, NLL, KIN = "cnf.ODEFunc", "cnf.trace_df_dx", "cnf.CNF", "cnf.cnf_nll", "cnf.kinetic_energy"


@alternate(FIELD, "concat_squash")
class _(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(dim, hidden), nn.Linear(hidden, dim)])
        self.gates = nn.ModuleList([nn.Linear(1, hidden), nn.Linear(1, dim)])
        self.shifts = nn.ModuleList([nn.Linear(1, hidden, bias=False), nn.Linear(1, dim, bias=False)])

    def forward(self, t, x, args=None):
        tt = torch.as_tensor(t, dtype=x.dtype).reshape(1, 1)
        h = x
        for k, (layer, gate, shift) in enumerate(zip(self.layers, self.gates, self.shifts)):
            h = layer(h) * torch.sigmoid(gate(tt)) + shift(tt)
            h = nn.functional.softplus(h) if k == 0 else h
        return h


@alternate(FIELD, "full_like_time_column")
class _(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.ELU(), nn.Linear(hidden, dim))

    def forward(self, t, x, args=None):
        return self.net(torch.cat([x, torch.full_like(x[:, :1], float(t))], dim=-1))


@alternate(FIELD, "periodic_time_features")
class _(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, dim))

    def forward(self, t, x, args={}):  # noqa: B006 - torchdyn's own default
        t = torch.as_tensor(t).to(x).flatten()[:1].expand(x.shape[0]).unsqueeze(1)
        return self.net(torch.cat([x, torch.sin(t), torch.cos(t)], 1))


@alternate(TRACE, "vmap_jacrev")
def _(f, t, x):
    def one(row):
        return f(t, row.unsqueeze(0)).squeeze(0)

    return torch.func.vmap(torch.func.jacrev(one))(x).diagonal(dim1=1, dim2=2).sum(-1)


@alternate(TRACE, "functional_jacobian_of_the_batch")
def _(f, t, x):
    with torch.enable_grad():
        J = torch.autograd.functional.jacobian(lambda y: f(t, y), x, create_graph=True)  # (B, D, B, D)
    return torch.einsum("bibi->b", J)


@alternate(TRACE, "batched_grad_outputs")
def _(f, t, x):
    with torch.enable_grad():
        x = x.requires_grad_() if not x.requires_grad else x
        fx = f(t, x)
        eye = torch.eye(x.shape[1], dtype=x.dtype).unsqueeze(1).expand(-1, x.shape[0], -1)  # (D, B, D)
        rows = torch.autograd.grad(fx, x, grad_outputs=eye, create_graph=True, is_grads_batched=True)[0]
    return rows.diagonal(dim1=0, dim2=2).sum(-1)  # (D, B, D) -> (B,)


class _Reparametrised(nn.Module):
    """Integrates s from 0 to 1 along g(s, x) = -f(1 - s, x), the same path read backwards."""

    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, t, state, args=None):  # torchdyn passes time only to an argument named t; here it is s
        t = 1 - t
        x = state[:, :-2]
        with torch.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_(True)
            dx = self.func(t, x)
            tr = trace_df_dx(self.func, t, x)
        return torch.cat([-dx, tr[:, None], dx.pow(2).sum(1, keepdim=True)], 1)


@alternate(FLOW, "time_reparametrised_tsit5")
class _(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.func = ODEFunc(dim, hidden)
        self.node = NeuralODE(_Reparametrised(self.func), solver="tsit5")

    def forward(self, x):
        _, path = self.node(torch.cat([x, torch.zeros(len(x), 2, dtype=x.dtype)], 1), torch.linspace(0, 1, 5))
        end = path[-1]
        return end[:, :-2], end[:, -2], end[:, -1]


@alternate(FLOW, "positive_signs_then_negated")
class _(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.func = ODEFunc(dim, hidden)
        self.ode = NeuralODE(self.dynamics, solver="dopri5", atol=1e-6, rtol=1e-6,
                             optimizable_params=self.func.parameters())

    def dynamics(self, t, state, args=None):
        x = state[:, :-2]
        with torch.enable_grad():
            x = x.requires_grad_(True) if not x.requires_grad else x
            dx = self.func(t, x)
            return torch.cat([dx, trace_df_dx(self.func, t, x).unsqueeze(1), (dx * dx).sum(1, keepdim=True)], 1)

    def forward(self, x):
        _, sol = self.ode(torch.cat([x, x.new_zeros(x.shape[0], 2)], 1), torch.tensor([1.0, 0.0]))
        return sol[-1, :, :-2], -sol[-1, :, -2], -sol[-1, :, -1]  # integrated downwards: minus the integrals


@alternate(FLOW, "functional_odeint")
class _(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.func = ODEFunc(dim, hidden)

    def forward(self, x):
        def dynamics(t, state):
            y = state[:, :-2]
            with torch.enable_grad():
                y = y if y.requires_grad else y.detach().requires_grad_(True)
                dy = self.func(t, y)
                tr = trace_df_dx(self.func, t, y)
            return torch.cat([dy, -tr[:, None], -dy.pow(2).sum(1, keepdim=True)], 1)

        _, sol = odeint(dynamics, torch.cat([x, x.new_zeros(x.shape[0], 2)], 1), torch.tensor([1.0, 0.5, 0.0]),
                        solver="dopri5", atol=1e-5, rtol=1e-5)
        return sol[-1, :, :-2], sol[-1, :, -2], sol[-1, :, -1]


@alternate(NLL, "multivariate_normal")
def _(model, x):
    z, delta_logp, _ = model(x)
    d = z.shape[1]
    base = MultivariateNormal(torch.zeros(d, dtype=z.dtype), torch.eye(d, dtype=z.dtype))
    return delta_logp - base.log_prob(z)


@alternate(NLL, "normal_per_dimension")
def _(model, x):
    z, delta_logp, _ = model(x)
    return -(Normal(0.0, 1.0).log_prob(z).sum(dim=1) - delta_logp)


@alternate(NLL, "float32_constant")
def _(model, x):
    z, delta_logp, _ = model(x)
    log2pi = torch.tensor(math.log(2 * math.pi), dtype=torch.float32)  # a float32 constant inside float64 arithmetic
    return 0.5 * (z * z).sum(-1) + 0.5 * z.shape[-1] * log2pi.to(z.dtype) + delta_logp


@alternate(KIN, "unpacked")
def _(model, x):
    _, _, kinetic = model(x)
    return kinetic


@alternate(KIN, "integrated_anew_from_func")
def _(model, x):
    def dynamics(t, state):
        f = model.func(t, state[:, :-1])
        return torch.cat([f, -f.pow(2).sum(1, keepdim=True)], 1)

    start = torch.cat([x, x.new_zeros(x.shape[0], 1)], 1)
    _, sol = odeint(dynamics, start, torch.tensor([1.0, 0.0], dtype=x.dtype), solver="dopri5", atol=1e-8, rtol=1e-8)
    return sol[-1, :, -1]


@alternate(KIN, "forward_then_index")
def _(model, x):
    return model.forward(x)[-1]
