"""Image datasets: MNIST, Fashion-MNIST, binarized MNIST, CIFAR-10 and scikit-learn's digits.

Every loader fetches (or finds) its verified files and returns float images in [0, 1] with
channels first, plus integer labels where the dataset has them. Parsing is numpy-only; torch is
imported inside the functions.
"""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

import numpy as np

from .download import fetch_dataset

if TYPE_CHECKING:
    import torch

__all__ = [
    "fetch_binarized_mnist",
    "fetch_cifar10",
    "fetch_digits",
    "fetch_fashion_mnist",
    "fetch_mnist",
    "read_idx",
]

_SPLITS = {"train": "train", "test": "t10k"}


def read_idx(path) -> np.ndarray:
    """Read a (gzipped) IDX file into a uint8 array of the shape its header gives."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte payload
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic 0x{magic:08x})")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {', '.join(map(repr, allowed))}, got {split!r}")


def _idx_pair(name: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    _check_split(split, tuple(_SPLITS))
    paths = fetch_dataset(name)
    prefix = f"{name}/{_SPLITS[split]}"
    images = read_idx(paths[f"{prefix}-images-idx3-ubyte.gz"])
    labels = read_idx(paths[f"{prefix}-labels-idx1-ubyte.gz"])
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def fetch_mnist(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST digits as float images in [0, 1] and integer labels.

    x = pixel / 255, where pixel is the original uint8 grey level (0 background, 255 ink).

    Parameters
    ----------
    split : {"train", "test"}
        60000 training or 10000 test images, in the original order (first train labels
        5 0 4 1 9).

    Returns
    -------
    images : torch.Tensor
        float32 in [0, 1].
    labels : torch.Tensor
        int64 digits 0-9.

    Shapes
    ------
    images : (N, 1, 28, 28); labels : (N,); N = 60000 (train) or 10000 (test)

    Raises
    ------
    DatasetUnavailable
        Offline with no cached copy; the message gives the ``data-fetch import`` command.
    ValueError
        For an unknown split.
    """
    return _idx_pair("mnist", split)


def fetch_fashion_mnist(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as float images in [0, 1] and integer labels (layout as :func:`fetch_mnist`).

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Shapes
    ------
    images : (N, 1, 28, 28) float32 in [0, 1]; labels : (N,) int64; N = 60000 or 10000
    """
    return _idx_pair("fashion_mnist", split)


def _read_amat(path) -> np.ndarray:
    """Parse a binarized-MNIST ``.amat`` file (rows of 784 ``0``/``1`` separated by spaces)."""
    raw = np.fromfile(path, dtype=np.uint8)
    row = 2 * 784  # "d d ... d\n": each digit is followed by one separator byte
    if raw.size % row == 0:
        table = raw.reshape(-1, row)
        if np.all(table[:, -1] == ord("\n")) and np.all(table[:, 1:-1:2] == ord(" ")):
            return table[:, ::2] - np.uint8(ord("0"))
    values = np.array(raw.tobytes().split(), dtype=np.uint8)  # any other whitespace layout
    return values.reshape(-1, 784)


def fetch_binarized_mnist(split: str = "train") -> torch.Tensor:
    """Larochelle & Murray's fixed binarization of MNIST, as float images of 0s and 1s.

    Parameters
    ----------
    split : {"train", "valid", "test"}
        50000, 10000 or 10000 images. The files carry no labels.

    Returns
    -------
    torch.Tensor
        float32, every value exactly 0.0 or 1.0 (about 13 % ones).

    Shapes
    ------
    returns : (N, 1, 28, 28); N = 50000 (train), 10000 (valid) or 10000 (test)
    """
    import torch

    _check_split(split, ("train", "valid", "test"))
    paths = fetch_dataset("binarized_mnist")
    bits = _read_amat(paths[f"binarized_mnist/binarized_mnist_{split}.amat"])
    return torch.from_numpy(bits.astype(np.float32)).reshape(-1, 1, 28, 28)


def fetch_cifar10(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 as float RGB images in [0, 1] and integer labels, in the batches' order.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
    9 truck.

    Parameters
    ----------
    split : {"train", "test"}
        50000 images (data_batch_1 to 5) or 10000 (test_batch).

    Shapes
    ------
    images : (N, 3, 32, 32) float32 in [0, 1]; labels : (N,) int64
    """
    import pickle
    import tarfile

    import torch

    _check_split(split, ("train", "test"))
    (archive,) = fetch_dataset("cifar10").values()
    members = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    images, labels = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for member in members:
            handle = tar.extractfile(f"cifar-10-batches-py/{member}")
            batch = pickle.load(handle, encoding="bytes")  # verified archive: trusted pickle
            images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    x = torch.from_numpy(np.concatenate(images).astype(np.float32) / 255.0)
    return x, torch.from_numpy(np.concatenate(labels))


def fetch_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled 8x8 digits (no download), as float images in [0, 1].

    x = count / 16, where count is the original 0-16 pixel count of the 4x4 blocks.

    Shapes
    ------
    images : (1797, 1, 8, 8) float32 in [0, 1]; labels : (1797,) int64 digits 0-9
    """
    import torch
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.from_numpy(np.asarray(bunch.images, dtype=np.float32) / 16.0).unsqueeze(1)
    return x, torch.from_numpy(np.asarray(bunch.target, dtype=np.int64))
