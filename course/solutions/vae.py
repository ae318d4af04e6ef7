"""VAE helper math: likelihoods, KL divergences, the VAE loss and importance sampling.

Handout: the binarized-MNIST VAE assignment (helper functions, then a VAE trained to a
validation ELBO of at least -102 nats, then an importance-sampled log-likelihood).

Conventions for every function here:
- inputs are float32 or float64 tensors; the result keeps that dtype and device;
- B is the batch size, D the flattened feature size, L the latent size, K importance samples,
  S Monte-Carlo samples;
- inputs with more than two dimensions are flattened to (B, -1) first, so images
  (B, 1, 28, 28) count as (B, 784);
- "summed over dims" means one value per example.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "log_likelihood_bernoulli",
    "log_likelihood_normal",
    "log_mean_exp",
    "kl_gaussian_gaussian_analytic",
    "kl_gaussian_gaussian_mc",
    "VAE_loss_function",
    "reparameterize",
    "importance_weighted_log_likelihood",
    "VAE",
    "TrainConfig",
    "FULL",
]


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


def log_likelihood_bernoulli(mu: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Log-likelihood of binary targets under independent Bernoulli variables.

    log p(target) = sum_d [ t_d log mu_d + (1 - t_d) log(1 - mu_d) ]

    where mu_d = p(x_d = 1) lies strictly inside (0, 1) and t_d is 0 or 1.

    Parameters
    ----------
    mu : torch.Tensor
        Bernoulli means (probabilities of a one), not logits.
    target : torch.Tensor
        Binary targets, same number of elements per example as ``mu``.

    Returns
    -------
    torch.Tensor
        One log-likelihood per example, summed over dims.

    Shapes
    ------
    mu, target : (B, D); images (B, 1, 28, 28) are flattened to (B, 784) first
    returns : (B,)
    """
    # BEGIN SOLUTION
    mu, target = _flat(mu), _flat(target)
    return (target * torch.log(mu) + (1 - target) * torch.log1p(-mu)).sum(dim=1)  # (B,)
    # END SOLUTION


def log_likelihood_normal(mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Log-density of ``z`` under a diagonal Gaussian N(mu, exp(logvar)).

    log N(z; mu, sigma^2) = sum_d -0.5 [ log(2 pi) + logvar_d + (z_d - mu_d)^2 exp(-logvar_d) ]

    where logvar is the log of the variance; the log(2 pi) constant is included.

    Parameters
    ----------
    mu : torch.Tensor
        Means.
    logvar : torch.Tensor
        Log-variances.
    z : torch.Tensor
        Points at which the density is evaluated.

    Returns
    -------
    torch.Tensor
        One log-density per example, summed over dims.

    Shapes
    ------
    mu, logvar, z : (B, D); more dimensions are flattened to (B, -1) first
    returns : (B,)
    """
    # BEGIN SOLUTION
    mu, logvar, z = _flat(mu), _flat(logvar), _flat(z)
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar)).sum(dim=1)
    # END SOLUTION


def log_mean_exp(y: torch.Tensor) -> torch.Tensor:
    """Log of the mean of exponentials along the second axis, computed stably.

    log_mean_exp(y)_b = a_b + log( (1/K) sum_k exp(y_bk - a_b) ),  a_b = max_k y_bk

    Parameters
    ----------
    y : torch.Tensor
        Values, for example K log-weights per example.

    Returns
    -------
    torch.Tensor
        One value per row.

    Shapes
    ------
    y : (B, K)
    returns : (B,)

    Notes
    -----
    Must stay finite for |y| up to about 1e4, where exp overflows (or underflows to 0) in
    float32 and float64 alike.
    """
    # BEGIN SOLUTION
    a = y.max(dim=1, keepdim=True).values  # (B, 1); shifting by the max keeps exp in [0, 1]
    return (torch.log(torch.exp(y - a).mean(dim=1, keepdim=True)) + a).squeeze(1)
    # END SOLUTION


def kl_gaussian_gaussian_analytic(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """Closed-form KL(q || p) between two diagonal Gaussians, q first.

    KL = sum_d 0.5 [ lv_p - lv_q + (exp(lv_q) + (mu_q - mu_p)^2) / exp(lv_p) - 1 ]

    where lv are log-variances.

    Parameters
    ----------
    mu_q, logvar_q : torch.Tensor
        Mean and log-variance of q.
    mu_p, logvar_p : torch.Tensor or float
        Mean and log-variance of p; 0-d tensors and Python numbers broadcast against (B, D).

    Returns
    -------
    torch.Tensor
        One KL value per example, summed over dims.

    Shapes
    ------
    mu_q, logvar_q, mu_p, logvar_p : (B, D), or () for the prior's parameters
    returns : (B,)
    """
    # BEGIN SOLUTION
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype, device=mu_q.device)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype, device=mu_q.device)
    if mu_p.dim() > 1:
        mu_p = _flat(mu_p)
    if logvar_p.dim() > 1:
        logvar_p = _flat(logvar_p)
    kl = logvar_p - logvar_q + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) / torch.exp(logvar_p) - 1
    return 0.5 * kl.sum(dim=1)
    # END SOLUTION


def kl_gaussian_gaussian_mc(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor,
    logvar_p: torch.Tensor,
    num_samples: int = 1,
) -> torch.Tensor:
    """Monte-Carlo estimate of KL(q || p) between two diagonal Gaussians.

    KL ~ (1/S) sum_s [ log q(z_s) - log p(z_s) ],  z_s = mu_q + exp(0.5 logvar_q) * eps_s

    where eps_s ~ N(0, I) is drawn independently for every example and every sample, and each
    log-density is summed over dims (with its log(2 pi) constant). The estimate is unbiased and
    converges to :func:`kl_gaussian_gaussian_analytic` as S grows.

    Parameters
    ----------
    mu_q, logvar_q : torch.Tensor
        Mean and log-variance of q.
    mu_p, logvar_p : torch.Tensor or float
        Mean and log-variance of p; 0-d tensors and Python numbers broadcast against (B, D).
    num_samples : int, default 1
        S, the number of samples per example.

    Returns
    -------
    torch.Tensor
        One KL estimate per example.

    Shapes
    ------
    mu_q, logvar_q, mu_p, logvar_p : (B, D), or () for the prior's parameters
    samples : (B, S, D)
    returns : (B,)
    """
    # BEGIN SOLUTION
    mu_q, logvar_q = _flat(mu_q), _flat(logvar_q)
    B, D = mu_q.shape
    S = num_samples
    mu_p = torch.as_tensor(mu_p, dtype=mu_q.dtype, device=mu_q.device).expand(B, D)
    logvar_p = torch.as_tensor(logvar_p, dtype=mu_q.dtype, device=mu_q.device).expand(B, D)

    def per_sample(t: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B*S, D)
        return t.unsqueeze(1).expand(B, S, D).reshape(B * S, D)

    eps = torch.randn(B, S, D, dtype=mu_q.dtype, device=mu_q.device)
    z = (mu_q.unsqueeze(1) + torch.exp(0.5 * logvar_q).unsqueeze(1) * eps).reshape(B * S, D)
    log_q = log_likelihood_normal(per_sample(mu_q), per_sample(logvar_q), z)  # (B*S,)
    log_p = log_likelihood_normal(per_sample(mu_p), per_sample(logvar_p), z)  # (B*S,)
    return (log_q - log_p).view(B, S).mean(dim=1)
    # END SOLUTION


def VAE_loss_function(
    recon_x: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    reconstruction: str = "mse",
) -> torch.Tensor:
    """Negative ELBO of a batch: reconstruction error plus KL to the standard normal prior.

    loss = R(recon_x, x) - 0.5 sum_{b,l} (1 + logvar_bl - mu_bl^2 - exp(logvar_bl))

    where R is summed over all elements and the batch: the squared error sum (recon - x)^2
    for ``"mse"``, or the binary cross-entropy -sum [x log recon + (1 - x) log(1 - recon)]
    for ``"bce"`` (``recon_x`` then holds probabilities).

    Parameters
    ----------
    recon_x : torch.Tensor
        Reconstructions.
    x : torch.Tensor
        Inputs; images (B, 1, 28, 28) are flattened to (B, 784) to match ``recon_x``.
    mu, logvar : torch.Tensor
        Mean and log-variance of the encoder's q(z | x).
    reconstruction : {"mse", "bce"}, default "mse"
        The reconstruction term.

    Returns
    -------
    torch.Tensor
        A 0-d tensor: the loss summed over the batch (not averaged).

    Shapes
    ------
    recon_x : (B, D); x : (B, D) or (B, 1, 28, 28); mu, logvar : (B, L)
    returns : ()

    Raises
    ------
    ValueError
        If ``reconstruction`` is neither ``"mse"`` nor ``"bce"``.
    """
    # BEGIN SOLUTION
    if reconstruction not in ("mse", "bce"):
        raise ValueError(f"reconstruction must be 'mse' or 'bce', got {reconstruction!r}")
    recon_x, x = _flat(recon_x), _flat(x)
    if reconstruction == "mse":
        rec = ((recon_x - x) ** 2).sum()
    else:
        rec = F.binary_cross_entropy(recon_x, x, reduction="sum")
    kl = -0.5 * (1 + logvar - mu**2 - torch.exp(logvar)).sum()
    return rec + kl
    # END SOLUTION


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Draw z ~ N(mu, exp(logvar)) with the reparameterisation trick.

    z = mu + exp(0.5 logvar) * eps,  eps ~ N(0, I)

    so that gradients flow to ``mu`` and ``logvar``.

    Parameters
    ----------
    mu, logvar : torch.Tensor
        Mean and log-variance.

    Returns
    -------
    torch.Tensor
        One sample, shaped like ``mu``.

    Shapes
    ------
    mu, logvar : any shape, the same for both
    returns : like ``mu``
    """
    # BEGIN SOLUTION
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    # END SOLUTION


def importance_weighted_log_likelihood(model: "VAE", x: torch.Tensor, K: int = 200) -> torch.Tensor:
    """Importance-sampled estimate of log p(x) under a VAE.

    log p(x) ~ log_mean_exp_k [ log p(x | z_k) + log p(z_k) - log q(z_k | x) ],  z_k ~ q(z | x)

    where q(z | x) = N(mu, exp(logvar)) with (mu, logvar) = model.encode(x), p(z) = N(0, I) and
    p(x | z) is Bernoulli with means sigmoid(model.decode(z)). Built from
    :func:`log_likelihood_bernoulli`, :func:`log_likelihood_normal` and :func:`log_mean_exp`.

    Parameters
    ----------
    model : VAE
        Any object with ``encode(x) -> (mu, logvar)`` and ``decode(z) -> logits``.
    x : torch.Tensor
        Binary inputs.
    K : int, default 200
        Number of importance samples per example.

    Returns
    -------
    torch.Tensor
        One log-likelihood estimate per example (a lower bound on log p(x) in expectation,
        at least the ELBO).

    Shapes
    ------
    x : (B, D) or (B, 1, 28, 28); mu, logvar : (B, L); samples : (B, K, L)
    returns : (B,)
    """
    # BEGIN SOLUTION
    x = _flat(x)
    B, D = x.shape
    mu, logvar = model.encode(x)  # (B, L)
    L = mu.shape[1]
    eps = torch.randn(B, K, L, dtype=mu.dtype, device=mu.device)
    z = mu.unsqueeze(1) + torch.exp(0.5 * logvar).unsqueeze(1) * eps  # (B, K, L)
    z = z.reshape(B * K, L)
    x_rep = x.unsqueeze(1).expand(B, K, D).reshape(B * K, D)
    mu_rep = mu.unsqueeze(1).expand(B, K, L).reshape(B * K, L)
    logvar_rep = logvar.unsqueeze(1).expand(B, K, L).reshape(B * K, L)
    log_px_z = log_likelihood_bernoulli(torch.sigmoid(model.decode(z)), x_rep)
    log_pz = log_likelihood_normal(torch.zeros_like(z), torch.zeros_like(z), z)
    log_qz = log_likelihood_normal(mu_rep, logvar_rep, z)
    return log_mean_exp((log_px_z + log_pz - log_qz).view(B, K))
    # END SOLUTION


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): the handout's binarized-MNIST VAE and its training settings.


class VAE(nn.Module):
    """The handout's VAE: MLP encoder to (mu, logvar), MLP decoder to Bernoulli logits.

    Encoder D-H-H (ELU) -> 2L; decoder L-H-H (ELU) -> D logits, shifted by -5 so that an
    untrained decoder predicts mostly-black images, as binarized MNIST is.

    Parameters
    ----------
    latent_dim : int, default 100
        L.
    data_dim : int, default 784
        D.
    hidden : int, default 300
        H.

    Shapes
    ------
    encode : (B, D) -> ((B, L), (B, L)); decode : (B, L) -> (B, D) logits
    forward : (B, D) -> (mu, logvar, logits)
    """

    def __init__(self, latent_dim: int = 100, data_dim: int = 784, hidden: int = 300):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Linear(data_dim, hidden), nn.ELU(),
            nn.Linear(hidden, hidden), nn.ELU(),
            nn.Linear(hidden, 2 * latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ELU(),
            nn.Linear(hidden, hidden), nn.ELU(),
            nn.Linear(hidden, data_dim),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x.reshape(x.shape[0], -1)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z) - 5.0

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        return mu, logvar, self.decode(reparameterize(mu, logvar))


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the binarized-MNIST VAE (handout values in ``FULL``)."""

    latent_dim: int = 100  # L
    lr: float = 3e-4  # Adam
    batch_size: int = 64
    epochs: int = 20
    min_valid_elbo: float = -102.0  # nats; the handout's pass mark
    importance_samples: int = 200  # K for the test log-likelihood
    seed: int = 0


FULL = TrainConfig()
