"""Attack: return NaN, infinities and the largest finite float instead of results.

NaN defeats a naive ``abs(got - want) > tol`` (every comparison with NaN is False), infinities
and the largest finite value overflow a naive ``rtol * abs(want)`` or ``got - want``. They
score only if the grader compared values without checking finiteness first.
"""
import torch


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def log_likelihood_bernoulli(mu, target):
    """The largest finite value of the dtype, negated: overflows any naive difference."""
    return torch.full((mu.shape[0],), -torch.finfo(mu.dtype).max, dtype=mu.dtype)


def log_likelihood_normal(mu, logvar, z):
    """Alternating -inf and +inf."""
    out = torch.full((mu.shape[0],), float("inf"), dtype=mu.dtype)
    out[::2] = float("-inf")
    return out


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    """NaN everywhere: every comparison with it is False, so "not too far" holds."""
    return torch.full((mu_q.shape[0],), float("nan"), dtype=mu_q.dtype)
