r"""The *sevens* dataset: MNIST training sevens with a graded stroke-thickening effect.

Built deterministically from the verified MNIST training set for the VAE latent-traversal
exercise: each seven is thickened by a known, continuously varying amount, so a latent
direction can be checked against the true strength.

For seven i (i = 0, 1, ... in MNIST training order) with image x in [0, 1]:

    s_i = frac((i + 1) * g),  g = (sqrt(5) - 1) / 2          (strength in [0, 1))
    r   = 2 * s_i,  k = floor(r),  f = r - k                 (dilation radius 0-2 px)
    y_i = (1 - f) * D^k(x) + f * D^(k+1)(x)

where D is grey-level dilation with a 3x3 square (each pixel becomes the maximum of itself and
its 8 neighbours; outside the image counts as 0) and D^k is D applied k times (D^0 = x). So
s = 0 leaves the seven unchanged, s = 0.5 is one full dilation (strokes about 2 px wider) and
s -> 1 approaches two. The golden-ratio sequence spreads the strengths evenly over [0, 1)
without a random generator, so the dataset is the same on every machine.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .cache import locked
from .registry import cache_dir

if TYPE_CHECKING:
    import torch

__all__ = ["SEVENS_FILE", "build_sevens", "fetch_sevens", "sevens_strengths", "thicken"]

SEVENS_FILE = "sevens/sevens_v1.npz"
_GOLDEN = (5**0.5 - 1) / 2


def sevens_strengths(n: int) -> np.ndarray:
    """Per-image strengths s_i = frac((i + 1) g), g = (sqrt(5) - 1) / 2; shape (n,), float32."""
    return np.mod(np.arange(1, n + 1, dtype=np.float64) * _GOLDEN, 1.0).astype(np.float32)


def _dilate(x: np.ndarray) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    h, w = x.shape[1:]
    shifts = [padded[:, dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return np.max(np.stack(shifts), axis=0)


def thicken(images: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """Apply the module's thickening effect with per-image strength in [0, 1].

    Shapes
    ------
    images : (N, 28, 28) float in [0, 1]; strengths : (N,); returns : (N, 28, 28) in [0, 1]
    """
    stages = [images]
    for _ in range(2):
        stages.append(_dilate(stages[-1]))
    radius = 2.0 * np.clip(strengths.astype(np.float64), 0.0, 1.0)
    k = np.minimum(np.floor(radius).astype(int), 1)  # r = 2 uses (D^1, D^2) with f = 1
    f = (radius - k)[:, None, None]
    stack = np.stack(stages)  # (3, N, 28, 28)
    index = np.arange(images.shape[0])
    out = (1.0 - f) * stack[k, index] + f * stack[k + 1, index]
    return out.astype(np.float32)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_sevens() -> Path:
    """Build (once) and return the cached ``sevens`` file, checked against its recorded hash.

    The file is ``<cache>/sevens/sevens_v1.npz`` with arrays ``images`` (N, 28, 28) float32,
    ``strengths`` (N,) float32 and ``indices`` (N,) int64 (positions in MNIST train). Its
    SHA-256 is kept next to it; a file that does not match is rebuilt.
    """
    from .download import fetch_dataset
    from .vision import read_idx

    target = cache_dir() / SEVENS_FILE
    stamp = target.with_name(target.name + ".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == _digest(target):
        return target
    paths = fetch_dataset("mnist")
    images = read_idx(paths["mnist/train-images-idx3-ubyte.gz"])
    labels = read_idx(paths["mnist/train-labels-idx1-ubyte.gz"])
    indices = np.flatnonzero(labels == 7).astype(np.int64)
    strengths = sevens_strengths(indices.size)
    thick = thicken(images[indices].astype(np.float32) / 255.0, strengths)
    with locked(target.parent):
        tmp = tempfile.NamedTemporaryFile(dir=target.parent, delete=False)
        with tmp:
            np.savez(tmp, images=thick, strengths=strengths, indices=indices)
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, target)
        stamp.write_text(_digest(target) + "\n")
    return target


def fetch_sevens() -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST training sevens thickened by a known per-image strength (see the module docstring).

    y_i = (1 - f) D^k(x_i) + f D^(k+1)(x_i), with 2 s_i = k + f and s_i = frac((i + 1) g)

    where x_i is the i-th seven of MNIST train in [0, 1], D is 3x3 grey-level dilation and
    g = (sqrt(5) - 1) / 2.

    Returns
    -------
    images : torch.Tensor
        float32 in [0, 1]; stroke width grows continuously with the strength.
    strengths : torch.Tensor
        float32 in [0, 1): 0 is the original seven, 0.5 one dilation, near 1 two.

    Shapes
    ------
    images : (N, 1, 28, 28); strengths : (N,); N = 6265 (the sevens of MNIST train)
    """
    import torch

    with np.load(build_sevens()) as data:
        images, strengths = data["images"], data["strengths"]
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(strengths)
