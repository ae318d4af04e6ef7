"""Wrong versions of the autoencoder.py graded class and functions."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course.solutions.autoencoder import Autoencoder
from tests.mutants import mutant

AE, CO, IN = "autoencoder.Autoencoder", "autoencoder.corrupt", "autoencoder.interpolate"


# -- the model ------------------------------------------------------------------------------------


def _mlp(sizes, act, *, last=None, bias=True):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias or i < len(sizes) - 2))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers, *([last()] if last else []))


class _AE(nn.Module):
    """An autoencoder built by ``_mlp``; mutants change the pieces."""

    sizes, act, code_act, code_bias = (784, 1000, 500, 250, 2), nn.Tanh, None, True

    def __init__(self, out_activation="sigmoid"):
        super().__init__()
        if out_activation not in ("sigmoid", "linear", None):
            raise ValueError(out_activation)
        self.encoder = _mlp(self.sizes, self.act, last=self.code_act, bias=self.code_bias)
        self.decoder = _mlp(self.sizes[::-1], self.act, last=nn.Sigmoid if out_activation == "sigmoid" else None)

    def encode(self, x):
        return self.encoder(x.reshape(x.shape[0], -1))

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


@mutant(AE, "tanh_into_code")
class _(_AE):
    code_act = nn.Tanh


@mutant(AE, "relu_layers")
class _(_AE):
    act = nn.ReLU


@mutant(AE, "narrow_layers")
class _(_AE):
    sizes = (784, 512, 256, 128, 2)


@mutant(AE, "no_bias_in_code_layer")
class _(_AE):
    code_bias = False


@mutant(AE, "no_sigmoid")
class _(Autoencoder):
    def __init__(self, out_activation="sigmoid"):
        super().__init__("linear" if out_activation == "sigmoid" else out_activation)


@mutant(AE, "sigmoid_always")
class _(Autoencoder):
    def __init__(self, out_activation="sigmoid"):
        super().__init__("sigmoid" if out_activation in (None, "linear") else out_activation)


@mutant(AE, "forward_returns_code")
class _(Autoencoder):
    def forward(self, x):
        return self.encode(x)


@mutant(AE, "unknown_is_linear")
class _(Autoencoder):
    def __init__(self, out_activation="sigmoid"):
        super().__init__(out_activation if out_activation == "sigmoid" else "linear")


# -- corruption ------------------------------------------------------------------------------------


def _corrupt(x, noise_std, drop_prob, *, noise=None, clip=(0.0, 1.0), rescale=False, keep_if_below=False, order="noise"):
    eps = torch.randn_like(x) if noise is None else noise
    u = torch.rand_like(x)
    keep = (u < drop_prob) if keep_if_below else (u >= drop_prob)
    if order == "mask":
        y = x * keep + noise_std * eps
    else:
        y = (x + noise_std * eps) * keep
    if rescale:
        y = y / (1 - drop_prob)
    return y.clamp(*clip) if clip else y


@mutant(CO, "variance_not_std")
def _(x, noise_std=0.5, drop_prob=0.0):
    return _corrupt(x, noise_std**2, drop_prob)


@mutant(CO, "no_clip")
def _(x, noise_std=0.5, drop_prob=0.0):
    return _corrupt(x, noise_std, drop_prob, clip=None)


@mutant(CO, "clip_to_input_min_max")
def _(x, noise_std=0.5, drop_prob=0.0):
    return (x + noise_std * torch.randn_like(x)).clamp(float(x.min()), float(x.max())) * (torch.rand_like(x) >= drop_prob)


@mutant(CO, "inverted_dropout")
def _(x, noise_std=0.5, drop_prob=0.0):
    return F.dropout((x + noise_std * torch.randn_like(x)).clamp(0, 1), p=drop_prob)


@mutant(CO, "keep_prob_swapped")
def _(x, noise_std=0.5, drop_prob=0.0):
    return _corrupt(x, noise_std, drop_prob, keep_if_below=True)


@mutant(CO, "same_noise_every_call")
def _(x, noise_std=0.5, drop_prob=0.0):
    torch.manual_seed(0)
    return _corrupt(x, noise_std, drop_prob)


@mutant(CO, "noise_shared_over_batch")
def _(x, noise_std=0.5, drop_prob=0.0):
    return _corrupt(x, noise_std, drop_prob, noise=torch.randn_like(x[:1]).expand_as(x))


@mutant(CO, "mask_before_noise")
def _(x, noise_std=0.5, drop_prob=0.0):
    return _corrupt(x, noise_std, drop_prob, order="mask")


@mutant(CO, "in_place")
def _(x, noise_std=0.5, drop_prob=0.0):
    x.add_(noise_std * torch.randn_like(x)).clamp_(0, 1)
    return x.mul_(torch.rand_like(x) >= drop_prob)


@mutant(CO, "uniform_noise")
def _(x, noise_std=0.5, drop_prob=0.0):
    return _corrupt(x, noise_std, drop_prob, noise=(torch.rand_like(x) - 0.5) * 12**0.5)  # right mean and variance


# -- interpolation ---------------------------------------------------------------------------------


def _codes(model, x1, x2):
    return model.encode(x1.reshape(1, -1)), model.encode(x2.reshape(1, -1))


def _t(steps, dtype):
    return torch.linspace(0, 1, steps, dtype=dtype).unsqueeze(1)


@mutant(IN, "mixes_images")
def _(model, x1, x2, steps):
    t = _t(steps, x1.dtype)
    return model.decode(model.encode((1 - t) * x1.reshape(1, -1) + t * x2.reshape(1, -1)))


@mutant(IN, "mixes_reconstructions")
def _(model, x1, x2, steps):
    z1, z2 = _codes(model, x1, x2)
    t = _t(steps, z1.dtype)
    return (1 - t) * model.decode(z1) + t * model.decode(z2)


@mutant(IN, "mixes_pixels")
def _(model, x1, x2, steps):
    t = _t(steps, x1.dtype)
    return (1 - t) * x1.reshape(1, -1) + t * x2.reshape(1, -1)


@mutant(IN, "endpoint_excluded")
def _(model, x1, x2, steps):
    z1, z2 = _codes(model, x1, x2)
    t = (torch.arange(steps, dtype=z1.dtype) / steps).unsqueeze(1)
    return model.decode((1 - t) * z1 + t * z2)


@mutant(IN, "reversed")
def _(model, x1, x2, steps):
    z1, z2 = _codes(model, x1, x2)
    t = _t(steps, z1.dtype)
    return model.decode(t * z1 + (1 - t) * z2)


@mutant(IN, "returns_codes")
def _(model, x1, x2, steps):
    z1, z2 = _codes(model, x1, x2)
    t = _t(steps, z1.dtype)
    return (1 - t) * z1 + t * z2
