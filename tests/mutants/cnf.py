"""Wrong versions of the cnf.py graded functions and classes."""
from __future__ import annotations

import math

import torch
from torch import nn
from torchdyn.core import NeuralODE

from course.solutions import cnf as solution
from course.solutions.cnf import (  # the CNF mutants build and call them by name
    ODEFunc,
    trace_df_dx,
)
from tests.mutants import mutant

FIELD, TRACE, FLOW, NLL, KIN = "cnf.ODEFunc", "cnf.trace_df_dx", "cnf.CNF", "cnf.cnf_nll", "cnf.kinetic_energy"


class _Field(solution.ODEFunc):
    """The solution's field with the time input or the batch handled differently."""

    def forward(self, t, x, args=None):
        return self.net(torch.cat([x, self.time(t, x)], 1))

    def time(self, t, x):
        return torch.as_tensor(t, dtype=x.dtype).reshape(1, 1).expand(x.shape[0], 1)


@mutant(FIELD, "ignores_time")
class _(_Field):
    def time(self, t, x):
        return torch.zeros(x.shape[0], 1, dtype=x.dtype)


@mutant(FIELD, "centres_the_batch")
class _(_Field):
    def forward(self, t, x, args=None):
        return super().forward(t, x - x.mean(0, keepdim=True))


@mutant(FIELD, "linear_field")
class _(_Field):
    def __init__(self, dim, hidden):
        super().__init__(dim, hidden)
        self.net = nn.Linear(dim + 1, dim)


@mutant(FIELD, "time_must_be_tensor")
class _(_Field):
    def time(self, t, x):
        return t.to(x.dtype).reshape(1, 1).expand(x.shape[0], 1)


@mutant(FIELD, "no_args_parameter")
class _(_Field):
    def forward(self, t, x):
        return super().forward(t, x)


@mutant(FIELD, "forgets_output_layer")
class _(_Field):
    def __init__(self, dim, hidden):
        super().__init__(dim, hidden)
        self.net = self.net[:-1]  # returns the hidden width, not dim


def _diagonal(f, t, x, *, create_graph=True, ts=None):
    with torch.enable_grad():
        x = x if x.requires_grad else x.detach().requires_grad_(True)
        fx = f(t if ts is None else ts, x)
        return torch.stack([torch.autograd.grad(fx[:, i].sum(), x, create_graph=create_graph, retain_graph=True)[0][:, i]
                            for i in range(x.shape[1])], 1)  # (B, D)


@mutant(TRACE, "hutchinson_estimate")
def _(f, t, x):
    with torch.enable_grad():
        x = x if x.requires_grad else x.detach().requires_grad_(True)
        eps = torch.randn_like(x)
        vjp = torch.autograd.grad((f(t, x) * eps).sum(), x, create_graph=True)[0]
        return (vjp * eps).sum(1)


@mutant(TRACE, "sum_of_all_entries")
def _(f, t, x):
    with torch.enable_grad():
        x = x if x.requires_grad else x.detach().requires_grad_(True)
        return torch.autograd.grad(f(t, x).sum(), x, create_graph=True)[0].sum(1)  # 1^T J 1


@mutant(TRACE, "no_create_graph")
def _(f, t, x):
    return _diagonal(f, t, x, create_graph=False).sum(1)


@mutant(TRACE, "first_entry_times_dim")
def _(f, t, x):
    return _diagonal(f, t, x)[:, 0] * x.shape[1]


@mutant(TRACE, "squared_entries")
def _(f, t, x):
    return _diagonal(f, t, x).pow(2).sum(1)


@mutant(TRACE, "time_ignored")
def _(f, t, x):
    return _diagonal(f, t, x, ts=0.0).sum(1)


class _Flow(nn.Module):
    """A CNF with its direction, signs, solver or field's time changed by the subclass's settings."""

    t_span, trace_sign, square, solver, reverse_time, detach_trace = (1.0, 0.0), 1.0, True, "dopri5", False, False

    def __init__(self, dim, hidden):
        super().__init__()
        self.func = ODEFunc(dim, hidden)
        tolerances = {} if self.solver == "rk4" else {"atol": 1e-6, "rtol": 1e-6}  # fixed steps take none
        self.ode = NeuralODE(self._dynamics, solver=self.solver, return_t_eval=False,
                             optimizable_params=self.func.parameters(), **tolerances)

    def _dynamics(self, t, state, args=None):
        x = state[:, :-2]
        time = 1 - t if self.reverse_time else t
        with torch.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_(True)
            dx = self.func(time, x)
            trace = trace_df_dx(self.func, time, x)
        trace = trace.detach() if self.detach_trace else trace
        speed = dx.pow(2).sum(1, keepdim=True) if self.square else dx.norm(dim=1, keepdim=True)
        return torch.cat([dx, -self.trace_sign * trace[:, None], -speed], 1)

    def forward(self, x):
        end = self.ode(torch.cat([x, x.new_zeros(x.shape[0], 2)], 1), torch.tensor(self.t_span, dtype=x.dtype))[-1]
        sign = 1.0 if self.t_span[0] > self.t_span[1] else -1.0  # integrals read the same way either way
        return end[:, :-2], sign * end[:, -2], sign * end[:, -1]


for _name, _settings in {"integrates_base_to_data": {"t_span": (0.0, 1.0)}, "trace_sign_flipped": {"trace_sign": -1.0},
                         "speed_not_squared": {"square": False}, "one_rk4_step": {"solver": "rk4"},
                         "time_reversed_field": {"reverse_time": True}, "detached_trace": {"detach_trace": True}}.items():
    mutant(FLOW, _name)(type(_name, (_Flow,), _settings))


@mutant(FLOW, "field_not_in_func")
class _(_Flow):
    def __init__(self, dim, hidden):
        super().__init__(dim, hidden)
        self.vector_field = self.func
        self.func = ODEFunc(dim, hidden)  # a second field, never integrated


def _log_normal(z, *, two_pi=True):
    return -0.5 * ((z.shape[1] * math.log(2 * math.pi) if two_pi else 0.0) + z.pow(2).sum(1))


@mutant(NLL, "plus_delta_logp")
def _(model, x):
    z, delta_logp, _ = model(x)
    return -(_log_normal(z) + delta_logp)


@mutant(NLL, "missing_2pi")
def _(model, x):
    z, delta_logp, _ = model(x)
    return -(_log_normal(z, two_pi=False) - delta_logp)


@mutant(NLL, "mean_over_batch")
def _(model, x):
    z, delta_logp, _ = model(x)
    return -(_log_normal(z) - delta_logp).mean()


@mutant(NLL, "density_of_x_not_z")
def _(model, x):
    _, delta_logp, _ = model(x)
    return -(_log_normal(x) - delta_logp)


@mutant(NLL, "not_negated")
def _(model, x):
    z, delta_logp, _ = model(x)
    return _log_normal(z) - delta_logp


@mutant(NLL, "kinetic_added")
def _(model, x):
    z, delta_logp, kinetic = model(x)
    return -(_log_normal(z) - delta_logp) + kinetic


@mutant(KIN, "returns_delta_logp")
def _(model, x):
    return model(x)[1]


@mutant(KIN, "square_root")
def _(model, x):
    return model(x)[2].sqrt()


@mutant(KIN, "half")
def _(model, x):
    return 0.5 * model(x)[2]


@mutant(KIN, "mean_over_batch")
def _(model, x):
    return model(x)[2].mean()


@mutant(KIN, "norm_of_z")
def _(model, x):
    return model(x)[0].pow(2).sum(1)


@mutant(KIN, "detached")
def _(model, x):
    return model(x)[2].detach()
