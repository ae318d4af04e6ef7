"""Digits drawn by the grader's own MNIST GAN (trusted side only), for comparisons with real ones.

The handout's unconditional MLP GAN (``stubs.cgan``: 100-200-400-784 generator, 784-400-200-100-1
discriminator) trained once, seeded, with the standard non-saturating losses and Adam; its
samples are kept in the data cache (``<cache>/judges/``, beside the judge) and loaded by every
later grading. No submission code takes part.
"""
from __future__ import annotations

import json

import torch
from torch import nn

from course.judges import cache_folder

VERSION = "mnist-gan-v1"  # change it when the networks or the training change
SEED, STEPS, BATCH, LR, NOISE = 0, 3000, 64, 1e-3, 100
SAMPLES = 2000


@torch.enable_grad()
def _train() -> torch.Tensor:
    from data_fetch.vision import fetch_mnist
    from grader.scenarios import minibatches
    from stubs.cgan import Discriminator, Generator

    torch.manual_seed(SEED)
    images = fetch_mnist("train")[0].reshape(-1, 784) * 2 - 1  # the tanh generator's range
    generator, discriminator = Generator(NOISE, num_classes=0), Discriminator(num_classes=0)
    g_optim = torch.optim.Adam(generator.parameters(), lr=LR, betas=(0.5, 0.999))
    d_optim = torch.optim.Adam(discriminator.parameters(), lr=LR, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    for index in minibatches(len(images), BATCH, STEPS, torch.Generator().manual_seed(SEED)):
        real, fake = images[index], generator(torch.randn(BATCH, NOISE))
        ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
        d_loss = bce(discriminator(real), ones) + bce(discriminator(fake.detach()), zeros)
        d_optim.zero_grad()
        d_loss.backward()
        d_optim.step()
        g_loss = bce(discriminator(fake), ones)  # non-saturating: the generator maximises log D(G(z))
        g_optim.zero_grad()
        g_loss.backward()
        g_optim.step()
    with torch.no_grad():
        return (generator.eval()(torch.randn(SAMPLES, NOISE)) + 1) / 2  # back to [0, 1]


def gan_digits() -> torch.Tensor:
    """:data:`SAMPLES` generated digits ``(SAMPLES, 784)`` in [0, 1]; trained (about a minute) when absent.

    Raises
    ------
    grader.heavy.DataMissing
        When MNIST is not in the verified cache.
    """
    from safetensors.torch import load_file, save_file

    from data_fetch.cache import locked
    from grader.heavy import cached

    cached("mnist")
    with locked(cache_folder()) as folder:
        path, record = folder / f"{VERSION}.safetensors", folder / f"{VERSION}.json"
        if path.is_file():
            return load_file(path)["digits"]
        digits = _train()
        save_file({"digits": digits.contiguous()}, path)
        record.write_text(json.dumps({"seed": SEED, "steps": STEPS, "batch": BATCH, "lr": LR}))
        return digits
