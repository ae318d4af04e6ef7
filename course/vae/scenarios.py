"""Grader-owned code for the vae checks, run next to the implementation."""
from __future__ import annotations


import torch

from grader.scenarios import Resolve


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
