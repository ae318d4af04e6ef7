"""Attack: end the process that runs the function, below Python's exception handling.

``log_likelihood_bernoulli`` calls ``os.abort()`` (SIGABRT), ``log_likelihood_normal`` reads
address 0 through ctypes (SIGSEGV), and ``kl_gaussian_gaussian_analytic`` calls ``os._exit(0)``,
a clean exit status in the middle of a call. Any of them would end an unsandboxed grader; the
honest function is graded between them, so the worker must come back each time.
"""
import ctypes
import os

import torch


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def log_likelihood_bernoulli(mu, target):
    os.abort()


def log_likelihood_normal(mu, logvar, z):
    ctypes.string_at(0)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    os._exit(0)
