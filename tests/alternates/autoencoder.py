"""Correct autoencoder.py code in other styles: raw (in, out) parameters, the decoder registered first,
torch.distributions and in-place samplers, lerp and matrix forms of the line."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Normal

from tests.alternates import alternate

AE, CO, IN = "autoencoder.Autoencoder", "autoencoder.corrupt", "autoencoder.interpolate"
SIZES = (784, 1000, 500, 250, 2)


@alternate(AE, "raw_parameters")
class _(nn.Module):
    def __init__(self, out_activation="sigmoid"):
        super().__init__()
        if out_activation not in ("sigmoid", "linear", None):
            raise ValueError(f"out_activation {out_activation!r}")
        self.sigmoid = out_activation == "sigmoid"
        chain = list(zip(SIZES, SIZES[1:])) + list(zip(SIZES[::-1], SIZES[::-1][1:]))
        self.weights = nn.ParameterList([nn.Parameter(torch.randn(a, b) * a**-0.5) for a, b in chain])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(b)) for _, b in chain])

    def _run(self, h, layers):
        for k, i in enumerate(layers):
            h = h @ self.weights[i] + self.biases[i]
            if k < len(layers) - 1:
                h = torch.tanh(h)
        return h

    def encode(self, x):
        return self._run(x.flatten(1), range(4))

    def decode(self, z):
        out = self._run(z, range(4, 8))
        return torch.sigmoid(out) if self.sigmoid else out

    def forward(self, x):
        return self.decode(self.encode(x))


@alternate(AE, "decoder_first_functional")
class _(nn.Module):
    def __init__(self, out_activation="sigmoid"):
        super().__init__()
        outs = {"sigmoid": torch.sigmoid, "linear": lambda h: h, None: lambda h: h}
        if out_activation not in outs:
            raise ValueError("out_activation must be 'sigmoid', 'linear' or None")
        self.out = outs[out_activation]
        self.dec = nn.ModuleList(nn.Linear(a, b) for a, b in zip(SIZES[::-1], SIZES[::-1][1:]))  # registered first
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(SIZES, SIZES[1:]))

    @staticmethod
    def _through(h, layers):
        for layer in layers[:-1]:
            h = torch.tanh(F.linear(h, layer.weight, layer.bias))
        return layers[-1](h)

    def encode(self, x):
        return self._through(x.view(x.size(0), -1), self.enc)

    def decode(self, z):
        return self.out(self._through(z, self.dec))

    def forward(self, x):
        return self.decode(self.encode(x))


@alternate(AE, "written_out")
class _(nn.Module):
    def __init__(self, out_activation="sigmoid"):
        super().__init__()
        if out_activation == "sigmoid":
            last = nn.Sigmoid()
        elif out_activation in ("linear", None):
            last = nn.Identity()
        else:
            raise ValueError(out_activation)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 1000), nn.Tanh(), nn.Linear(1000, 500), nn.Tanh(),
                                     nn.Linear(500, 250), nn.Tanh(), nn.Linear(250, 2))
        self.decoder = nn.Sequential(nn.Linear(2, 250), nn.Tanh(), nn.Linear(250, 500), nn.Tanh(),
                                     nn.Linear(500, 1000), nn.Tanh(), nn.Linear(1000, 784), last)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        z = self.encode(x)
        return self.decode(z)


@alternate(CO, "normal_and_bernoulli")
def _(x, noise_std=0.5, drop_prob=0.0):
    noisy = torch.clip(torch.normal(x, noise_std), 0.0, 1.0)
    return noisy * torch.bernoulli(torch.full_like(x, 1 - drop_prob))


@alternate(CO, "distributions")
def _(x, noise_std=0.5, drop_prob=0.0):
    noisy = Normal(x, torch.full_like(x, noise_std)).sample() if noise_std > 0 else x.clone()
    dropped = Bernoulli(probs=torch.full_like(x, drop_prob)).sample().bool()
    return torch.where(dropped, torch.zeros_like(x), noisy.clamp(0, 1))


@alternate(CO, "in_place_samplers_on_a_copy")
def _(x, noise_std=0.5, drop_prob=0.0):
    out = x.detach().clone()
    out.add_(torch.empty_like(x).normal_(0.0, 1.0), alpha=noise_std).clamp_(min=0.0, max=1.0)
    return out.masked_fill_(torch.empty_like(x).bernoulli_(drop_prob).bool(), 0.0)


@alternate(IN, "lerp_per_step")
def _(model, x1, x2, steps):
    z1, z2 = model.encode(x1.view(1, -1)), model.encode(x2.view(1, -1))
    rows = [model.decode(torch.lerp(z1, z2, float(t))) for t in torch.linspace(0, 1, steps)]
    return torch.cat(rows).view(steps, 784)


@alternate(IN, "mixing_matrix")
def _(model, x1, x2, steps):
    codes = model.encode(torch.cat([x1.reshape(1, -1), x2.reshape(1, -1)]))  # (2, L)
    t = torch.linspace(0, 1, steps, dtype=codes.dtype)
    return model.decode(torch.stack([1 - t, t], dim=1) @ codes).flatten(1)


@alternate(IN, "no_grad_arange")
@torch.no_grad()
def _(model, x1, x2, steps):
    z1 = model.encode(x1.flatten().unsqueeze(0))[0]
    z2 = model.encode(x2.flatten().unsqueeze(0))[0]
    t = torch.arange(steps, dtype=z1.dtype)[:, None] / (steps - 1)
    return model.decode(z1 + t * (z2 - z1))
