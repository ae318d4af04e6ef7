"""Wrong versions of the vae.py graded functions."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course.solutions.vae import kl_gaussian_gaussian_analytic, log_likelihood_bernoulli, log_likelihood_normal, log_mean_exp
from tests.mutants import mutant

B = "vae.log_likelihood_bernoulli"
N = "vae.log_likelihood_normal"
LME = "vae.log_mean_exp"
KLA = "vae.kl_gaussian_gaussian_analytic"
KLM = "vae.kl_gaussian_gaussian_mc"
LOSS = "vae.VAE_loss_function"
REP = "vae.reparameterize"
IW = "vae.importance_weighted_log_likelihood"


def _flat(x):
    return x.reshape(x.shape[0], -1)


@mutant(B, "targets_swapped")
def _(mu, target):
    mu, t = _flat(mu), _flat(target)
    return ((1 - t) * torch.log(mu) + t * torch.log(1 - mu)).sum(1)


@mutant(B, "mean_over_dims")
def _(mu, target):
    mu, t = _flat(mu), _flat(target)
    return (t * torch.log(mu) + (1 - t) * torch.log(1 - mu)).mean(1)


@mutant(B, "sum_over_batch")
def _(mu, target):
    mu, t = _flat(mu), _flat(target)
    return (t * torch.log(mu) + (1 - t) * torch.log(1 - mu)).sum(0)


@mutant(B, "log_mu_twice")
def _(mu, target):
    mu, t = _flat(mu), _flat(target)
    return (t * torch.log(mu) + (1 - t) * torch.log(mu)).sum(1)


@mutant(N, "missing_2pi")
def _(mu, logvar, z):
    mu, logvar, z = _flat(mu), _flat(logvar), _flat(z)
    return -0.5 * (logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(1)


@mutant(N, "logvar_as_log_std")
def _(mu, logvar, z):
    mu, logvar, z = _flat(mu), _flat(logvar), _flat(z)
    return -0.5 * (math.log(2 * math.pi) + 2 * logvar + (z - mu) ** 2 * torch.exp(-2 * logvar)).sum(1)


@mutant(N, "sign_flip")
def _(mu, logvar, z):
    mu, logvar, z = _flat(mu), _flat(logvar), _flat(z)
    return 0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(1)


@mutant(N, "no_flatten")
def _(mu, logvar, z):
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(1)


@mutant(LME, "no_max_shift")
def _(y):
    return torch.log(torch.exp(y).mean(1))


@mutant(LME, "sum_not_mean")
def _(y):
    return torch.logsumexp(y, 1)


@mutant(LME, "wrong_axis")
def _(y):
    return torch.logsumexp(y, 0) - math.log(y.shape[0])


@mutant(LME, "global_max")
def _(y):
    a = y.max()
    return torch.log(torch.exp(y - a).mean(1)) + a


def _kl(mu_q, lv_q, mu_p, lv_p, *, half=0.5, minus_one=1.0, divide=True, reduce="sum"):
    mu_q, lv_q = _flat(mu_q), _flat(lv_q)
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype)
    lv_p = torch.as_tensor(lv_p, dtype=mu_q.dtype)
    spread = torch.exp(lv_q) + (mu_q - mu_p) ** 2
    ratio = spread / torch.exp(lv_p) if divide else spread * torch.exp(lv_p)
    kl = half * (lv_p - lv_q + ratio - minus_one)
    return kl.sum(1) if reduce == "sum" else kl.mean(1)


@mutant(KLA, "q_and_p_swapped")
def _(mu_q, logvar_q, mu_p, logvar_p):
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype).expand_as(mu_q)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype).expand_as(mu_q)
    return _kl(mu_p, logvar_p, mu_q, logvar_q)


@mutant(KLA, "missing_half")
def _(mu_q, logvar_q, mu_p, logvar_p):
    return _kl(mu_q, logvar_q, mu_p, logvar_p, half=1.0)


@mutant(KLA, "missing_minus_one")
def _(mu_q, logvar_q, mu_p, logvar_p):
    return _kl(mu_q, logvar_q, mu_p, logvar_p, minus_one=0.0)


@mutant(KLA, "multiplies_by_var_p")
def _(mu_q, logvar_q, mu_p, logvar_p):
    return _kl(mu_q, logvar_q, mu_p, logvar_p, divide=False)


@mutant(KLA, "mean_over_dims")
def _(mu_q, logvar_q, mu_p, logvar_p):
    return _kl(mu_q, logvar_q, mu_p, logvar_p, reduce="mean")


@mutant(KLA, "sign_flip")
def _(mu_q, logvar_q, mu_p, logvar_p):
    return -_kl(mu_q, logvar_q, mu_p, logvar_p)


def _kl_mc(mu_q, logvar_q, mu_p, logvar_p, S, *, eps_shape=None, std_scale=0.5, sign=1.0, reduce="mean", from_p=False):
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    B, D = mu_q.shape
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype).expand(B, D)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype).expand(B, D)
    eps = torch.randn(*(eps_shape or (B, S, D)), dtype=mu_q.dtype).expand(B, S, D)
    centre, logvar = (mu_p, logvar_p) if from_p else (mu_q, logvar_q)
    z = (centre.unsqueeze(1) + torch.exp(std_scale * logvar).unsqueeze(1) * eps).reshape(B * S, D)
    rep = lambda t: t.unsqueeze(1).expand(B, S, D).reshape(B * S, D)  # noqa: E731
    diff = sign * (log_likelihood_normal(rep(mu_q), rep(logvar_q), z) - log_likelihood_normal(rep(mu_p), rep(logvar_p), z))
    return diff.view(B, S).mean(1) if reduce == "mean" else diff.view(B, S).sum(1)


@mutant(KLM, "std_from_logvar_not_half")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    return _kl_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples, std_scale=1.0)


@mutant(KLM, "noise_shared_over_batch")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    return _kl_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples, eps_shape=(1, num_samples, mu_q.shape[1]))


@mutant(KLM, "noise_shared_over_samples")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    return _kl_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples, eps_shape=(mu_q.shape[0], 1, mu_q.shape[1]))


@mutant(KLM, "sign_flip")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    return _kl_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples, sign=-1.0)


@mutant(KLM, "sum_over_samples")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    return _kl_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples, reduce="sum")


@mutant(KLM, "returns_analytic")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    return kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p)


@mutant(KLM, "samples_from_p")
def _(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    return _kl_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples, from_p=True)


def _loss(recon_x, x, mu, logvar, reconstruction, *, reduction="sum", kl_sign=-0.5, kl_reduce="sum", check=True):
    if check and reconstruction not in ("mse", "bce"):
        raise ValueError(reconstruction)
    recon_x, x = _flat(recon_x), _flat(x)
    if reconstruction == "bce":
        rec = F.binary_cross_entropy(recon_x, x, reduction=reduction)
    else:
        rec = F.mse_loss(recon_x, x, reduction=reduction)
    terms = 1 + logvar - mu**2 - torch.exp(logvar)
    return rec + kl_sign * (terms.sum() if kl_reduce == "sum" else terms.sum(1).mean())


@mutant(LOSS, "mean_not_sum")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    return _loss(recon_x, x, mu, logvar, reconstruction, reduction="mean")


@mutant(LOSS, "kl_sign_flip")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    return _loss(recon_x, x, mu, logvar, reconstruction, kl_sign=0.5)


@mutant(LOSS, "kl_missing_half")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    return _loss(recon_x, x, mu, logvar, reconstruction, kl_sign=-1.0)


@mutant(LOSS, "mse_bce_swapped")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    swapped = {"mse": "bce", "bce": "mse"}.get(reconstruction, reconstruction)
    return _loss(recon_x, x, mu, logvar, swapped)


@mutant(LOSS, "kl_mean_over_batch")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    return _loss(recon_x, x, mu, logvar, reconstruction, kl_reduce="mean")


@mutant(LOSS, "silent_unknown")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    return _loss(recon_x, x, mu, logvar, "bce" if reconstruction == "bce" else "mse", check=False)


@mutant(REP, "std_is_exp_logvar")
def _(mu, logvar):
    return mu + torch.exp(logvar) * torch.randn_like(mu)


@mutant(REP, "no_noise")
def _(mu, logvar):
    return mu + 0 * logvar


@mutant(REP, "uniform_noise")
def _(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * (torch.rand_like(mu) - 0.5) * math.sqrt(12)


@mutant(REP, "detached_sample")
def _(mu, logvar):
    return torch.normal(mu, torch.exp(0.5 * logvar))


@mutant(REP, "noise_shared_over_rows")
def _(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape[-1], dtype=mu.dtype)


def _iw(model, x, K, *, reduce="log_mean_exp", prior=True, logits_as_probs=False, q_sign=1.0):
    x = _flat(x)
    mu, logvar = model.encode(x)
    Bn, L = mu.shape
    z = (mu.unsqueeze(1) + torch.exp(0.5 * logvar).unsqueeze(1) * torch.randn(Bn, K, L, dtype=mu.dtype)).reshape(Bn * K, L)
    rep = lambda t: t.unsqueeze(1).expand(Bn, K, t.shape[1]).reshape(Bn * K, t.shape[1])  # noqa: E731
    logits = model.decode(z)
    means = logits.clamp(1e-6, 1 - 1e-6) if logits_as_probs else torch.sigmoid(logits)
    log_w = log_likelihood_bernoulli(means, rep(x)) - q_sign * log_likelihood_normal(rep(mu), rep(logvar), z)
    if prior:
        log_w = log_w + q_sign * log_likelihood_normal(torch.zeros_like(z), torch.zeros_like(z), z)
    log_w = log_w.view(Bn, K)
    return {"log_mean_exp": log_mean_exp, "mean": lambda w: w.mean(1), "logsumexp": lambda w: torch.logsumexp(w, 1)}[reduce](log_w)


@mutant(IW, "elbo_not_iwae")
def _(model, x, K=200):
    return _iw(model, x, K, reduce="mean")


@mutant(IW, "missing_prior")
def _(model, x, K=200):
    return _iw(model, x, K, prior=False)


@mutant(IW, "sum_not_mean")
def _(model, x, K=200):
    return _iw(model, x, K, reduce="logsumexp")


@mutant(IW, "logits_as_probs")
def _(model, x, K=200):
    return _iw(model, x, K, logits_as_probs=True)


@mutant(IW, "prior_and_posterior_swapped")
def _(model, x, K=200):
    return _iw(model, x, K, q_sign=-1.0)


@mutant(LOSS, "loss_as_python_float")
def _(recon_x, x, mu, logvar, reconstruction="mse"):
    rec = torch.sum((recon_x.reshape(len(recon_x), -1) - x.reshape(len(x), -1)) ** 2) if reconstruction == "mse" else \
        F.binary_cross_entropy(recon_x.reshape(len(recon_x), -1), x.reshape(len(x), -1), reduction="sum")
    if reconstruction not in ("mse", "bce"):
        raise ValueError(reconstruction)
    return (rec - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()  # right value, nothing to train
