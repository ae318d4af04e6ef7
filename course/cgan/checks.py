"""Graded checks for ``cgan.py``: BCE closed forms, one replayed optimizer step, index arithmetic."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from grader.check import Check, Claim, Default, Example, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize
from course.strategies import args, dtypes, probabilities, seeded, tensor

F64 = torch.float64
_EXACT = Tol(atol=1e-6, rtol=1e-6)


def _log(x: np.ndarray) -> np.ndarray:
    return np.log(x)


discriminator_loss = Check(
    "cgan.discriminator_loss", points=1,
    inputs=args(d_real=tensor("B", 1, elements=probabilities()), d_fake=tensor("m", 1, elements=probabilities())),
    max_examples=15,
    oracle=lambda d_real, d_fake: -0.5 * _log(d_real).mean() - 0.5 * np.log1p(-d_fake).mean(),
    grad_wrt=("d_real", "d_fake"),
    edges=(Example("flat_outputs", ({"d_real": torch.tensor([0.9, 0.2, 0.5]), "d_fake": torch.tensor([0.3, 0.99])},)),),
    kills=("missing_half", "real_fake_swapped", "sign_flip", "sum_not_mean", "fake_term_log_d"),
)

generator_loss = Check(
    "cgan.generator_loss", points=1,
    inputs=args(d_fake=tensor("B", 1, elements=probabilities())),
    examples=({"d_fake": torch.tensor([[0.3], [0.99], [0.01]], dtype=F64)},),
    max_examples=15,
    oracle=lambda d_fake: -0.5 * _log(d_fake).mean(),
    grad_wrt=("d_fake",),
    kills=("saturating", "missing_half", "sign_flip", "sum_not_mean"),
)

# -- one step of each player --------------------------------------------------------------------


def _rand(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=seeded(seed), dtype=F64)


def _setup(conditional: bool) -> dict:
    C = 3 if conditional else 0
    return {"discriminator": {"weight": _rand(1, 1, 3 + C), "bias": _rand(2, 1)}, "generator": _rand(3, 2, 3),
            "z": _rand(4, 4, 2), "real": _rand(5, 4, 3), "labels": torch.tensor([2, 0, 1, 2]) if conditional else None,
            "num_classes": C, "lr": 0.1, "stale": 0.7}


def _disc(params: dict, x: torch.Tensor, labels, C: int) -> torch.Tensor:
    if labels is not None:
        x = torch.cat([x, torch.eye(C, dtype=F64)[labels]], 1)
    return torch.sigmoid(x @ params["weight"].T + params["bias"])  # (B, 1)


def _replay(setup: dict, player: str) -> dict:
    """The loss before the step and the parameters after one plain SGD step, by autograd."""
    d = {k: v.clone().requires_grad_(player == "discriminator") for k, v in setup["discriminator"].items()}
    g = setup["generator"].clone().requires_grad_(player == "generator")
    fake = torch.tanh(setup["z"] @ g)
    labels, C = setup["labels"], setup["num_classes"]
    if player == "discriminator":
        loss = -0.5 * torch.log(_disc(d, setup["real"], labels, C)).mean() - 0.5 * torch.log(1 - _disc(d, fake, labels, C)).mean()
        step = dict(zip(d, torch.autograd.grad(loss, list(d.values()))))
        d = {k: v - setup["lr"] * step[k] for k, v in d.items()}
    else:
        loss = -0.5 * torch.log(_disc(d, fake, labels, C)).mean()
        g = g - setup["lr"] * torch.autograd.grad(loss, g)[0]
    return {"loss": loss.detach(), "discriminator": {k: v.detach() for k, v in d.items()}, "generator": g.detach()}


def _one_step(player: str, conditional: bool):
    def claim(f) -> None:
        setup = _setup(conditional)
        out = f.scenario("cgan_train", **setup)
        want = _replay(setup, player)
        what = f"train_{player}, {'conditional (labels given)' if conditional else 'unconditional'}, SGD lr 0.1"
        expect_close(f.target, out["loss"], want["loss"].numpy(), {"x": want["loss"]}, tol=_EXACT,
                     what=f"{what}: the returned loss, computed before the step")
        for name, value in want["discriminator"].items():
            expect_close(f.target, out["discriminator"][name], value.numpy(), {"x": value}, tol=_EXACT,
                         what=f"{what}: discriminator.{name} after the call (gradients zeroed first, one step)")
        expect_close(f.target, out["generator"], want["generator"].numpy(), {"x": want["generator"]}, tol=_EXACT,
                     what=f"{what}: the generator's weight after the call")

    return claim


def _generator_untouched(f) -> None:
    for conditional in (False, True):
        grad = f.scenario("cgan_train", **_setup(conditional))["generator_grad"]
        if grad is not None and float(grad.abs().max()) > 0:
            raise CheckFailure(f"{f.target}: the discriminator's step sent a gradient (max |g| {float(grad.abs().max()):.3g}) "
                               "to the generator; detach fake_data")


def _returns_tensor(f) -> None:
    loss = f.scenario("cgan_train", **_setup(False))["loss"]
    if type(loss) is not torch.Tensor or loss.shape != ():
        raise CheckFailure(f"{f.target}: returned {summarize(loss)}, expected the loss as a 0-d tensor")


train_discriminator = Check(
    "cgan.train_discriminator", points=2,
    claims=(Claim("unconditional_step", _one_step("discriminator", False)),
            Claim("conditional_step", _one_step("discriminator", True)),
            Claim("generator_untouched", _generator_untouched, core=False, weight=0.1),
            Claim("returns_0d_tensor", _returns_tensor, core=False)),
    reference=False,
    kills=("no_detach", "no_zero_grad", "returns_loss_after_step", "labels_only_on_real", "real_fake_swapped", "no_step"),
)

train_generator = Check(
    "cgan.train_generator", points=2,
    claims=(Claim("unconditional_step", _one_step("generator", False)),
            Claim("conditional_step", _one_step("generator", True)),
            Claim("returns_0d_tensor", _returns_tensor, core=False)),
    reference=False,
    kills=("saturating", "no_zero_grad", "labels_ignored", "sum_not_mean", "detached_fakes"),
)

# -- encodings and patches ----------------------------------------------------------------------


_LABELS = ((torch.tensor([3, 0, 9, 3]), 10), (torch.tensor([1, 3, 0]), 4), (torch.tensor([2]), 3))


def _one_hot_values(f) -> None:
    for labels, C in _LABELS:
        expect_close(f.target, f(labels=labels, num_classes=C), np.eye(C)[labels.numpy()], {"labels": labels},
                     tol=Tol(0.0, 0.0), what=f"one_hot(labels={labels.tolist()}, num_classes={C})")


def _one_hot_float32(f) -> None:
    for labels, C in _LABELS:
        out = f(labels=labels, num_classes=C)
        if type(out) is not torch.Tensor or out.dtype != torch.float32:
            raise CheckFailure(f"{f.target}(labels={labels.tolist()}, num_classes={C}) returned {summarize(out)}, "
                               "expected a float32 tensor")


def _one_hot_default(f) -> None:
    labels = torch.tensor([7, 0, 9])
    expect_close(f.target, f(labels=labels), np.eye(10)[labels.numpy()], {"labels": labels}, tol=Tol(0.0, 0.0),
                 what="called without num_classes: the handout's default num_classes=10")


one_hot = Check(
    "cgan.one_hot", points=0.5,
    claims=(Claim("rows_of_identity", _one_hot_values),
            Claim("float32", _one_hot_float32, core=False, weight=0.1),
            Claim("default_num_classes", _one_hot_default, core=False)),
    reference=False,  # integer inputs: the value facets compare dtypes with the first tensor's
    kills=("integer_dtype", "off_by_one", "ignores_num_classes", "transposed", "float64"),
)


def _with_labels(C: int | None = None):
    classes = st.integers(2, 10) if C is None else st.just(C)
    return classes.flatmap(lambda c: args(z=tensor("B", "D", elements=st.floats(-3, 3)),
                                          labels=tensor("B", elements=st.integers(0, c - 1).map(float)),
                                          num_classes=st.just(c))).map(lambda kw: {**kw, "labels": kw["labels"].long()})


conditional_input = Check(
    "cgan.conditional_input", points=0.5,
    inputs=_with_labels(), max_examples=15,
    oracle=lambda z, labels, num_classes: np.concatenate([z, np.eye(num_classes)[labels.astype(int)]], axis=1),
    defaults=(Default("num_classes", 10),),
    kills=("labels_first", "raw_labels", "ignores_num_classes", "float32_always"),
)


def _centre(size: int) -> list[int]:
    return [r for r in range(28) if 14 - size / 2 <= r < 14 + size / 2]  # 9..18 for size 10


def _patch(images: np.ndarray, size: int) -> np.ndarray:
    idx = _centre(size)
    return images.reshape(-1, 28, 28)[:, idx][:, :, idx].reshape(images.shape[0], -1)


def _images(draw_size: bool):
    @st.composite
    def draw(draw) -> dict:
        B, seed, dtype = draw(st.integers(1, 3)), draw(st.integers(0, 2**16)), draw(dtypes())
        out = {"images": torch.rand(B, 1, 28, 28, generator=seeded(seed), dtype=F64).to(dtype)}
        return {**out, "size": draw(st.sampled_from([2, 4, 6, 10, 12]))} if draw_size else out

    return draw()


_indexed = torch.arange(2 * 784, dtype=F64).reshape(2, 1, 28, 28)  # pixel value = its index
center_patch = Check(
    "cgan.center_patch", points=1,
    inputs=_images(draw_size=True), max_examples=10,
    examples=({"images": _indexed, "size": 10}, {"images": _indexed, "size": 4}),
    oracle=_patch,
    defaults=(Default("size", 10),),
    kills=("off_by_one", "not_flattened", "transposed", "corner_not_centre", "one_too_wide"),
)


@st.composite
def _imputation_inputs(draw) -> dict:
    B, seed, dtype = draw(st.integers(1, 3)), draw(st.integers(0, 2**16)), draw(dtypes())
    g = seeded(seed)
    return {"d_fake": (0.02 + 0.96 * torch.rand(B, 1, generator=g, dtype=F64)).to(dtype),
            "fake_images": (2 * torch.rand(B, 1, 28, 28, generator=g, dtype=F64) - 1).to(dtype),
            "condition": (2 * torch.rand(B, 100, generator=g, dtype=F64) - 1).to(dtype),
            "lam": draw(st.sampled_from([0.5, 2.0, 10.0]))}


imputation_generator_loss = Check(
    "cgan.imputation_generator_loss", points=2,
    inputs=_imputation_inputs(), max_examples=10,
    oracle=lambda d_fake, fake_images, condition, lam: (-0.5 * np.log(d_fake).mean()
                                                        + lam * ((_patch(fake_images, 10) - condition) ** 2).mean()),
    grad_wrt=("d_fake", "fake_images"),
    kills=("mse_sum_not_mean", "lam_ignored", "saturating_adversarial", "patch_off_by_one", "lam_on_adversarial"),
)
