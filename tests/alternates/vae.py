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


# -- more styles: functional losses, torch.special, float64 internals, loops, other defaults ------

_LOG_2PI = torch.tensor(math.log(2 * math.pi))  # a float32 0-d tensor; promotes into float64 maths


@alternate("vae.log_likelihood_bernoulli", "bce_reduction_none")
def _(mu, target):
    return -F.binary_cross_entropy(torch.flatten(mu, 1), torch.flatten(target, 1), reduction="none").sum(dim=1)


@alternate("vae.log_likelihood_bernoulli", "special_xlogy_clamped")
def _(mu, target):
    mu = mu.reshape(mu.shape[0], -1).clamp(1e-7, 1 - 1e-7)
    target = target.reshape(target.shape[0], -1)
    return (torch.special.xlogy(target, mu) + torch.special.xlog1py(1 - target, -mu)).sum(-1)


@alternate("vae.log_likelihood_bernoulli", "float64_inside")
def _(mu, target):
    m, t = mu.double().view(mu.shape[0], -1), target.double().view(target.shape[0], -1)
    return (t * m.log() + (1 - t) * (1 - m).log()).sum(1).to(mu.dtype)


@alternate("vae.log_likelihood_normal", "gaussian_nll_loss_full")
def _(mu, logvar, z):
    mu, logvar, z = _flat(mu), _flat(logvar), _flat(z)
    return -F.gaussian_nll_loss(mu, z, logvar.exp(), full=True, reduction="none").sum(dim=1)


@alternate("vae.log_likelihood_normal", "float32_log2pi_constant")
def _(mu, logvar, z):
    mu, logvar, z = _flat(mu), _flat(logvar), _flat(z)
    return -0.5 * torch.sum(_LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp(), dim=1)


@alternate("vae.log_likelihood_normal", "independent_normal")
def _(mu, logvar, z):
    from torch.distributions import Independent

    return Independent(Normal(_flat(mu), _flat(logvar).mul(0.5).exp()), 1).log_prob(_flat(z))


@alternate("vae.log_mean_exp", "explicit_shift_loop")
def _(y):
    out = []
    for row in y:  # one example at a time
        a = row.max()
        out.append(a + torch.log(torch.mean(torch.exp(row - a))))
    return torch.stack(out)


@alternate("vae.log_mean_exp", "scipy_roundtrip")
def _(y):
    from scipy.special import logsumexp

    values = logsumexp(y.detach().cpu().numpy().astype("float64"), axis=1) - math.log(y.shape[1])
    return torch.as_tensor(values, dtype=y.dtype, device=y.device)


@alternate("vae.log_mean_exp", "float64_inside")
def _(y):
    return (torch.logsumexp(y.double(), dim=1) - math.log(y.size(1))).to(y.dtype)


@alternate("vae.kl_gaussian_gaussian_analytic", "distributions_kl")
def _(mu_q, logvar_q, mu_p, logvar_p):
    from torch.distributions import kl_divergence

    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    mu_p, logvar_p = torch.as_tensor(mu_p), torch.as_tensor(logvar_p)  # numbers become float32 0-d tensors
    if mu_p.dim() > 1:
        mu_p, logvar_p = _flat(mu_p), _flat(logvar_p)
    q = Normal(mu_q, torch.exp(0.5 * logvar_q))
    p = Normal(mu_p.to(mu_q), torch.exp(0.5 * logvar_p.to(mu_q)))
    return kl_divergence(q, p).sum(dim=1)


@alternate("vae.kl_gaussian_gaussian_analytic", "variance_ratio_einsum")
def _(mu_q, logvar_q, mu_p, logvar_p):
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    mu_p, logvar_p = (torch.as_tensor(t, dtype=mu_q.dtype, device=mu_q.device) for t in (mu_p, logvar_p))
    mu_p, logvar_p = (t.view(t.shape[0], -1) if t.dim() > 1 else t for t in (mu_p, logvar_p))
    ratio = torch.exp(logvar_q - logvar_p)  # var_q / var_p
    terms = ratio + (mu_p - mu_q) ** 2 * torch.exp(-logvar_p) - 1 - torch.log(ratio)
    return 0.5 * torch.einsum("bd->b", terms)


@alternate("vae.kl_gaussian_gaussian_analytic", "float64_inside")
def _(mu_q, logvar_q, mu_p, logvar_p):
    dtype = mu_q.dtype
    B = mu_q.shape[0]
    mq, lq = mu_q.double().reshape(B, -1), logvar_q.double().reshape(B, -1)
    mp, lp = (torch.as_tensor(t, device=mu_q.device).double() for t in (mu_p, logvar_p))
    mp, lp = (t.reshape(B, -1) if t.dim() > 1 else t for t in (mp, lp))
    kl = 0.5 * (lp - lq + (lq.exp() + (mq - mp) ** 2) / lp.exp() - 1).sum(1)
    return kl.to(dtype)


def _log_normal(mu, logvar, z):
    """Hand-written log N(z; mu, exp(logvar)) per element, with the 2 pi constant."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar))


@alternate("vae.kl_gaussian_gaussian_mc", "loop_over_samples")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype, device=mu_q.device)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype, device=mu_q.device)
    mu_p, logvar_p = (t.reshape(mu_q.shape) if t.dim() > 1 else t for t in (mu_p, logvar_p))
    total = torch.zeros(mu_q.shape[0], dtype=mu_q.dtype, device=mu_q.device)
    for _ in range(num_samples):
        z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn_like(mu_q)
        total += (_log_normal(mu_q, logvar_q, z) - _log_normal(mu_p, logvar_p, z)).sum(dim=1)
    return total / num_samples


@alternate("vae.kl_gaussian_gaussian_mc", "vectorised_default_ten_samples")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=10):
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype, device=mu_q.device).expand_as(mu_q)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype, device=mu_q.device).expand_as(mu_q)
    B, D = mu_q.shape
    eps = torch.randn(B, num_samples, D, dtype=mu_q.dtype, device=mu_q.device)
    z = mu_q[:, None] + torch.exp(0.5 * logvar_q)[:, None] * eps  # (B, S, D)
    log_ratio = _log_normal(mu_q[:, None], logvar_q[:, None], z) - _log_normal(mu_p[:, None], logvar_p[:, None], z)
    return log_ratio.sum(-1).mean(-1)


@alternate("vae.kl_gaussian_gaussian_mc", "float32_log2pi_constant")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    mu_p, logvar_p = (torch.as_tensor(t).to(mu_q).expand_as(mu_q) for t in (mu_p, logvar_p))

    def log_density(mu, logvar, z):
        return -0.5 * (_LOG_2PI + logvar + (z - mu) ** 2 / logvar.exp()).sum(-1)

    std = logvar_q.mul(0.5).exp()
    z = mu_q + std * torch.randn((num_samples, *mu_q.shape), dtype=mu_q.dtype, device=mu_q.device)  # (S, B, D)
    return (log_density(mu_q, logvar_q, z) - log_density(mu_p, logvar_p, z)).mean(0)


@alternate("vae.VAE_loss_function", "match_and_distributions_kl")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    from torch.distributions import kl_divergence

    x = torch.flatten(x, 1)
    recon_x = torch.flatten(recon_x, 1)
    match reconstruction:
        case "mse":
            rec = F.mse_loss(recon_x, x, reduction="sum")
        case "bce":
            rec = F.binary_cross_entropy(recon_x, x, reduction="sum")
        case _:
            raise ValueError(f"unknown reconstruction: {reconstruction}")
    prior = Normal(torch.zeros_like(mu), torch.ones_like(logvar))
    return rec + kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), prior).sum()


@alternate("vae.VAE_loss_function", "dict_of_losses")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    losses = {
        "mse": lambda r, t: torch.sum((r - t) ** 2),
        "bce": lambda r, t: -torch.sum(t * torch.log(r) + (1 - t) * torch.log(1 - r)),
    }
    if reconstruction not in losses:
        raise ValueError(reconstruction)
    rec = losses[reconstruction](recon_x.reshape(len(recon_x), -1), x.reshape(len(x), -1))
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return rec + kld


@alternate("vae.VAE_loss_function", "float64_inside")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    if reconstruction not in {"mse", "bce"}:
        raise ValueError(f"reconstruction must be 'mse' or 'bce', not {reconstruction!r}")
    r, t = recon_x.double().view(recon_x.size(0), -1), x.double().view(x.size(0), -1)
    if reconstruction == "mse":
        rec = (r - t).square().sum()
    else:
        rec = F.binary_cross_entropy(r, t, reduction="sum")
    kld = 0.5 * (mu.double() ** 2 + logvar.double().exp() - 1 - logvar.double()).sum()
    return (rec + kld).to(recon_x.dtype)


@alternate("vae.reparameterize", "std_inplace")
def _(mu, logvar):
    std = logvar.mul(0.5).exp_()
    eps = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device)
    return eps.mul(std).add_(mu)


@alternate("vae.reparameterize", "sqrt_variance")
def _(mu, logvar):
    return mu + torch.sqrt(torch.exp(logvar)) * torch.randn_like(logvar)


@alternate("vae.reparameterize", "empty_like_normal_")
def _(mu, logvar):
    eps = torch.empty_like(mu).normal_()
    return torch.addcmul(mu, eps, torch.exp(logvar / 2))


@alternate("vae.importance_weighted_log_likelihood", "loop_over_k_bce_logits")
def _(model, x, K=200):
    x = _flat(x)
    mu, logvar = model.encode(x)
    log_w = []
    for _ in range(K):
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        log_px_z = -F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="none").sum(1)
        log_pz = _log_normal(torch.zeros_like(z), torch.zeros_like(z), z).sum(1)
        log_qz = _log_normal(mu, logvar, z).sum(1)
        log_w.append(log_px_z + log_pz - log_qz)
    log_w = torch.stack(log_w, dim=1)  # (B, K)
    a = log_w.max(dim=1, keepdim=True).values
    return (a + torch.log(torch.exp(log_w - a).mean(dim=1, keepdim=True))).squeeze(1)


@alternate("vae.importance_weighted_log_likelihood", "batched_float32_const_default_k500")
@torch.no_grad()
def _(model, x, K=500):
    x = x.view(x.size(0), -1)
    B = x.size(0)
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(B, K, mu.size(1), dtype=mu.dtype, device=mu.device)
    z = mu.unsqueeze(1) + std.unsqueeze(1) * eps  # (B, K, L)
    probs = torch.sigmoid(model.decode(z.flatten(0, 1))).view(B, K, -1)
    x_k = x.unsqueeze(1)
    log_px_z = (x_k * torch.log(probs) + (1 - x_k) * torch.log1p(-probs)).sum(-1)
    log_pz = -0.5 * (_LOG_2PI + z**2).sum(-1)
    log_qz = -0.5 * (_LOG_2PI + logvar.unsqueeze(1) + eps**2).sum(-1)
    return torch.logsumexp(log_px_z + log_pz - log_qz, dim=1) - math.log(K)


@alternate("vae.importance_weighted_log_likelihood", "clamped_probs_distributions")
def _(model, x, K=200):
    from torch.distributions import Independent

    x = x.reshape(len(x), -1)
    mu, logvar = model.encode(x)
    q = Independent(Normal(mu, (0.5 * logvar).exp()), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    z = q.sample((K,))  # (K, B, L)
    probs = torch.sigmoid(model.decode(z.reshape(-1, mu.shape[1]))).clamp(1e-7, 1 - 1e-7)
    log_px_z = Independent(Bernoulli(probs=probs), 1).log_prob(x.repeat(K, 1)).view(K, len(x))
    log_w = log_px_z + prior.log_prob(z) - q.log_prob(z)
    return torch.logsumexp(log_w, dim=0) - math.log(K)
