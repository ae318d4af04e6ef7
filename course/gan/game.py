"""Trusted-side arithmetic for the gan.py checks: tiny critics and generators, by hand.

The critic of the scenarios is C(x) = f.a + 0.5 (f * f).s + c on flattened samples f (linear
without ``s``), so its input gradient a + s * f is known in closed form; penalties below use
that closed form and torch autograd only for derivatives w.r.t. the parameters. The training
step is replayed here as a plain loop of SGD updates with momentum: no part of the implementation under test
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


def _fake(noise: torch.Tensor, theta: dict[str, torch.Tensor]) -> torch.Tensor:
    """z W (+ b): the Dirac game's generator has no bias."""
    out = noise @ theta["weight"]
    return out + theta["bias"] if "bias" in theta else out


def train_trajectory(config: dict[str, Any], critic0, generator0, test0, real, noises, lr, steps, momentum=0.0,
                     generator_batch_first: bool = False) -> dict[str, list]:
    """The reference trajectory of ``make_train_step``, replayed as SGD updates with momentum.

    ``generator_batch_first`` replays code that draws the generator step's real batch before
    the critic's: batches are i.i.d., so both orders are correct.
    """
    iters, ema = config.get("critic_inner_iters", 1), config.get("alpha_ema")
    loss_type, reg_type, reg_cf = config["loss_type"], config.get("reg_type"), config.get("reg_cf", 1.0)
    psi, theta = with_grads(critic0), with_grads(generator0)
    velocity = {"critic": {n: torch.zeros_like(v) for n, v in psi.items()},
                "generator": {n: torch.zeros_like(v) for n, v in theta.items()}}
    average = {k: v.clone() for k, v in test0.items()}

    def sgd(params, step, which, rate):
        for n in params:  # torch.optim.SGD's momentum: v <- m v + g; x <- x - lr v
            velocity[which][n] = momentum * velocity[which][n] + step[n]
        return with_grads({n: params[n] - rate * velocity[which][n] for n in params})

    r = k = 0
    out: dict[str, list] = {"returned": [], "critic": [], "generator": [], "test_generator": []}
    for _ in range(steps):
        order = [r + i for i in range(iters + 1)]
        if generator_batch_first:
            order = order[1:] + order[:1]
        for i in range(iters):  # 1) critic steps: fresh real batch, fresh fake without gradient
            p, q = real[order[i] % len(real)], _fake(noises[k % len(noises)], theta).detach()
            k += 1
            psi = sgd(psi, grads(critic_loss(loss_type, reg_type, reg_cf, psi, p, q), psi), "critic", lr[0])
        p, q = real[order[-1] % len(real)], _fake(noises[k % len(noises)], theta)
        r, k = r + iters + 1, k + 1
        metric = divergence(loss_type, critic(psi, p), critic(psi, q))  # 2) the generator's step
        theta = sgd(theta, grads(metric, theta), "generator", lr[1])
        if ema is not None:  # 3) EMA into the test generator
            average = {n: ema * average[n] + (1 - ema) * theta[n].detach() for n in average}
        out["returned"].append(metric.detach())
        out["critic"].append({n: v.detach() for n, v in psi.items()})
        out["generator"].append({n: v.detach() for n, v in theta.items()})
        out["test_generator"].append(dict(average))
    return out
