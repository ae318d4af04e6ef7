"""The handout's MNIST GANs trained with the implementation's losses and training steps.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: the
generator's trained weights and the loss curves. The networks are the grader's own copy of the
provided MLPs (``stubs.cgan``), never the submission's; every metric is computed from the
weights on the trusted side (``course/cgan/heavy.py``), judged by the grader's classifier.
"""
from __future__ import annotations

import torch

from grader.scenarios import Resolve, minibatches

PATCH = 10  # side of the imputation GAN's centre patch: its condition has PATCH * PATCH pixels


def train_gan(resolve: Resolve, target: str, kind: str, images: torch.Tensor, labels: torch.Tensor, steps: int,
              batch_size: int, lr: float, betas: tuple[float, float], noise_dim: int, lam: float, seed: int,
              device: str) -> dict[str, torch.Tensor | dict[str, torch.Tensor]]:
    """Train the provided MLP generator and discriminator for ``steps`` Adam steps each.

    ``kind`` is ``"conditional"``: the generator's input is the implementation's
    ``conditional_input(z, labels)``, the discriminator is conditioned on the labels, and both
    steps are the implementation's ``train_discriminator`` and ``train_generator``; or
    ``"imputation"``: the generator's input is ``[z | center_patch(real)]``, the discriminator
    is unconditional, its step is ``train_discriminator`` and the generator's loss is
    ``imputation_generator_loss`` with ``lam``. ``images`` are MNIST digits in [0, 1] as uint8
    grey levels ``(N, 784)``, scaled to [-1, 1] for the tanh generator.
    """
    from stubs.cgan import Discriminator, Generator

    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    conditional = kind == "conditional"
    train_discriminator = resolve("cgan.train_discriminator")
    train_generator, imputation_loss = resolve("cgan.train_generator"), resolve("cgan.imputation_generator_loss")
    condition_of = resolve("cgan.conditional_input") if conditional else resolve("cgan.center_patch")
    extra = 10 if conditional else PATCH * PATCH
    generator = Generator(noise_dim=noise_dim + extra, num_classes=0).to(device)
    discriminator = Discriminator(num_classes=10 if conditional else 0).to(device)
    g_optim = torch.optim.Adam(generator.parameters(), lr=lr, betas=tuple(betas))
    d_optim = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=tuple(betas))
    data, targets = images.to(device), labels.to(device)
    losses = torch.empty(steps, 2)
    for step, index in enumerate(minibatches(len(data), batch_size, steps, order)):
        real = data[index.to(device)].float() / 127.5 - 1
        z = torch.randn(len(real), noise_dim, device=device)
        if conditional:
            y = targets[index.to(device)]
            fake = generator(condition_of(z, y))
            d_loss = train_discriminator(discriminator, d_optim, real, fake, y)
            g_loss = train_generator(discriminator, g_optim, fake, y)
        else:
            condition = condition_of(real.reshape(-1, 1, 28, 28))
            fake = generator(torch.cat([z, condition], dim=1))
            d_loss = train_discriminator(discriminator, d_optim, real, fake)
            g_optim.zero_grad()
            g_loss = imputation_loss(discriminator(fake), fake.reshape(-1, 1, 28, 28), condition, lam)
            g_loss.backward()
            g_optim.step()
        losses[step] = torch.stack([torch.as_tensor(d_loss).detach(), torch.as_tensor(g_loss).detach()]).float()
    return {"state": {k: v.detach().cpu() for k, v in generator.state_dict().items()}, "losses": losses}
