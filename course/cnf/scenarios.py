"""Grader-owned vector fields and flows for the cnf checks, run next to the implementation.

- ``OWNED`` holds fields with full, time-dependent Jacobians (for ``trace_df_dx``) and linear
  flows whose pushforward of N(0, I) is Gaussian in closed form (for ``cnf_nll`` and
  ``kinetic_energy``); a check names one as ``Owned("cnf.<name>")``.
- :func:`cnf_flow` builds the submission's ``CNF`` with a linear field of the grader's in place of
  ``ODEFunc``, so that where it carries the data is known in closed form.
"""
from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import nn

from grader.scenarios import Owned, Resolve

F64 = torch.float64


def _time(t: Any, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(())


class _MLPField(nn.Module):
    """f(t, x) = tanh(x W1 + t c + b1) W2 + (1 + t) x A^T: time-dependent, nonlinear, coupled."""

    def __init__(self, dim: int, seed: int, hidden: int = 5):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        shapes = {"w1": (dim, hidden), "c": (hidden,), "b1": (hidden,), "w2": (hidden, dim), "a": (dim, dim)}
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.randn(*shape, generator=g, dtype=F64)))

    def forward(self, t: Any, x: torch.Tensor, args: Any = None) -> torch.Tensor:
        t, p = _time(t, x), {k: v.to(x.dtype) for k, v in self.named_parameters()}
        return torch.tanh(x @ p["w1"] + t * p["c"] + p["b1"]) @ p["w2"] + (1 + t) * x @ p["a"].T


class _Linear(nn.Module):
    """f(t, x) = x A^T + t b."""

    def __init__(self, A: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.A, self.b = nn.Parameter(A.clone()), nn.Parameter(b.clone())

    def forward(self, t: Any, x: torch.Tensor, args: Any = None) -> torch.Tensor:
        return x @ self.A.to(x.dtype).T + _time(t, x) * self.b.to(x.dtype)


_NODES, _WEIGHTS = (torch.from_numpy(a) for a in np.polynomial.legendre.leggauss(24))


class _GaussianFlow(nn.Module):
    """A CNF whose field is :class:`_Linear`, solved in closed form: forward(x) -> (z, int Tr, int |f|^2).

    With the augmented state [x, s, 1], ds/dt = 1, the field is linear: [x(t); t; 1] = exp(M t) [z; 0; 1].
    """

    def __init__(self, A: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.func = _Linear(A, b)

    def _propagator(self, t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        A, b = self.func.A.to(dtype), self.func.b.to(dtype)
        d = A.shape[0]
        M = torch.zeros(d + 2, d + 2, dtype=dtype)
        M[:d, :d], M[:d, d], M[d, d + 1] = A, b, 1.0
        return torch.matrix_exp(M * t.reshape(-1, 1, 1))  # (T, d + 2, d + 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        B, d = x.shape
        state = torch.cat([x, torch.ones(B, 2, dtype=x.dtype)], 1)  # [x; s = 1; 1] at t = 1
        times = (_NODES.to(x.dtype) + 1) / 2  # Gauss-Legendre on [0, 1]
        back = self._propagator(torch.cat([torch.zeros(1, dtype=x.dtype), times]) - 1, x.dtype)
        path = torch.einsum("tij,bj->tbi", back, state)  # (T, B, d + 2): the state at t = 0 and at each node
        speed = path[1:, :, :d] @ self.func.A.to(x.dtype).T + times[:, None, None] * self.func.b.to(x.dtype)
        kinetic = (_WEIGHTS.to(x.dtype)[:, None] * speed.pow(2).sum(-1)).sum(0) / 2
        trace = torch.trace(self.func.A.to(x.dtype)).expand(B)
        return path[0, :, :d], trace, kinetic


def _fixed(seed: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return 0.6 * torch.randn(d, d, generator=g, dtype=F64), torch.randn(d, generator=g, dtype=F64)


OWNED: dict[str, Callable[..., Any]] = {
    "mlp_field_2": _MLPField(2, seed=1),
    "mlp_field_3": _MLPField(3, seed=2),
    "gaussian_flow_2": _GaussianFlow(*_fixed(3, 2)),
    "gaussian_flow_3": _GaussianFlow(*_fixed(4, 3)),
}


def _seed(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def cnf_field(resolve: Resolve, target: str, dim: int, hidden: int, seed: int, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Build ``ODEFunc(dim, hidden)`` with ``seed`` and answer each call ``{"t", "x", "args"}`` with
    ``f(t, x)`` (``args`` passed only when given), the module in ``x``'s dtype. Also reports
    whether a backward pass through ``f`` reaches some parameter."""
    _seed(seed)
    field = resolve(target)(dim, hidden)
    outputs = []
    for call in calls:
        field = field.to(call["x"].dtype)
        extra = {} if call.get("args") is None else {"args": call["args"]}
        with torch.no_grad():
            outputs.append(field(call["t"], call["x"], **extra))
    field = field.float()
    field(torch.tensor(0.5), calls[0]["x"].float()).pow(2).sum().backward()
    trainable = any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in field.parameters())
    return {"outputs": outputs, "trainable": trainable}


def _exact_trace(f: Callable[..., torch.Tensor], t: Any, x: torch.Tensor) -> torch.Tensor:
    """Tr(df/dx) per sample, one backward pass per dimension, with its graph."""
    with torch.enable_grad():
        x = x if x.requires_grad else x.detach().requires_grad_(True)
        fx = f(t, x)
        return sum(torch.autograd.grad(fx[:, i].sum(), x, create_graph=True)[0][:, i] for i in range(x.shape[1]))


def cnf_flow(resolve: Resolve, target: str, A: torch.Tensor, b: torch.Tensor, x: torch.Tensor,
             weights: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Build ``CNF(dim, 8)`` with ``ODEFunc`` replaced by the linear field x A^T + t b (and
    ``trace_df_dx`` by the grader's exact one, so that only the CNF is under test); run it on
    ``x`` and backpropagate sum(weights * outputs) to A and b."""
    cls = resolve(target)
    built: list[nn.Module] = []

    class ODEFunc(_Linear):
        def __init__(self, dim: int, hidden: int):
            super().__init__(A, b)
            built.append(self)

    module = sys.modules.get(getattr(cls, "__module__", ""), None)
    patches = [mock.patch.object(module, "ODEFunc", ODEFunc, create=True),
               mock.patch.object(module, "trace_df_dx", _exact_trace, create=True)] if module is not None else []
    for patch in patches:
        patch.start()
    try:
        _seed(0)
        model = cls(A.shape[0], 8).to(x.dtype)
        z, delta_logp, kinetic = model(x)
    finally:
        for patch in patches:
            patch.stop()
    out = {"z": z, "delta_logp": delta_logp, "kinetic": kinetic, "built": len(built),
           "func_is_built": bool(built) and getattr(model, "func", None) is built[0], "grads": None}
    if built and all(type(v) is torch.Tensor and v.requires_grad for v in (z, delta_logp, kinetic)):
        total = sum((weights[k] * out[k]).sum() for k in ("z", "delta_logp", "kinetic"))
        grads = torch.autograd.grad(total, [built[0].A, built[0].b], allow_unused=True)
        out["grads"] = {"A": grads[0], "b": grads[1]}
    return out


def cnf_trace_grads(resolve: Resolve, target: str, field: str, t: Any, x: torch.Tensor, weight: torch.Tensor) -> dict[str, Any]:
    """``trace_df_dx`` on a grader-owned field, with ``x`` requiring grad as inside an ODE solve;
    the gradients of sum(weight * trace) with respect to the field's parameters."""
    f = Owned(field).fn
    x = x.detach().requires_grad_(True)
    trace = resolve(target)(f, t, x)
    grads = None
    if type(trace) is torch.Tensor and trace.requires_grad:
        found = torch.autograd.grad((weight * trace).sum(), list(f.parameters()), allow_unused=True)
        grads = {name: None if g is None else g.detach() for (name, _), g in zip(f.named_parameters(), found)}
    return {"trace": trace, "grads": grads}
