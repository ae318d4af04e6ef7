"""The handout's VAE training loop, with the implementation's loss pieces plugged in.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: the
trained weights and the loss curve. The model is the grader's own copy of the provided VAE
(``stubs.vae``), never the submission's; every metric is computed from the weights on the
trusted side (``course/vae/heavy.py``).
"""
from __future__ import annotations

import torch

from grader.scenarios import Resolve, minibatches


def train_vae(resolve: Resolve, target: str, train: torch.Tensor, steps: int, batch_size: int, lr: float,
              latent_dim: int, seed: int, device: str) -> dict[str, torch.Tensor | dict[str, torch.Tensor]]:
    """Train the provided VAE for ``steps`` Adam steps on the batch mean of the negative ELBO.

    The ELBO of a batch is the implementation's ``log_likelihood_bernoulli`` of the decoded
    means minus its ``kl_gaussian_gaussian_analytic`` to N(0, I), at a latent drawn as the
    provided code does (``reparameterize`` is provided code in the handout, not a graded
    function of this check). ``train`` is binarized MNIST as uint8 ``(N, 784)``.
    """
    from stubs.vae import VAE

    log_likelihood = resolve("vae.log_likelihood_bernoulli")
    kl = resolve("vae.kl_gaussian_gaussian_analytic")
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    model = VAE(latent_dim=latent_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    data = train.to(device)
    zeros = torch.zeros(1, latent_dim, device=device)
    losses = torch.empty(steps)
    for step, index in enumerate(minibatches(len(data), batch_size, steps, order)):
        x = data[index.to(device)].float()
        mu, logvar = model.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        # the provided loop keeps p(x=1|z) off 0 and 1, so an unclamped log is fine (API: clamping is optional)
        means = torch.sigmoid(model.decode(z)).clamp(1e-6, 1 - 1e-6)
        elbo = log_likelihood(means, x) - kl(mu, logvar, zeros.expand_as(mu), zeros.expand_as(mu))
        loss = -elbo.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[step] = loss.detach()
    return {"state": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "losses": losses}


def train_sevens(resolve: Resolve, target: str, images: torch.Tensor, steps: int, batch_size: int, lr: float,
                 latent_dim: int, seed: int, device: str) -> dict[str, torch.Tensor | dict[str, torch.Tensor]]:
    """Train the provided VAE with a small latent space on the sevens, with the implementation's
    ``reparameterize`` and ``VAE_loss_function`` (binary cross-entropy reconstruction), Adam.

    ``images`` are the thickened sevens as uint8 grey levels ``(N, 784)``.
    """
    from stubs.vae import VAE

    reparameterize, loss_function = resolve("vae.reparameterize"), resolve("vae.VAE_loss_function")
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    model = VAE(latent_dim=latent_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    data = images.to(device)
    losses = torch.empty(steps)
    for step, index in enumerate(minibatches(len(data), batch_size, steps, order)):
        x = data[index.to(device)].float() / 255
        mu, logvar = model.encode(x)
        recon = torch.sigmoid(model.decode(reparameterize(mu, logvar)))
        loss = loss_function(recon, x, mu, logvar, reconstruction="bce")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[step] = torch.as_tensor(loss).detach() / len(x)
    return {"state": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "losses": losses}
