"""The judge's Fréchet distance against torchmetrics' (an independent implementation) and a closed form."""
from __future__ import annotations

import torch

from course.judges import frechet_distance


class _Features(torch.nn.Module):
    """A fixed random projection: torchmetrics takes any feature extractor with ``num_features``."""

    num_features = 8

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(12, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.reshape(len(x), -1).float())


def test_frechet_distance_matches_torchmetrics() -> None:
    from torchmetrics.image.fid import FrechetInceptionDistance

    torch.manual_seed(0)
    features = _Features()
    a, b = torch.rand(300, 3, 2, 2), 0.7 * torch.rand(300, 3, 2, 2) + 0.1
    reference = FrechetInceptionDistance(feature=features, normalize=True)
    reference.update(a, real=True)
    reference.update(b, real=False)
    with torch.no_grad():
        ours = frechet_distance(features(a), features(b))
    assert abs(ours - float(reference.compute())) <= 1e-4 * max(1.0, ours)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200_000, 3, generator=g, dtype=torch.float64)
    shift = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert abs(frechet_distance(x, x + shift) - float(shift @ shift)) < 1e-9
    assert frechet_distance(x, x) < 1e-6
