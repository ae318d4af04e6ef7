"""Attack: open file descriptors until the limit refuses one, and keep them all.

``discriminator_loss`` opens ``/dev/null`` until ``open`` fails (the worker may hold 256; bounded
at 4096 where nothing limits it), keeps every descriptor in a module-level list, and returns
garbage. A worker that served later functions would fail to import their files or to open
anything at all: every honest function here, this file's ``generator_loss`` included, must keep
full marks, and the report must say under ``discriminator_loss`` that it kept descriptors open.
"""
import os

import torch

_HELD = []


def discriminator_loss(d_real, d_fake):
    while len(_HELD) < 4096:
        try:
            _HELD.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            break
    return torch.tensor(123.0)


def generator_loss(d_fake):
    """Honest, in the attack's own file: the non-saturating loss, -0.5 mean log D(G(z))."""
    return -0.5 * torch.log(d_fake).mean()
