"""Attack: return values that are huge or lazy, to exhaust or trick the grader while reading them.

``log_likelihood_bernoulli`` returns a meta tensor (a shape with no data), ``log_likelihood_normal``
a generator (nothing computed until someone iterates it), and ``kl_gaussian_gaussian_analytic``
a 4-byte tensor expanded to 2**27 elements: a 512 MiB reply, over the grader's frame limit, or
a materialisation bomb for anyone who copies it without looking.
"""
import torch


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def log_likelihood_bernoulli(mu, target):
    """A tensor with a shape and a dtype but no data."""
    return torch.empty(mu.shape[0], dtype=mu.dtype, device="meta")


def log_likelihood_normal(mu, logvar, z):
    """A generator: lazy, never computed unless iterated."""
    return (float(v) for v in torch.zeros(mu.shape[0], dtype=mu.dtype))


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    """One float32 expanded to 512 MiB of elements."""
    return torch.zeros(1, dtype=torch.float32).expand(2**27)
