# Carol's solution.py (IFT6135 A3, question 3): planar flows; the reverse-KL loss lost its constant.
import numpy as np
import torch


def planar_transformation(z, u, w, b):
    return z + u * torch.tanh(z @ w.t() + b)


def get_logdet(z, u, w, b, eps=1e-8):
    psi = (1 - torch.tanh(z @ w.t() + b) ** 2) * w  # (B, d)
    return torch.log(torch.abs(1 + psi @ u.t()) + eps)


def loss1(z0, logdet):
    log_base = -0.5 * (z0.size(1) * np.log(2 * np.pi) + (z0 ** 2).sum(dim=1, keepdim=True))
    return -(log_base + logdet)


def loss2(target_density, z0, logdet):
    log_base = -0.5 * (z0 ** 2).sum(dim=1, keepdim=True)  # forgot the 2 pi constant
    return log_base - logdet + target_density.view(-1, 1)
