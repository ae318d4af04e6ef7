"""A tiny VAE whose marginal likelihood is known exactly, for the importance-sampling check.

With a one-dimensional latent, log p(x) = log integral N(z; 0, 1) p(x | z) dz is computed by
quadrature on a fine grid, in NumPy, from the raw weights: no part of the implementation under
test (or of our solution) is involved.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit, logsumexp

DIMS = (1, 12, 8)  # latent L, data D, hidden H


def _elu(a: np.ndarray) -> np.ndarray:
    return np.where(a > 0, a, np.expm1(np.minimum(a, 0)))


def _mlp(state: dict[str, np.ndarray], prefix: str, a: np.ndarray) -> np.ndarray:
    for i in (0, 2, 4):  # Linear layers of the provided nn.Sequential; ELU between them
        a = a @ state[f"{prefix}.{i}.weight"].T + state[f"{prefix}.{i}.bias"]
        if i < 4:
            a = _elu(a)
    return a


def make_state(seed: int) -> dict[str, torch.Tensor]:
    """float64 weights of the provided VAE at ``DIMS``, with a sharp decoder (a narrow posterior)."""
    from stubs.vae import VAE

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = VAE(*DIMS).double()
        model.decoder[4].weight.data *= 6.0
        model.decoder[2].weight.data *= 2.0
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def sample_x(state: dict[str, torch.Tensor], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = {k: v.numpy() for k, v in state.items()}
    z = rng.standard_normal((n, DIMS[0]))
    probs = expit(_mlp(w, "decoder", z) - 5.0)
    return (rng.random(probs.shape) < probs).astype(np.float64)


def exact_log_marginal(state: dict[str, torch.Tensor], x: np.ndarray) -> np.ndarray:
    """log p(x) per row, by quadrature over z in [-12, 12]."""
    w = {k: v.numpy() for k, v in state.items()}
    z = np.linspace(-12.0, 12.0, 24001)[:, None]  # (G, 1)
    logits = _mlp(w, "decoder", z) - 5.0  # (G, D)
    log_p1, log_p0 = -np.logaddexp(0, -logits), -np.logaddexp(0, logits)
    log_px_z = x @ log_p1.T + (1 - x) @ log_p0.T  # (B, G)
    log_pz = -0.5 * (np.log(2 * np.pi) + z[:, 0] ** 2)
    return logsumexp(log_px_z + log_pz, axis=1) + np.log(z[1, 0] - z[0, 0])


def estimator_spread(state: dict[str, torch.Tensor], x: np.ndarray, K: int, repeats: int, seed: int) -> np.ndarray:
    """Standard deviation of the K-sample importance estimate per row, by simulation."""
    rng = np.random.default_rng(seed)
    w = {k: v.numpy() for k, v in state.items()}
    mu, logvar = np.split(_mlp(w, "encoder", x), 2, axis=1)  # (B, 1) each
    std = np.exp(0.5 * logvar)
    estimates = []
    for _ in range(repeats):
        z = mu[:, None, :] + std[:, None, :] * rng.standard_normal((x.shape[0], K, 1))  # (B, K, 1)
        logits = _mlp(w, "decoder", z.reshape(-1, 1)).reshape(x.shape[0], K, -1) - 5.0
        log_px_z = (x[:, None] * -np.logaddexp(0, -logits) + (1 - x[:, None]) * -np.logaddexp(0, logits)).sum(-1)
        log_pz = -0.5 * (np.log(2 * np.pi) + z[..., 0] ** 2)
        log_qz = -0.5 * (np.log(2 * np.pi) + logvar + (z[..., 0] - mu) ** 2 / std**2)
        estimates.append(logsumexp(log_px_z + log_pz - log_qz, axis=1) - np.log(K))
    return np.std(estimates, axis=0)
