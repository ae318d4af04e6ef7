# Carol's q1_solution.py (IFT6135 A3, question 1): solid work, one slip in the Monte-Carlo KL.
import math

import numpy as np
import torch


def log_likelihood_bernoulli(mu, target):
    batch_size = mu.size(0)
    mu = mu.view(batch_size, -1)
    target = target.view(batch_size, -1)
    return torch.sum(target * torch.log(mu) + (1 - target) * torch.log(1 - mu), dim=1)


def log_likelihood_normal(mu, logvar, z):
    batch_size = mu.size(0)
    mu, logvar, z = mu.view(batch_size, -1), logvar.view(batch_size, -1), z.view(batch_size, -1)
    return torch.sum(-0.5 * (np.log(2 * np.pi) + logvar + (z - mu) ** 2 / torch.exp(logvar)), dim=1)


def log_mean_exp(y):
    a = torch.max(y, dim=1, keepdim=True)[0]
    return torch.log(torch.mean(torch.exp(y - a), dim=1)) + a.squeeze(1)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    batch_size = mu_q.size(0)
    mu_q, logvar_q = mu_q.view(batch_size, -1), logvar_q.view(batch_size, -1)
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype).expand_as(mu_q)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype).expand_as(mu_q)
    kl = 0.5 * (logvar_p - logvar_q + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) / torch.exp(logvar_p) - 1)
    return torch.sum(kl, dim=1)


def kl_gaussian_gaussian_mc(mu_q, logvar_q, mu_p, logvar_p, num_samples=1):
    batch_size, dim = mu_q.view(mu_q.size(0), -1).shape
    mu_q = mu_q.view(batch_size, 1, dim)
    logvar_q = logvar_q.view(batch_size, 1, dim)
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype).expand(batch_size, dim).view(batch_size, 1, dim)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype).expand(batch_size, dim).view(batch_size, 1, dim)
    # the slip: one noise draw shared by the whole batch
    eps = torch.randn(1, num_samples, dim, dtype=mu_q.dtype)
    z = mu_q + torch.exp(0.5 * logvar_q) * eps
    log_q = -0.5 * (math.log(2 * math.pi) + logvar_q + (z - mu_q) ** 2 / torch.exp(logvar_q))
    log_p = -0.5 * (math.log(2 * math.pi) + logvar_p + (z - mu_p) ** 2 / torch.exp(logvar_p))
    return (log_q - log_p).sum(dim=2).mean(dim=1)


def importance_weighted_log_likelihood(model, x, K=200):
    x = x.view(x.size(0), -1)
    mu, logvar = model.encode(x)
    log_weights = []
    for _ in range(K):
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        probs = torch.sigmoid(model.decode(z))
        log_weights.append(log_likelihood_bernoulli(probs, x)
                           + log_likelihood_normal(torch.zeros_like(z), torch.zeros_like(z), z)
                           - log_likelihood_normal(mu, logvar, z))
    return log_mean_exp(torch.stack(log_weights, dim=1))
