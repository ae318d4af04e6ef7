"""Grader-owned code that runs next to the implementation, for higher-order checks.

A scenario receives ``resolve`` (target name -> the implementation's callable) and plain
inputs, and returns plain data only: outputs, gradients, weights. It never decides anything;
every comparison happens on the trusted side. Once a submission is imported beside it, a
scenario is as untrusted as the submission.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

Resolve = Callable[[str], Callable[..., Any]]


# -- grader-owned callables passed as arguments ------------------------------------------------


def _rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(-1, 1) if a.ndim == 1 else a.reshape(a.shape[0], -1)


def _squared_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    A, B = _rows(A), _rows(B)
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)


OWNED: dict[str, Callable[..., Any]] = {
    "gaussian_kernel": lambda A, B: np.exp(-_squared_distances(A, B) / 2),  # the handout's, sigma = 1
    "narrow_gaussian_kernel": lambda A, B: np.exp(-_squared_distances(A, B) / (2 * 0.5**2)),
    "laplacian_kernel": lambda A, B: np.exp(-np.sqrt(_squared_distances(A, B))),
}


@dataclass(frozen=True)
class Owned:
    """An argument that is a grader-owned callable, named in :data:`OWNED`.

    Callables do not cross the wire: a check that passes one calls its target through the
    ``call_with`` scenario, which looks the name up next to the implementation.
    """

    name: str

    def __post_init__(self) -> None:
        if self.name not in OWNED:
            raise KeyError(f"no grader-owned callable {self.name!r}; known: {', '.join(OWNED)}")

    @property
    def fn(self) -> Callable[..., Any]:
        return OWNED[self.name]

    def __repr__(self) -> str:
        return self.name


def call_with(resolve: Resolve, target: str, kwargs: dict[str, Any], functions: dict[str, str]) -> Any:
    """``target(**kwargs)`` with the grader-owned callables named in ``functions`` added."""
    return resolve(target)(**kwargs, **{param: OWNED[name] for param, name in functions.items()})


def grad_of_weighted_sum(
    resolve: Resolve, target: str, kwargs: dict[str, Any], wrt: list[str], weight: torch.Tensor
) -> dict[str, Any]:
    """Call ``target`` and backpropagate sum(weight * output) to the inputs named in ``wrt``.

    Returns the output and one gradient per name (``None`` where no gradient arrived).
    """
    for name in wrt:
        kwargs[name] = kwargs[name].detach().requires_grad_(True)
    out = resolve(target)(**kwargs)
    grads: dict[str, Any] = {name: None for name in wrt}
    if type(out) is torch.Tensor and out.requires_grad and out.shape == weight.shape:
        inputs = [kwargs[name] for name in wrt]
        found = torch.autograd.grad((weight * out).sum(), inputs, allow_unused=True)
        grads = {name: (g.detach() if g is not None else None) for name, g in zip(wrt, found)}
    return {"output": out.detach() if type(out) is torch.Tensor else out, "grads": grads}


def vae_importance_sampling(
    resolve: Resolve, target: str, state: dict[str, torch.Tensor], dims: list[int], x: torch.Tensor, K: int | None
) -> torch.Tensor:
    """Run ``importance_weighted_log_likelihood`` on the provided VAE loaded with ``state``.

    ``K=None`` leaves ``K`` out of the call, for the function's own default.

    The model class comes from the grader's own copy of the provided code (``stubs.vae``), never
    from the submission.
    """
    from stubs.vae import VAE

    latent_dim, data_dim, hidden = dims
    model = VAE(latent_dim=latent_dim, data_dim=data_dim, hidden=hidden).to(x.dtype)
    model.load_state_dict(state)
    with torch.no_grad():
        return resolve(target)(model, x) if K is None else resolve(target)(model, x, K=K)





# -- gan.py: critics with known input gradients, EMA, the training step ------------------------


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

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, noises: list[torch.Tensor]):
        super().__init__()
        self.weight, self.bias = torch.nn.Parameter(weight.clone()), torch.nn.Parameter(bias.clone())
        self.noises, self.calls, self.grad_reached = noises, 0, []

    def forward(self) -> torch.Tensor:
        out = self.noises[self.calls % len(self.noises)] @ self.weight + self.bias  # (N, D)
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


class _SGD:
    """SGD with momentum and an optimizer's interface (``zero_grad``, ``step``, ``param_groups``).

    Used instead of ``torch.optim.SGD``, whose first construction imports torch._dynamo (seconds).
    Like it, the momentum buffer is state that a second optimizer or a skipped step would show.
    """

    def __init__(self, params: Any, lr: float, momentum: float = 0.0):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.momentum, self.velocity = momentum, {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for t in self.param_groups[0]["params"]:
            if set_to_none:
                t.grad = None
            elif t.grad is not None:
                t.grad.detach_().zero_()

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:
        for i, t in enumerate(self.param_groups[0]["params"]):
            if t.grad is not None:
                velocity = self.momentum * self.velocity.get(i, torch.zeros_like(t)) + t.grad
                self.velocity[i] = velocity
                t.add_(velocity, alpha=-self.param_groups[0]["lr"])


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: t.detach().clone() for name, t in module.named_parameters()}


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
    critic_optim, generator_optim = _SGD(model.parameters(), lr[0], momentum), _SGD(gen.parameters(), lr[1], momentum)
    train_step = resolve(target)(**config)
    out: dict[str, list] = {"returned": [], "critic": [], "generator": [], "test_generator": [],
                            "drawn": [], "calls": [], "grad_reached": []}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for _ in range(steps):
            value = train_step(data, model, critic_optim, gen, test_gen, generator_optim)
            out["returned"].append(value.detach() if type(value) is torch.Tensor else value)
            for key, module in (("critic", model), ("generator", gen), ("test_generator", test_gen)):
                out[key].append(_state(module))
            out["drawn"].append(data.drawn)
            out["calls"].append(gen.calls)
    out["grad_reached"] = list(gen.grad_reached)
    return out


# -- cgan.py: one training step of each player -------------------------------------------------


class _Discriminator(torch.nn.Module):
    """sigmoid([x | one_hot(labels)] W^T + b) -> (B, 1); without classes it takes x only."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, num_classes: int):
        super().__init__()
        self.weight, self.bias = torch.nn.Parameter(weight.clone()), torch.nn.Parameter(bias.clone())
        self.num_classes = num_classes
        if not num_classes:
            self.forward = self._plain  # an unconditional discriminator accepts no labels

    def _plain(self, x: torch.Tensor, labels: None = None) -> torch.Tensor:  # labels=None as the handout's
        return torch.sigmoid(x.reshape(x.shape[0], -1) @ self.weight.T + self.bias)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(labels.long(), self.num_classes).to(x.dtype)
        return torch.sigmoid(torch.cat([x.reshape(x.shape[0], -1), onehot], 1) @ self.weight.T + self.bias)


def cgan_train(
    resolve: Resolve, target: str, discriminator: dict[str, torch.Tensor], generator: torch.Tensor,
    z: torch.Tensor, real: torch.Tensor, labels: torch.Tensor | None, num_classes: int, lr: float, stale: float,
) -> dict[str, Any]:
    """One ``train_discriminator`` or ``train_generator`` call; fakes are tanh(z G) with G trainable."""
    disc = _Discriminator(discriminator["weight"], discriminator["bias"], num_classes)
    gen = torch.nn.Parameter(generator.clone())
    fake = torch.tanh(z @ gen)  # carries the generator's graph
    trained = list(disc.parameters()) if target.endswith("discriminator") else [gen]
    for t in trained:
        t.grad = torch.full_like(t, stale)  # left over from an earlier step: must be zeroed
    optimizer = _SGD(trained, lr)
    args = (disc, optimizer, real, fake) if target.endswith("discriminator") else (disc, optimizer, fake)
    loss = resolve(target)(*args, labels)  # None when unconditional, as the handout passes it
    return {"loss": loss.detach() if type(loss) is torch.Tensor else loss,
            "discriminator": _state(disc), "generator": gen.detach(),
            "generator_grad": None if gen.grad is None else gen.grad.detach()}


# -- flows.py: the provided Flow with the implementation's log-determinant ----------------------


def _planar(z: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return z + u * torch.tanh(z @ w.T + b)


def flow_logdet(resolve: Resolve, target: str, layers: list[dict[str, torch.Tensor]], z: torch.Tensor) -> dict[str, Any]:
    """Run the grader's own ``Flow`` (``stubs.flows``) with the implementation's ``get_logdet``.

    The planar map itself is the grader's, so that only ``get_logdet`` is under test.
    """
    from unittest import mock

    import stubs.flows as provided

    flow = provided.Flow(z.shape[1], len(layers)).to(z.dtype)
    flow.load_state_dict({f"layers.{i}.{k}": v for i, layer in enumerate(layers) for k, v in layer.items()})
    get_logdet = resolve(target)
    # eps given explicitly: a student's own default costs the default clause only
    with mock.patch.object(provided, "planar_transformation", _planar), \
            mock.patch.object(provided, "get_logdet", lambda z, u, w, b: get_logdet(z, u, w, b, eps=1e-8)):
        output, logdet = flow(z)  # with autograd on, as in training
    return {"output": output.detach(), "logdet": logdet.detach() if type(logdet) is torch.Tensor else logdet}


SCENARIOS: dict[str, Callable[..., Any]] = {
    "call_with": call_with,
    "grad_of_weighted_sum": grad_of_weighted_sum,
    "vae_importance_sampling": vae_importance_sampling,
    "gan_penalty": gan_penalty,
    "gan_losses": gan_losses,
    "gan_ema": gan_ema,
    "gan_train_step": gan_train_step,
    "cgan_train": cgan_train,
    "flow_logdet": flow_logdet,
}
