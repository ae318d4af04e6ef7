"""Correct vae.py functions in other styles: torch.distributions, logsumexp, loops."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal

from tests.alternates import alternate


def _flat(x):
    return x.flatten(start_dim=1)


@alternate("vae.log_likelihood_bernoulli", "distributions")
def _(mu, target):
    return Bernoulli(probs=_flat(mu)).log_prob(_flat(target)).sum(-1)


@alternate("vae.log_likelihood_normal", "distributions")
def _(mu, logvar, z):
    return Normal(_flat(mu), torch.exp(0.5 * _flat(logvar))).log_prob(_flat(z)).sum(-1)


@alternate("vae.log_mean_exp", "logsumexp")
def _(y):
    return torch.logsumexp(y, dim=-1) - math.log(y.shape[-1])


@alternate("vae.kl_gaussian_gaussian_analytic", "std_form")
def _(mu_q, logvar_q, mu_p, logvar_p):
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    mu_p, logvar_p = (torch.as_tensor(t, dtype=mu_q.dtype) for t in (mu_p, logvar_p))
    s_q, s_p = torch.exp(0.5 * logvar_q), torch.exp(0.5 * logvar_p)
    return (torch.log(s_p / s_q) + (s_q**2 + (mu_q - mu_p) ** 2) / (2 * s_p**2) - 0.5).sum(-1)


@alternate("vae.kl_gaussian_gaussian_mc", "distributions_rsample")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    q = Normal(mu_q, torch.exp(0.5 * logvar_q))
    p = Normal(torch.as_tensor(mu_p, dtype=mu_q.dtype), torch.exp(0.5 * torch.as_tensor(logvar_p, dtype=mu_q.dtype)))
    z = q.rsample((num_samples,))  # (S, B, D): independent for every example and sample
    return (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)


@alternate("vae.VAE_loss_function", "functional_losses")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    x = x.view(recon_x.shape)
    if reconstruction == "mse":
        rec = F.mse_loss(recon_x, x, reduction="sum")
    elif reconstruction == "bce":
        rec = -(x * recon_x.clamp_min(1e-12).log() + (1 - x) * (1 - recon_x).clamp_min(1e-12).log()).sum()
    else:
        raise ValueError(f"unknown reconstruction {reconstruction!r}")
    return rec + 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum()


@alternate("vae.reparameterize", "distributions_rsample")
def _(mu, logvar):
    return Normal(mu, torch.exp(0.5 * logvar)).rsample()


@alternate("vae.importance_weighted_log_likelihood", "distributions")
def _(model, x, K=200):
    x = _flat(x)
    mu, logvar = model.encode(x)
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.rsample((K,))  # (K, B, L)
    logits = model.decode(z.reshape(-1, z.shape[-1])).view(K, x.shape[0], -1)
    log_w = (
        Bernoulli(logits=logits).log_prob(x.expand_as(logits)).sum(-1)
        + Normal(0.0, 1.0).log_prob(z).sum(-1)
        - q.log_prob(z).sum(-1)
    )  # (K, B)
    return torch.logsumexp(log_w, 0) - math.log(K)
