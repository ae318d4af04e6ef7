"""The grader's own MNIST classifier: it judges generated digits (trusted side only).

Trained once from the verified MNIST files, seeded, then kept in the data cache
(``<cache>/judges/``) with its measured test accuracy beside it; every later grading loads
it. It must reach :data:`MIN_ACCURACY` on the 10 000 test digits, or it is not used. Its
penultimate layer (128 features) is the feature space of the Fréchet distance.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

MIN_ACCURACY = 0.98
VERSION = "mnist-cnn-v2"  # change it when the architecture or the training changes
SEED = 0
EPOCHS = 3


class Judge(nn.Module):
    """Two convolutions and two linear layers; inputs are images in [0, 1], ``(B, 784)`` or ``(B, 1, 28, 28)``."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.features_layer = nn.Sequential(nn.Linear(64 * 5 * 5, 128), nn.ReLU())
        self.head = nn.Linear(128, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_layer(self.conv(x.reshape(-1, 1, 28, 28).float()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def cache_folder() -> Path:
    """Where the grader's own trained models and samples are kept: ``<data cache>/judges``."""
    from data_fetch.registry import cache_dir

    return cache_dir() / "judges"


@torch.enable_grad()  # it may be asked for first where gradients are off (an evaluation)
def _train() -> tuple[Judge, float]:
    from data_fetch.vision import fetch_mnist

    torch.manual_seed(SEED)
    images, labels = fetch_mnist("train")
    model, order = Judge(), torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(EPOCHS):
        for index in torch.randperm(len(images), generator=order).split(128):
            loss = nn.functional.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval(), accuracy(model.eval())


@torch.no_grad()
def accuracy(model: Judge) -> float:
    from data_fetch.vision import fetch_mnist

    images, labels = fetch_mnist("test")
    predicted = torch.cat([model(batch).argmax(1) for batch in images.split(1000)])
    return float((predicted == labels).float().mean())


def judge() -> tuple[Judge, float]:
    """The cached classifier and its test accuracy; trained (about a minute) when absent.

    Raises
    ------
    grader.heavy.DataMissing
        When MNIST is not in the verified cache.
    RuntimeError
        When a trained classifier falls short of :data:`MIN_ACCURACY`.
    """
    from safetensors.torch import load_file, save_file

    from data_fetch.cache import locked
    from grader.heavy import cached

    cached("mnist")
    with locked(cache_folder()) as folder:
        weights, record = folder / f"{VERSION}.safetensors", folder / f"{VERSION}.json"
        if weights.is_file() and record.is_file():
            model = Judge()
            model.load_state_dict(load_file(weights))
            return model.eval(), json.loads(record.read_text())["test_accuracy"]
        model, measured = _train()
        if measured < MIN_ACCURACY:
            raise RuntimeError(f"the judge reached {measured:.4f} test accuracy, below {MIN_ACCURACY}")
        save_file(model.state_dict(), weights)
        record.write_text(json.dumps({"test_accuracy": measured, "seed": SEED, "epochs": EPOCHS}))
        return model, measured


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(N, F)``:
    ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½)."""
    from scipy import linalg

    x, y = a.double().numpy(), b.double().numpy()
    mu, nu = x.mean(0), y.mean(0)
    sa, sb = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    with warnings.catch_warnings():  # dead ReLU features make the covariances singular; the root is still fine
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(sa @ sb)
    return float(((mu - nu) ** 2).sum() + np.trace(sa + sb - 2 * np.real(root)))
