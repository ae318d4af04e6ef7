"""Grader-owned code that runs next to the implementation, for higher-order checks.

A scenario receives ``resolve`` (target name -> the implementation's callable) and plain
inputs, and returns plain data only: outputs, gradients, weights. It never decides anything;
every comparison happens on the trusted side. Once a submission is imported beside it, a
scenario is as untrusted as the submission.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

Resolve = Callable[[str], Callable[..., Any]]


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
    resolve: Resolve, target: str, state: dict[str, torch.Tensor], dims: list[int], x: torch.Tensor, K: int
) -> torch.Tensor:
    """Run ``importance_weighted_log_likelihood`` on the provided VAE loaded with ``state``.

    The model class comes from the grader's own copy of the provided code (``stubs.vae``), never
    from the submission.
    """
    from stubs.vae import VAE

    latent_dim, data_dim, hidden = dims
    model = VAE(latent_dim=latent_dim, data_dim=data_dim, hidden=hidden).to(x.dtype)
    model.load_state_dict(state)
    with torch.no_grad():
        return resolve(target)(model, x, K=K)


SCENARIOS: dict[str, Callable[..., Any]] = {
    "grad_of_weighted_sum": grad_of_weighted_sum,
    "vae_importance_sampling": vae_importance_sampling,
}
