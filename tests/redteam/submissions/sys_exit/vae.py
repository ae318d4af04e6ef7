"""Attack: leave through the interpreter's own exits instead of returning.

``log_likelihood_bernoulli`` calls ``sys.exit(0)`` (a clean exit code, as if all went well),
``log_likelihood_normal`` raises KeyboardInterrupt, and ``kl_gaussian_gaussian_analytic``
raises a BaseException whose ``__str__`` itself raises SystemExit, to break whoever formats
the error. Each would end a grader that ran it in its own process or caught only Exception.
"""
import sys

import torch


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


class Unprintable(BaseException):
    """Formatting it exits."""

    def __str__(self):
        sys.exit(0)

    __repr__ = __str__


def log_likelihood_bernoulli(mu, target):
    sys.exit(0)


def log_likelihood_normal(mu, logvar, z):
    raise KeyboardInterrupt


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    raise Unprintable()
