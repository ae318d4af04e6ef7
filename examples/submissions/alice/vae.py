# Alice's vae.py: careful work, two classic slips (a forgotten constant, an unshifted log-mean-exp).
import math

import torch
import torch.nn.functional as F


def log_likelihood_bernoulli(mu, target):
    mu = mu.view(mu.size(0), -1)
    target = target.view(target.size(0), -1)
    return torch.sum(target * torch.log(mu) + (1 - target) * torch.log(1 - mu), dim=1)


def log_likelihood_normal(mu, logvar, z):
    mu, logvar, z = (t.view(t.size(0), -1) for t in (mu, logvar, z))
    # forgot the log(2 pi) constant
    return torch.sum(-0.5 * (logvar + (z - mu) ** 2 / torch.exp(logvar)), dim=1)


def log_mean_exp(y):
    # no max shift: overflows for large |y|
    return torch.log(torch.mean(torch.exp(y), dim=1))


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    mu_q, logvar_q = mu_q.view(mu_q.size(0), -1), logvar_q.view(logvar_q.size(0), -1)
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype)
    kl = 0.5 * (logvar_p - logvar_q + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) / torch.exp(logvar_p) - 1)
    return kl.sum(dim=1)


def kl_gaussian_gaussian_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    mu_q, logvar_q = mu_q.view(mu_q.size(0), -1), logvar_q.view(logvar_q.size(0), -1)
    B, D = mu_q.shape
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype).expand(B, D).unsqueeze(1)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype).expand(B, D).unsqueeze(1)
    mu_q, logvar_q = mu_q.unsqueeze(1), logvar_q.unsqueeze(1)
    z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn(B, num_samples, D, dtype=mu_q.dtype)
    log_q = -0.5 * (math.log(2 * math.pi) + logvar_q + (z - mu_q) ** 2 / torch.exp(logvar_q))
    log_p = -0.5 * (math.log(2 * math.pi) + logvar_p + (z - mu_p) ** 2 / torch.exp(logvar_p))
    return (log_q - log_p).sum(dim=2).mean(dim=1)


def VAE_loss_function(recon_x, x, mu, logvar, reconstruction="mse"):
    x = x.view(recon_x.shape)
    if reconstruction == "mse":
        rec = F.mse_loss(recon_x, x, reduction="sum")
    elif reconstruction == "bce":
        rec = F.binary_cross_entropy(recon_x, x, reduction="sum")
    else:
        raise ValueError(f"unknown reconstruction {reconstruction}")
    return rec - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def reparameterize(mu, logvar):
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def importance_weighted_log_likelihood(model, x, K=200):
    x = x.view(x.size(0), -1)
    mu, logvar = model.encode(x)
    estimates = []
    for _ in range(K):
        z = reparameterize(mu, logvar)
        log_px = log_likelihood_bernoulli(torch.sigmoid(model.decode(z)), x)
        log_pz = log_likelihood_normal(torch.zeros_like(z), torch.zeros_like(z), z)
        log_qz = log_likelihood_normal(mu, logvar, z)
        estimates.append(log_px + log_pz - log_qz)
    return log_mean_exp(torch.stack(estimates, dim=1))
