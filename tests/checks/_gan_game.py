"""Trusted-side arithmetic for the gan.py checks: tiny critics and generators, by hand.

The critic of the scenarios is C(x) = f.a + 0.5 (f * f).s + c on flattened samples f (linear
without ``s``), so its input gradient a + s * f is known in closed form; penalties below use
that closed form and torch autograd only for derivatives w.r.t. the parameters. The training
step is replayed here as a plain loop of SGD updates: no part of the implementation under test
(or of our solution) is involved.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

F64 = torch.float64


def rand(seed: int, *shape: int, scale: float = 1.0, dtype: torch.dtype = F64) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64).to(dtype)


def critic_params(seed: int, dim: int, *, linear: bool = False, dtype: torch.dtype = F64) -> dict[str, torch.Tensor]:
    params = {"a": rand(seed, dim, dtype=dtype), "c": rand(seed + 1, (), dtype=dtype)}
    if not linear:
        params["s"] = rand(seed + 2, dim, dtype=dtype)
    return params


def critic(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    f = x.reshape(x.shape[0], -1)
    out = f @ params["a"] + params["c"]
    return out + 0.5 * f.pow(2) @ params["s"] if "s" in params else out  # (N,)


def input_gradient(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    f = x.reshape(x.shape[0], -1)
    return params["a"] + params["s"] * f if "s" in params else params["a"].expand_as(f)  # (N, D)


def divergence(loss_type: str, cp: torch.Tensor, cq: torch.Tensor) -> torch.Tensor:
    if loss_type == "JSD":
        return math.log(2) + 0.5 * F.logsigmoid(cp).mean() + 0.5 * F.logsigmoid(-cq).mean()
    return cp.mean() - cq.mean()


def penalty(reg_type: str | None, params: dict[str, torch.Tensor], p: torch.Tensor) -> torch.Tensor:
    """R1 in closed form; GP only for a linear critic, where it does not depend on eps."""
    if reg_type is None:
        return torch.zeros((), dtype=p.dtype)
    if reg_type == "R1":
        return input_gradient(params, p).pow(2).sum(1).mean()
    assert "s" not in params, "GP is known in closed form only for a linear critic"
    return (params["a"].norm() - 1) ** 2


def critic_loss(loss_type, reg_type, reg_cf, params, p, q) -> torch.Tensor:
    return -divergence(loss_type, critic(params, p), critic(params, q)) + reg_cf * penalty(reg_type, params, p)


def with_grads(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}


def grads(value: torch.Tensor, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    found = torch.autograd.grad(value, list(params.values()), allow_unused=True)
    return {k: (torch.zeros_like(v) if g is None else g) for (k, v), g in zip(params.items(), found)}


def train_trajectory(config: dict[str, Any], critic0, generator0, test0, real, noises, lr, steps) -> dict[str, list]:
    """The reference trajectory of ``make_train_step``, replayed as plain SGD updates."""
    iters, ema = config.get("critic_inner_iters", 1), config.get("alpha_ema")
    loss_type, reg_type, reg_cf = config["loss_type"], config.get("reg_type"), config.get("reg_cf", 1.0)
    psi, theta = with_grads(critic0), with_grads(generator0)
    average = {k: v.clone() for k, v in test0.items()}
    r = k = 0
    out: dict[str, list] = {"returned": [], "critic": [], "generator": [], "test_generator": []}
    for _ in range(steps):
        for _ in range(iters):  # 1) critic steps: fresh real batch, fresh fake without gradient
            p, q = real[r % len(real)], (noises[k % len(noises)] @ theta["weight"] + theta["bias"]).detach()
            r, k = r + 1, k + 1
            step = grads(critic_loss(loss_type, reg_type, reg_cf, psi, p, q), psi)
            psi = with_grads({n: psi[n] - lr[0] * step[n] for n in psi})
        p, q = real[r % len(real)], noises[k % len(noises)] @ theta["weight"] + theta["bias"]
        r, k = r + 1, k + 1
        metric = divergence(loss_type, critic(psi, p), critic(psi, q))  # 2) the generator's step
        step = grads(metric, theta)
        theta = with_grads({n: theta[n] - lr[1] * step[n] for n in theta})
        if ema is not None:  # 3) EMA into the test generator
            average = {n: ema * average[n] + (1 - ema) * theta[n].detach() for n in average}
        out["returned"].append(metric.detach())
        out["critic"].append({n: v.detach() for n, v in psi.items()})
        out["generator"].append({n: v.detach() for n, v in theta.items()})
        out["test_generator"].append(dict(average))
    return out
