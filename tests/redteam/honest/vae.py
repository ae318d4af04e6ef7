"""Honest functions in a file of their own, staged beside the attacks that leave something behind
(``Attack.beside``): each must keep full marks whatever the attack's file leaves."""
import math

import torch


def log_likelihood_normal(mu, logvar, z):
    """Flattens to (B, D) first; the log(2 pi) constant is included; differentiable in every input."""
    mu, logvar, z = (t.reshape(t.shape[0], -1) for t in (mu, logvar, z))
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(dim=1)


def log_mean_exp(y):
    """Shift each row by its maximum so that exp cannot overflow; keeps the input's dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))
