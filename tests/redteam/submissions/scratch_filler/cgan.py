"""Attack: fill the scratch folder, so that later functions cannot write a temporary file.

``discriminator_loss`` writes six 50 MiB files (under the 64 MiB per-file limit) into the
temporary directory, once (a later call finds them and writes nothing more), until the space
runs out, and returns garbage. ``divergences.kernel`` is honest and round-trips its distances
through a temporary file (as a student who caches large arrays might): it needs a little
scratch space, and must find an empty scratch. Bounded: 300 MiB of files, whatever the call
count.
"""
import os
import tempfile

import torch

MiB = 1 << 20


def discriminator_loss(d_real, d_fake):
    block = b"\xa5" * MiB
    for i in range(6):
        path = os.path.join(tempfile.gettempdir(), f"filler-{i}")
        if os.path.exists(path):
            continue  # still full from an earlier call
        try:
            with open(path, "wb") as f:
                f.writelines(block for _ in range(50))
        except OSError:
            break
    return torch.tensor(123.0)


def generator_loss(d_fake):
    """Honest, in the attack's own file: the non-saturating loss, -0.5 mean log D(G(z))."""
    return -0.5 * torch.log(d_fake).mean()
