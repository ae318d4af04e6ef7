"""Graded checks for ``autoencoder.py``: the model driven with our weights against NumPy, the corruption
process against scipy's distributions and binomial bounds, interpolation through a model we own."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats
from scipy.special import expit

from grader.check import Check, Claim, Raises, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize
from grader.scenarios import random_affine_layers
from course.strategies import seeded

F64 = torch.float64

# -- the model ------------------------------------------------------------------------------------

SIZES = [784, 1000, 500, 250, 2]
GAINS = [1.5, 1.5, 1.5, 3.0]  # tanh layers in their active range; codes often beyond +-1, outputs spread
_MODEL_TOL = Tol(atol=1e-4, rtol=1e-4)  # a float32 model of 2.8 M weights against float64 NumPy


def _chain(h: np.ndarray, layers: list, out=lambda a: a) -> np.ndarray:
    """tanh between the affine layers, ``out`` after the last one."""
    for i, (W, b) in enumerate(layers):
        h = h @ W + b
        h = np.tanh(h) if i < len(layers) - 1 else out(h)
    return h


def _float32(layers: list) -> list:
    return [(W.float().double().numpy(), b.float().double().numpy()) for W, b in layers]  # as the model holds them


_SEED = 71  # one set of weights for every probe: drawing them costs more than running the model


def _probe(f, init: dict) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """Drive ``Autoencoder(**init)`` with our weights; fail unless its parameters are the 16 we expect."""
    g = seeded(_SEED)
    x, z = torch.rand(4, 784, generator=g), 1.5 * torch.randn(4, 2, generator=g)
    out = f.scenario("autoencoder_probe", init=init, sizes=SIZES, gains=GAINS, seed=_SEED, x=x, z=z)
    call = f"Autoencoder({', '.join(f'{k}={v!r}' for k, v in init.items())})"
    odd = {name: role for name, role in out["roles"].items() if role in ("both", "neither")}
    if odd:
        raise CheckFailure(f"{call}: parameters {odd} are used by both encode and decode, or by neither; the encoder "
                           "and the decoder each have their own layers")
    wanted = [f"{half} layer {i} {kind}" for half in ("encoder", "decoder") for i in range(4) for kind in ("weight", "bias")]
    if sorted(out["slots"].values()) != sorted(wanted):
        shapes = ", ".join(f"{name} {tuple(s)} ({out['roles'][name]})" for name, s in out["shapes"].items()) or "none"
        raise CheckFailure(f"{call}: its parameters are {shapes}; expected an encoder 784-1000-500-250-2 and a decoder "
                           "2-250-500-1000-784, each layer a weight and a bias (nn.Linear or raw parameters)")
    return out, {"x": x, "z": z}, x.double().numpy(), z.double().numpy()


def _expect_model(f, init: dict, out_fn, parts: tuple[str, ...] = ("encode", "decode")) -> None:
    out, shown, x, z = _probe(f, init)
    encoder = _float32(random_affine_layers(SIZES, _SEED, GAINS))
    decoder = _float32(random_affine_layers(SIZES[::-1], _SEED + 1, GAINS))
    want = {"encode": _chain(x, encoder), "decode": _chain(z, decoder, out_fn),
            "forward": _chain(_chain(x, encoder), decoder, out_fn), "encode_images": _chain(x, encoder)}
    call = f"Autoencoder({', '.join(f'{k}={v!r}' for k, v in init.items())}) with our weights"
    for part in parts:
        expect_close(f.target, out[part], want[part], shown, tol=_MODEL_TOL,
                     what=f"{call}: {part.replace('_images', ' of (B, 1, 28, 28) images')}")


def _layer_sizes(f) -> None:
    _probe(f, {"out_activation": "sigmoid"})


def _sigmoid_model(f) -> None:
    _expect_model(f, {"out_activation": "sigmoid"}, out_fn=expit)


def _linear_model(f) -> None:
    _expect_model(f, {"out_activation": "linear"}, out_fn=lambda a: a, parts=("decode",))


def _none_is_linear(f) -> None:
    _expect_model(f, {"out_activation": None}, out_fn=lambda a: a, parts=("decode",))


def _default_sigmoid(f) -> None:
    _expect_model(f, {}, out_fn=expit, parts=("decode",))


def _forward_reconstructs(f) -> None:
    _expect_model(f, {"out_activation": "sigmoid"}, out_fn=expit, parts=("forward",))


def _flattens_images(f) -> None:
    _expect_model(f, {"out_activation": "sigmoid"}, out_fn=expit, parts=("encode_images",))


Autoencoder = Check(
    "autoencoder.Autoencoder", points=2,
    claims=(Claim("layer_sizes", _layer_sizes),
            Claim("tanh_layers_linear_code_sigmoid_out", _sigmoid_model),
            Claim("linear_out", _linear_model),
            Claim("forward_reconstructs", _forward_reconstructs, core=False, weight=0.1),
            Claim("none_is_linear", _none_is_linear, core=False),
            Claim("default_sigmoid", _default_sigmoid, core=False),
            Claim("flattens_images", _flattens_images, core=False)),
    errors=(Raises("rejects_unknown_out_activation", ValueError, ({"out_activation": "relu"}, {"out_activation": "tanh"})),),
    reference=False,
    kills=("tanh_into_code", "relu_layers", "narrow_layers", "no_sigmoid", "sigmoid_always", "no_bias_in_code_layer",
           "forward_returns_code", "unknown_is_linear"),
)

# -- the corruption process ------------------------------------------------------------------------

_N = 200 * 784  # elements per draw: a 1 % error in a spread or a rate is many standard errors


def _draws(f, x: torch.Tensor, kwargs: dict, calls: int = 1, seed: int = 81) -> list[np.ndarray]:
    out = f.scenario("corrupt_calls", x=x, kwargs=kwargs, calls=calls, seed=seed)
    arrays = []
    for y in out["outputs"]:
        if type(y) is not torch.Tensor or y.shape != x.shape:
            raise CheckFailure(f"corrupt(x {tuple(x.shape)}, {kwargs}) returned {summarize(y)}; expected a tensor shaped like x")
        arrays.append(y.double().numpy())
    return arrays


def _pixels(seed: int, lo: float, hi: float, dtype=torch.float32) -> torch.Tensor:
    return (lo + (hi - lo) * torch.rand(_N // 784, 784, generator=seeded(seed), dtype=F64)).to(dtype)


def _expect_normal(f, noise: np.ndarray, what: str) -> None:
    """``noise`` must look like iid N(0, 1): Kolmogorov-Smirnov on all of it, and no shared draws."""
    p = stats.kstest(noise.ravel(), "norm").pvalue
    if p < 1e-6:
        raise CheckFailure(f"{f.target}: {what}: (x~ - x) / noise_std is not standard normal (Kolmogorov-Smirnov "
                           f"p = {p:.2g}; mean {noise.mean():.3f}, std {noise.std():.3f})")


def _expect_rate(f, hits: np.ndarray, p: float, what: str) -> None:
    """A binomial rate within 6 standard errors (and 1e-3, for rates near 0)."""
    rate, sd = hits.mean(), math.sqrt(p * (1 - p) / hits.size)
    if abs(rate - p) > 6 * sd + 1e-3:
        raise CheckFailure(f"{f.target}: {what}: a rate of {rate:.4f} over {hits.size} elements, expected {p:.4f}")


def _gaussian_noise(f) -> None:
    for std in (0.05, 0.1):  # never reaches the clip: x within 0.3 .. 0.7
        x = _pixels(82, 0.3, 0.7)
        (y,) = _draws(f, x, {"noise_std": std, "drop_prob": 0.0})
        noise = (y - x.double().numpy()) / std
        _expect_normal(f, noise, f"noise_std={std}, drop_prob=0")
        for what, sample in (("rows", noise[:8]), ("columns", noise[:, :8].T)):
            corr = np.abs(np.corrcoef(sample)[np.triu_indices(8, 1)]).max()
            if corr > 6 / math.sqrt(sample.shape[1]):
                raise CheckFailure(f"{f.target}: the noise of different {what} is correlated ({corr:.3f}); draw "
                                   "independent noise for every element")


def _clipped(f) -> None:
    """x = 0.2 or 0.9, std 0.3: mass at exactly 0 and 1, truncated normals in between."""
    std, levels = 0.3, np.where(np.arange(784) % 2 == 0, 0.2, 0.9)
    x = torch.from_numpy(np.tile(levels, (_N // 784, 1))).float()
    (y,) = _draws(f, x, {"noise_std": std, "drop_prob": 0.0})
    if y.min() < 0 or y.max() > 1:
        raise CheckFailure(f"{f.target}: values from {y.min():.3f} to {y.max():.3f}; clip to [0, 1], the pixel range")
    for level in (0.2, 0.9):
        part = y[:, levels == level]
        _expect_rate(f, part == 0, stats.norm.cdf(-level / std), f"x = {level}, noise_std = {std}: clipped to 0")
        _expect_rate(f, part == 1, stats.norm.sf((1 - level) / std), f"x = {level}, noise_std = {std}: clipped to 1")
        inside = part[(part > 0) & (part < 1)]
        law = stats.truncnorm(-level / std, (1 - level) / std, loc=level, scale=std)
        p = stats.kstest(inside, law.cdf).pvalue
        if p < 1e-6:
            raise CheckFailure(f"{f.target}: x = {level}, noise_std = {std}: values inside (0, 1) are not x + noise "
                               f"(Kolmogorov-Smirnov p = {p:.2g} against the truncated normal)")


def _masking(f) -> None:
    std, x = 0.05, _pixels(83, 0.3, 0.7)
    for drop in (0.25, 0.6):
        (y,) = _draws(f, x, {"noise_std": std, "drop_prob": drop})
        masked = y == 0
        _expect_rate(f, masked, drop, f"drop_prob = {drop}: the share of elements set to 0")
        for axis, what in ((0, "columns"), (1, "rows")):  # counts per row / column: binomial if independent
            counts = masked.sum(axis)
            spread = counts.var() / (masked.shape[axis] * drop * (1 - drop))
            if not 0.5 < spread < 2.0:
                raise CheckFailure(f"{f.target}: drop_prob = {drop}: the masks of different {what} are not independent "
                                   f"(variance of the counts {spread:.2f} times the binomial one)")
        survivors = ~masked
        _expect_normal(f, (y[survivors] - x.double().numpy()[survivors]) / std,
                       f"drop_prob = {drop}: the elements that survive (they are not rescaled)")


def _fresh_noise(f) -> None:
    std, x = 0.1, _pixels(84, 0.3, 0.7)
    first, second = _draws(f, x, {"noise_std": std, "drop_prob": 0.3}, calls=2)
    both = (first != 0) & (second != 0)
    a, b = first[both] - x.numpy()[both], second[both] - x.numpy()[both]
    corr = np.corrcoef(a, b)[0, 1] if both.sum() > 2 and a.std() > 0 and b.std() > 0 else 1.0
    if np.array_equal(first, second) or abs(corr) > 6 / math.sqrt(both.sum()):
        raise CheckFailure(f"{f.target}: two calls on the same x drew the same noise (correlation {corr:.3f}); draw new "
                           "noise at every call")
    _expect_rate(f, (first == 0) & (second == 0), 0.3**2, "elements masked in both of two calls")


def _untouched(f) -> None:
    x = _pixels(85, 0.0, 1.0)
    out = f.scenario("corrupt_calls", x=x, kwargs={"noise_std": 0.3, "drop_prob": 0.2}, calls=1, seed=85)
    if out["x_changed"]:
        raise CheckFailure(f"{f.target}: changed x in place; return a corrupted copy and leave x as it was")


def _shape_and_dtype(f) -> None:
    x = _pixels(86, 0.0, 1.0, F64).reshape(-1, 1, 28, 28)
    y = f.scenario("corrupt_calls", x=x, kwargs={"noise_std": 0.3, "drop_prob": 0.2}, calls=1, seed=86)["outputs"][0]
    if type(y) is not torch.Tensor or y.shape != x.shape or y.dtype != F64:
        raise CheckFailure(f"{f.target}: images (B, 1, 28, 28) of float64 gave {summarize(y)}; keep x's shape and dtype")


def _defaults(f) -> None:
    x = torch.full((_N // 784, 784), 0.5)
    (y,) = _draws(f, x, {})
    for edge, hits in (("0", y == 0), ("1", y == 1)):
        _expect_rate(f, hits, stats.norm.cdf(-1.0), f"called without noise_std and drop_prob on x = 0.5: clipped to {edge} "
                                                    "(the handout's noise_std=0.5, drop_prob=0.0)")


corrupt = Check(
    "autoencoder.corrupt", points=1,
    claims=(Claim("gaussian_noise", _gaussian_noise),
            Claim("clipped_to_pixel_range", _clipped),
            Claim("masking", _masking),
            Claim("fresh_noise_each_call", _fresh_noise),
            Claim("input_untouched", _untouched, core=False, weight=0.1),
            Claim("keeps_shape_and_dtype", _shape_and_dtype, core=False),
            Claim("default_noise_and_masking", _defaults, core=False)),
    reference=False,  # random: judged in distribution
    kills=("variance_not_std", "no_clip", "clip_to_input_min_max", "inverted_dropout", "keep_prob_swapped",
           "same_noise_every_call", "noise_shared_over_batch", "mask_before_noise", "in_place", "uniform_noise"),
)

# -- interpolation ---------------------------------------------------------------------------------


def _code_model(seed: int) -> dict[str, torch.Tensor]:
    g = seeded(seed)
    return {"A": torch.randn(784, 2, generator=g, dtype=F64) / 10, "a": torch.randn(2, generator=g, dtype=F64),
            "B": 2 * torch.randn(2, 784, generator=g, dtype=F64), "c": torch.randn(784, generator=g, dtype=F64)}


def _line(model: dict, x1: np.ndarray, x2: np.ndarray, steps: int) -> np.ndarray:
    """decode((1 - t) z1 + t z2) for t = 0 .. 1 in ``steps`` points, through the model of ``_code_model``."""
    A, a, B, c = (model[k].numpy() for k in "AaBc")
    z1, z2 = (2 * np.tanh(v.reshape(784) @ A + a) for v in (x1, x2))
    t = np.linspace(0, 1, steps)[:, None]
    return expit(((1 - t) * z1 + t * z2) @ B + c)


def _interpolations(f, shape: tuple[int, ...]):
    for i, steps in enumerate((2, 5, 9)):
        model, g = _code_model(90 + i), seeded(95 + i)
        x1, x2 = (torch.rand(784, generator=g, dtype=F64).reshape(shape) for _ in range(2))
        out = f.scenario("interpolate_with", model=model, x1=x1, x2=x2, steps=steps)
        yield out, _line(model, x1.numpy(), x2.numpy(), steps), {"x1": x1, "x2": x2, "steps": steps}


def _as_rows(out, want: np.ndarray):
    """The result as (steps, 784) when it holds that many values: its exact shape is a clause's business."""
    if type(out) is torch.Tensor and out.numel() == want.size:
        return out.reshape(want.shape)
    return out


def _straight_line(f) -> None:
    for out, want, shown in _interpolations(f, (784,)):
        expect_close(f.target, _as_rows(out, want), want, shown, tol=Tol(atol=1e-6, rtol=1e-6),
                     what="decode((1 - t) encode(x1) + t encode(x2)), t = linspace(0, 1, steps): the first row "
                          "reconstructs x1, the last x2")


def _single_images(f) -> None:
    for out, want, shown in _interpolations(f, (1, 28, 28)):
        expect_close(f.target, _as_rows(out, want), want, shown, tol=Tol(atol=1e-6, rtol=1e-6),
                     what="x1 and x2 given as (1, 28, 28) images")


def _returns_rows(f) -> None:
    for out, want, shown in _interpolations(f, (784,)):
        if type(out) is not torch.Tensor or tuple(out.shape) != want.shape:
            raise CheckFailure(f"{f.target}: returned {summarize(out)}; expected {want.shape}, one flattened image per step")


interpolate = Check(
    "autoencoder.interpolate", points=1,
    claims=(Claim("straight_line_in_code_space", _straight_line),
            Claim("single_images_as_28_by_28", _single_images, core=False, weight=0.1),
            Claim("returns_steps_by_784", _returns_rows, core=False)),
    reference=False,
    kills=("mixes_images", "mixes_reconstructions", "mixes_pixels", "endpoint_excluded", "reversed", "returns_codes"),
)
