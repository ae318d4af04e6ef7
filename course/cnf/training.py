"""The handout's CNF on the embryoid-body cells, trained with the implementation's trace and losses.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: the
weights of each trained vector field and its loss curve. The vector field and the flow are the
grader's own (:class:`Field`, :class:`GraderCNF`: the handout's architecture, with torchdyn's
``NeuralODE`` integrating from the data at t = 1 to the base at t = 0 in fixed midpoint steps:
an adaptive solver on a field that a wrong loss blows up takes ever smaller steps and holds
ever more graph, where a fixed grid costs the same at every step); the implementation's
``trace_df_dx`` gives the divergence inside the flow, its ``cnf_nll`` and ``kinetic_energy``
the loss. Every metric is computed on the trusted side (``course/cnf/heavy.py``), which
integrates the returned field with its own solver.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from grader.scenarios import Resolve


class Field(nn.Module):
    """f(t, x) = W3 tanh(W2 tanh(W1 [x, t] + b1) + b2) + b3, the handout's vector field.

    Grader-owned so that the trusted side can rebuild it from the returned weights.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, dim))

    def forward(self, t: Any, x: torch.Tensor, args: Any = None) -> torch.Tensor:
        time = torch.as_tensor(t, dtype=x.dtype, device=x.device).reshape(1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, time], dim=1))


class GraderCNF(nn.Module):
    """[x, ∫Tr, ∫‖f‖²] integrated from t = 1 to t = 0, the divergence from ``trace``.

    ``forward(x)`` returns ``(z, delta_logp, kinetic)`` as the API's ``CNF`` does, which is what
    the implementation's ``cnf_nll`` and ``kinetic_energy`` take.
    """

    def __init__(self, dim: int, hidden: int, trace: Any, steps: int):
        super().__init__()
        self.func, self.trace, self.steps = Field(dim, hidden), trace, steps
        self._last: tuple[torch.Tensor, tuple] | None = None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self._last is not None and self._last[0] is x:  # nll and kinetic energy of one batch: one solve
            return self._last[1]
        from torchdyn.core import (
            NeuralODE,  # the ``cells`` extra; imported here, it takes seconds
        )

        def dynamics(t: Any, state: torch.Tensor, args: Any = None) -> torch.Tensor:
            y = state[:, :-2]
            with torch.enable_grad():
                y = y if y.requires_grad else y.detach().requires_grad_(True)
                dy = self.func(t, y)
                trace = self.trace(self.func, t, y)
            # integrating from t = 1 down to 0, the last two components end at +∫₀¹
            return torch.cat([dy, -trace.reshape(-1, 1), -dy.pow(2).sum(dim=1, keepdim=True)], dim=1)

        ode = NeuralODE(dynamics, solver="midpoint", sensitivity="autograd", return_t_eval=False,
                        optimizable_params=self.func.parameters())
        state = torch.cat([x, x.new_zeros(x.shape[0], 2)], dim=1)
        end = ode(state, torch.linspace(1.0, 0.0, self.steps + 1, dtype=x.dtype, device=x.device))[-1]
        self._last = (x, (end[:, :-2], end[:, -2], end[:, -1]))
        return self._last[1]


def train_cnf(resolve: Resolve, target: str, train: torch.Tensor, energy_weights: list[float], hidden: int,
              iterations: int, batch_size: int, lr: float, steps: int, seed: int,
              device: str) -> dict[str, Any]:
    """One flow per energy weight λ: Adam on the batch mean of nll + λ · kinetic energy.

    ``nll`` is the implementation's ``cnf_nll``, ``kinetic`` its ``kinetic_energy``, both of the
    grader's flow whose divergence is the implementation's ``trace_df_dx``. ``train`` holds the
    training cells ``(N, D)``. Returns ``{"fields": [weights per λ], "losses": [curve per λ]}``.
    """
    nll, kinetic, trace = resolve("cnf.cnf_nll"), resolve("cnf.kinetic_energy"), resolve("cnf.trace_df_dx")
    data = train.to(device)
    fields, curves = [], []
    for weight in energy_weights:
        torch.manual_seed(seed)
        order = torch.Generator().manual_seed(seed)
        model = GraderCNF(data.shape[1], hidden, trace, steps).to(device)
        optimizer = torch.optim.Adam(model.func.parameters(), lr=lr)
        losses = torch.empty(iterations)
        for step in range(iterations):
            x = data[torch.randint(len(data), (batch_size,), generator=order).to(device)]
            loss = nll(model, x).mean()
            if weight:
                loss = loss + weight * kinetic(model, x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()
        fields.append({k: v.detach().cpu() for k, v in model.func.state_dict().items()})
        curves.append(losses)
    return {"fields": fields, "losses": curves}
