"""Correct cgan.py functions in other styles: F.binary_cross_entropy, index tensors, scatter."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from tests.alternates import alternate


@alternate("cgan.discriminator_loss", "bce")
def _(d_real, d_fake):
    return 0.5 * (F.binary_cross_entropy(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))


@alternate("cgan.generator_loss", "bce")
def _(d_fake):
    return 0.5 * F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))


@alternate("cgan.train_discriminator", "one_batch_no_grad_fakes")
def _(discriminator, optimizer, real_data, fake_data, labels=None):
    with torch.no_grad():
        fake = fake_data.clone()
    x = torch.cat([real_data, fake])
    d = discriminator(x) if labels is None else discriminator(x, torch.cat([labels, labels]))
    n = real_data.shape[0]
    loss = 0.5 * (F.binary_cross_entropy(d[:n], torch.ones_like(d[:n])) + F.binary_cross_entropy(d[n:], torch.zeros_like(d[n:])))
    optimizer.zero_grad(set_to_none=False)
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.train_generator", "bce")
def _(discriminator, optimizer, fake_data, labels=None):
    d = discriminator(fake_data) if labels is None else discriminator(fake_data, labels)
    loss = 0.5 * F.binary_cross_entropy(d, torch.ones_like(d))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.one_hot", "scatter")
def _(labels, num_classes=10):
    out = torch.zeros(labels.shape[0], num_classes)
    return out.scatter_(1, labels.long().view(-1, 1), 1.0)


@alternate("cgan.conditional_input", "eye_rows")
def _(z, labels, num_classes=10):
    return torch.hstack([z, torch.eye(num_classes, dtype=z.dtype)[labels]])


@alternate("cgan.center_patch", "narrow")
def _(images, size=10):
    start = 14 - size // 2
    return images[:, 0].narrow(1, start, size).narrow(2, start, size).flatten(1)


@alternate("cgan.imputation_generator_loss", "explicit")
def _(d_fake, fake_images, condition, lam):
    patch = fake_images[:, 0, 9:19, 9:19].reshape(len(condition), -1)
    return -0.5 * torch.log(d_fake).mean() + lam * (patch - condition).pow(2).mean()
