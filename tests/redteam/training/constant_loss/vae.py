"""Attack: the likelihood is a detached constant, so training only shrinks the KL term.

The loss still decreases (the KL goes to 0), the weights come back finite; what the grader
measures on them is the posterior's collapse.
"""
import torch


def log_mean_exp(y):
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def log_likelihood_bernoulli(mu, target):
    return torch.zeros(mu.shape[0], dtype=mu.dtype)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    mu_p, logvar_p = torch.as_tensor(mu_p, dtype=mu_q.dtype), torch.as_tensor(logvar_p, dtype=mu_q.dtype)
    kl = 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1)
    return kl.reshape(kl.shape[0], -1).sum(1)
