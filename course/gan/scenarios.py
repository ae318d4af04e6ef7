"""Critics with known input gradients, EMA and a counted training step, run next to the implementation."""
from __future__ import annotations

from typing import Any

import torch

from grader.scenarios import SGD, Resolve, parameters_of


class _Critic(torch.nn.Module):
    """C(x) = f.a + 0.5 (f * f).s + c on flattened samples f; without ``s`` it is linear.

    Its input gradient is a + s * f, known in closed form on the trusted side.
    """

    def __init__(self, a: torch.Tensor, c: torch.Tensor, s: torch.Tensor | None = None):
        super().__init__()
        self.a, self.c = torch.nn.Parameter(a.clone()), torch.nn.Parameter(c.clone())
        self.s = None if s is None else torch.nn.Parameter(s.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = x.reshape(x.shape[0], -1)
        out = f @ self.a + self.c
        return out if self.s is None else out + 0.5 * f.pow(2) @ self.s  # (N,)


def _grads(value: Any, params: dict[str, torch.Tensor]) -> dict[str, Any]:
    """d value / d params (``None`` where nothing arrives, or when value carries no graph)."""
    if type(value) is not torch.Tensor or not value.requires_grad or value.numel() != 1:
        return {name: None for name in params}
    found = torch.autograd.grad(value.sum(), list(params.values()), allow_unused=True)
    return {name: (g.detach() if g is not None else None) for name, g in zip(params, found)}


def gan_penalty(
    resolve: Resolve, target: str, p: torch.Tensor, q: torch.Tensor, critic: dict[str, torch.Tensor], seed: int
) -> dict[str, Any]:
    """Call ``r1gp``/``ogp`` with a :class:`_Critic`; return the penalty and its parameter gradients."""
    model = _Critic(**critic)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        value = resolve(target)(p, model(p), q, model(q), model)
    return {"value": value, "grads": _grads(value, dict(model.named_parameters()))}


def gan_losses(
    resolve: Resolve, target: str, loss_type: str, reg_type: str | None, reg_cf: float,
    p: torch.Tensor, q: torch.Tensor, critic: dict[str, torch.Tensor], seed: int,
    generator: dict[str, torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Build ``make_losses(...)``; return metric, critic_loss and critic_loss's parameter gradients.

    With ``generator`` (``weight``, ``bias``), ``q`` is noise and the metric is also taken as in
    the generator's step, on fakes ``q @ weight + bias`` that carry a graph to those parameters.
    """
    model = _Critic(**critic)
    metric, critic_loss = resolve(target)(loss_type, reg_type, reg_cf)
    if generator is not None:
        params = {name: torch.nn.Parameter(t.clone()) for name, t in generator.items()}
        value = metric(p, q @ params["weight"] + params["bias"], model)
        return {"generator_metric": value, "generator_grads": _grads(value, params)}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        loss = critic_loss(p, q, model)
    return {"metric": metric(p, q, model), "critic_loss": loss, "grads": _grads(loss, dict(model.named_parameters()))}


class _Pair(torch.nn.Module):
    """Two same-shaped parameters registered in a chosen order, plus a buffer."""

    def __init__(self, params: dict[str, torch.Tensor], order: list[str]):
        super().__init__()
        for name in order:
            self.register_parameter(name, torch.nn.Parameter(params[name].clone()))
        self.register_buffer("scale", torch.ones(1, dtype=params[order[0]].dtype))


def gan_ema(
    resolve: Resolve, target: str, source: dict[str, torch.Tensor], average: dict[str, torch.Tensor], alpha: float,
    reorder: bool,
) -> dict[str, Any]:
    """EMA from a source model into one of the same layout (the handout's deep copy) or, with
    ``reorder``, into one registering the same names in the reverse order."""
    src = _Pair(source, sorted(source))
    avg = _Pair(average, sorted(average, reverse=reorder))
    src.scale.fill_(3.0)
    before = dict(avg.named_parameters())
    resolve(target)(src, avg, alpha)
    return {
        "average": {name: t.detach() for name, t in before.items()},  # the tensors we held
        "in_place": all(getattr(avg, name) is t for name, t in before.items()),
        "history_free": all(t.grad_fn is None and t.requires_grad and t.grad is None for t in avg.parameters()),
        "source": {name: t.detach() for name, t in src.named_parameters()},
        "buffer": avg.scale,
    }


class _Generator(torch.nn.Module):
    """generator() = z_k W + bias for the k-th noise batch; records calls and where grads arrive."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, noises: list[torch.Tensor]):
        super().__init__()
        self.weight = torch.nn.Parameter(weight.clone())
        self.bias = None if bias is None else torch.nn.Parameter(bias.clone())  # the Dirac game has none
        self.noises, self.calls, self.grad_reached = noises, 0, []

    def forward(self) -> torch.Tensor:
        out = self.noises[self.calls % len(self.noises)] @ self.weight  # (N, D)
        out = out if self.bias is None else out + self.bias
        if out.requires_grad:
            out.register_hook(lambda g, k=self.calls: self.grad_reached.append(k))
        self.calls += 1
        return out


class _Batches:
    """An endless iterator over distinct real batches that counts its draws."""

    def __init__(self, batches: list[torch.Tensor]):
        self.batches, self.drawn = batches, 0

    def __iter__(self) -> "_Batches":
        return self

    def __next__(self) -> torch.Tensor:
        self.drawn += 1
        return self.batches[(self.drawn - 1) % len(self.batches)].clone()


def gan_train_step(
    resolve: Resolve, target: str, config: dict[str, Any], critic: dict[str, torch.Tensor],
    generator: dict[str, torch.Tensor], test_generator: dict[str, torch.Tensor],
    real: list[torch.Tensor], noises: list[torch.Tensor], lr: list[float], momentum: float, steps: int, seed: int,
) -> dict[str, Any]:
    """Run ``steps`` train steps on tiny models with SGD and momentum; record everything observable."""
    model = _Critic(**critic)
    gen = _Generator(generator["weight"], generator["bias"], noises)
    test_gen = _Generator(test_generator["weight"], test_generator["bias"], noises)
    data = _Batches(real)
    critic_optim, generator_optim = SGD(model.parameters(), lr[0], momentum), SGD(gen.parameters(), lr[1], momentum)
    train_step = resolve(target)(**config)
    out: dict[str, list] = {"returned": [], "critic": [], "generator": [], "test_generator": [],
                            "drawn": [], "calls": [], "grad_reached": []}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for _ in range(steps):
            value = train_step(data, model, critic_optim, gen, test_gen, generator_optim)
            out["returned"].append(value.detach() if type(value) is torch.Tensor else value)
            for key, module in (("critic", model), ("generator", gen), ("test_generator", test_gen)):
                out[key].append(parameters_of(module))
            out["drawn"].append(data.drawn)
            out["calls"].append(gen.calls)
    out["grad_reached"] = list(gen.grad_reached)
    return out
