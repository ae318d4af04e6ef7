"""Graded checks for ``patch_rnn.py``: patches against explicit loops, the LSTM's state continued and
perturbed, the loss and the completion through small recurrent models computed by hand in NumPy."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from scipy.special import expit

from grader.check import Check, Claim, Example, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize
from course.strategies import dtypes, seeded

F64 = torch.float64
_EXACT = Tol(atol=1e-12, rtol=0.0)  # moving pixels rounds nothing; not 0, so that tolerance_spread.py can divide

# -- patches ----------------------------------------------------------------------------------------


# (patch k, value v, image row, image column) for every pixel: k = 4 row + col, v = 7 i + j, written out
_PIXELS = [(4 * row + col, 7 * i + j, 7 * row + i, 7 * col + j)
           for row in range(4) for col in range(4) for i in range(7) for j in range(7)]


def _patches(x: np.ndarray) -> np.ndarray:
    """Each pixel to its place in its patch, one at a time."""
    images, out = x.reshape(x.shape[0], 28, 28), np.zeros((x.shape[0], 16, 49))
    for k, v, r, c in _PIXELS:
        out[:, k, v] = images[:, r, c]
    return out


def _image(p: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_patches`, one pixel at a time."""
    out = np.zeros((p.shape[0], 28, 28))
    for k, v, r, c in _PIXELS:
        out[:, r, c] = p[:, k, v]
    return out


def _drawn(shape: tuple[int, ...], key: str):
    @st.composite
    def draw(draw) -> dict:
        B, seed, dtype = draw(st.integers(1, 3)), draw(st.integers(0, 2**16)), draw(dtypes())
        return {key: torch.rand(B, *shape, generator=seeded(seed), dtype=F64).to(dtype)}

    return draw()


_indexed = torch.arange(2 * 784, dtype=F64)  # pixel value = its index: every misplaced pixel shows

image_to_patches = Check(
    "patch_rnn.image_to_patches", points=0.5,
    inputs=_drawn((28, 28), "x"), max_examples=5,
    examples=({"x": _indexed.reshape(2, 28, 28)},),
    oracle=_patches, tol={"float32": _EXACT, "float64": _EXACT},
    edges=(Example("channel_dimension", ({"x": _indexed.reshape(2, 1, 28, 28)},)),
           Example("flat_images", ({"x": _indexed.reshape(2, 784)},))),
    kills=("naive_view", "column_major_grid", "transposed_patches", "unfold_without_transpose", "keeps_channel_dim"),
)

patches_to_image = Check(
    "patch_rnn.patches_to_image", points=0.5,
    inputs=_drawn((16, 49), "p"), max_examples=5,
    examples=({"p": _indexed.reshape(2, 16, 49)},),
    oracle=_image, tol={"float32": _EXACT, "float64": _EXACT},
    kills=("naive_view", "column_major_grid", "transposed_patches", "adds_channel_dim", "transposed_image"),
)

# -- the LSTM ------------------------------------------------------------------------------------

_LSTM_TOL = Tol(atol=1e-5, rtol=1e-4)  # the same float32 model run whole or in two parts


def _lstm(f, init: dict, seed: int = 101) -> tuple[dict, dict, str]:
    seq = torch.rand(4, 6, 49, generator=seeded(seed))
    out = f.scenario("patch_lstm_probe", init=init, seq=seq, split=4, row=2, step=3, seed=seed)
    call = f"PatchLSTM({', '.join(f'{k}={v!r}' for k, v in init.items())})"
    for part in ("whole", "first", "perturbed", "large"):
        if "returned" in out[part]:
            raise CheckFailure(f"{call}(seq) returned {out[part]['returned']}; expected (Y, state) with Y a tensor "
                               "(B, T, 49) and state the LSTM's (h, c)")
    return out, {"seq": seq}, call


def _expect_sizes(f, out: dict, call: str, hidden: int, layers: int) -> None:
    Y, state = out["whole"]["Y"], out["whole"]["state"]
    shapes = [tuple(t.shape) for t in state]
    if tuple(Y.shape) != (4, 6, 49) or shapes != [(layers, 4, hidden)] * 2:
        raise CheckFailure(f"{call} on seq (4, 6, 49) returned Y {tuple(Y.shape)} and a state of shapes {shapes}; "
                           f"expected Y (4, 6, 49) and (h, c) of ({layers}, 4, {hidden}) each, as nn.LSTM(batch_first=True)")


def _sizes_and_bounds(f) -> None:
    out, _, call = _lstm(f, {"hidden": 5, "layers": 3})
    _expect_sizes(f, out, call, hidden=5, layers=3)
    for part, what in (("whole", "seq"), ("large", "50 * seq")):
        Y = out[part]["Y"]
        if not bool(((Y >= 0) & (Y <= 1)).all()) or float(Y.std()) == 0:
            raise CheckFailure(f"{call}({what}): Y spans {float(Y.min()):.3g} .. {float(Y.max()):.3g}; a sigmoid bounds the "
                               "predicted pixels to (0, 1)")


def _continues_from_state(f) -> None:
    out, shown, call = _lstm(f, {"hidden": 5, "layers": 3}, seed=102)
    whole, first, second = out["whole"], out["first"], out.get("second", {})
    if "Y" not in second:
        raise CheckFailure(f"{call}(seq[:, 4:], state) returned {second.get('returned', 'nothing')}; expected (Y, state)")
    expect_close(f.target, torch.cat([first["Y"], second["Y"]], dim=1), whole["Y"].numpy(), shown, tol=_LSTM_TOL,
                 what="Y of seq[:, :4], then of seq[:, 4:] given the state it returned, against Y of the whole seq")
    for name, got, want in zip("hc", second["state"], whole["state"]):
        expect_close(f.target, got, want.numpy(), shown, tol=_LSTM_TOL, what=f"the final {name}, run in two parts or whole")


def _causal_per_sequence(f) -> None:
    out, _, call = _lstm(f, {"hidden": 5, "layers": 3}, seed=103)
    Y, moved = out["whole"]["Y"], out["perturbed"]["Y"]
    changed = (Y - moved).abs().amax(dim=2) > 0  # (B, T): where changing seq[2, 3] shows
    expected = torch.zeros_like(changed)
    expected[2, 3:] = True
    if not torch.equal(changed, expected):
        raise CheckFailure(f"{call}: changing patch 3 of sequence 2 changed Y at (sequence, step) "
                           f"{[tuple(i) for i in changed.nonzero().tolist()]}; it must change sequence 2 from step 3 on "
                           "and nothing else (one sequence per row, read left to right)")


def _default_sizes(f) -> None:
    out, _, call = _lstm(f, {})
    _expect_sizes(f, out, call, hidden=64, layers=2)


def _all_parameters_trained(f) -> None:
    out, _, call = _lstm(f, {"hidden": 5, "layers": 3})
    if out["untrained"]:
        raise CheckFailure(f"{call}: a loss on Y reaches no gradient in {out['untrained']}")


PatchLSTM = Check(
    "patch_rnn.PatchLSTM", points=1,
    claims=(Claim("sizes_and_sigmoid_bounds", _sizes_and_bounds),
            Claim("continues_from_state", _continues_from_state),
            Claim("causal_per_sequence", _causal_per_sequence),
            Claim("default_sizes", _default_sizes, core=False, weight=0.1),
            Claim("every_parameter_trained", _all_parameters_trained, core=False)),
    reference=False,
    kills=("no_sigmoid", "tanh_head", "not_batch_first", "state_ignored", "returns_outputs_as_state", "sizes_ignored",
           "bidirectional"),
)

# -- the loss -----------------------------------------------------------------------------------------


def _readout(seed: int, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    g = seeded(seed)
    return {"W": (torch.randn(49, 49, generator=g, dtype=F64) / 7).to(dtype), "c": (0.3 * torch.randn(49, generator=g, dtype=F64)).to(dtype),
            "X": torch.rand(3, 16, 49, generator=g, dtype=F64).to(dtype)}


def _loss_and_gradients(W: np.ndarray, c: np.ndarray, X: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """mean (Y[:, :15] - X[:, 1:])^2 for Y_t = sigmoid(X_t W + t c), and its gradients by hand."""
    Y = expit(X @ W + np.arange(16)[None, :, None] * c)
    diff = Y[:, :15] - X[:, 1:]
    dY = np.zeros_like(Y)
    dY[:, :15] = 2 * diff / diff.size
    dZ = dY * Y * (1 - Y)
    return float((diff**2).mean()), np.einsum("btk,btj->kj", X, dZ), np.einsum("t,btj->j", np.arange(16.0), dZ)


def _next_patch_mse(f) -> None:
    for seed, dtype in ((111, F64), (112, torch.float32)):
        case = _readout(seed, dtype)
        loss, _, _ = _loss_and_gradients(*(case[k].double().numpy() for k in ("W", "c", "X")))
        out = f.scenario("patch_loss_with", **case)
        tol = Tol(atol=1e-9, rtol=1e-7) if dtype == F64 else Tol(atol=1e-6, rtol=1e-4)
        expect_close(f.target, out["loss"], loss, case, tol=tol,
                     what="Y, _ = model(X); mean over all elements of (Y[:, :15] - X[:, 1:])^2")


def _gradient_reaches_the_model(f) -> None:
    case = _readout(114, F64)
    _, dW, dc = _loss_and_gradients(*(case[k].numpy() for k in ("W", "c", "X")))
    grads = f.scenario("patch_loss_with", **case)["grads"]
    if grads["W"] is None:
        raise CheckFailure(f"{f.target}: the loss carries no gradient to the model's parameters; training "
                           "backpropagates it, so keep it a tensor computed from Y")
    for name, want in (("W", dW), ("c", dc)):
        expect_close(f.target, grads[name], want, case, tol=Tol(atol=1e-9, rtol=1e-6),
                     what=f"d loss / d model.{name}, against the gradient by hand")


def _returns_0d(f) -> None:
    loss = f.scenario("patch_loss_with", **_readout(113, F64))["loss"]
    if type(loss) is not torch.Tensor or loss.shape != ():
        raise CheckFailure(f"{f.target}: returned {summarize(loss)}; expected a 0-d tensor")


next_patch_loss = Check(
    "patch_rnn.next_patch_loss", points=1,
    claims=(Claim("mse_against_the_next_patch", _next_patch_mse),
            Claim("gradient_reaches_the_model", _gradient_reaches_the_model, weight=0.3),
            Claim("returns_0d_tensor", _returns_0d, core=False)),
    reference=False,
    kills=("predicts_the_current_patch", "compares_later_outputs", "sum_not_mean", "root_mean_square", "detached_loss",
           "binary_cross_entropy"),
)

# -- completion ---------------------------------------------------------------------------------------


def _recurrent(seed: int) -> dict[str, torch.Tensor]:
    """float32, as a trained PatchLSTM and MNIST patches are."""
    g = seeded(seed)
    return {"A": 0.5 * torch.randn(6, 6, generator=g), "B": torch.randn(49, 6, generator=g) / 4,
            "C": torch.randn(6, 49, generator=g), "d": 0.3 * torch.randn(49, generator=g)}


def _completed(weights: dict[str, torch.Tensor], top: np.ndarray) -> np.ndarray:
    """Feed the top patches, then each prediction, through h_t = tanh(h A + x B), y = sigmoid(h C + d)."""
    A, B, C, d = (weights[k].double().numpy() for k in "ABCd")
    h, sequence = np.zeros((top.shape[0], 6)), [top[:, t] for t in range(top.shape[1])]
    for t in range(15):
        h = np.tanh(h @ A + sequence[t] @ B)
        if t >= 7:
            sequence.append(expit(h @ C + d))  # the prediction of patch t + 1, fed back next
    return np.stack(sequence, axis=1)


def _completions(f):
    for seed in (121, 122):
        weights, top = _recurrent(seed), torch.rand(3, 8, 49, generator=seeded(seed + 10))
        yield f.scenario("complete_with", weights=weights, top=top), _completed(weights, top.double().numpy()), {"top": top}


def _keeps_the_top(f) -> None:
    for out, want, shown in _completions(f):
        got = out["output"]
        if type(got) is not torch.Tensor or got.ndim != 3 or got.shape[1] < 8:
            raise CheckFailure(f"{f.target}(model, top (3, 8, 49)) returned {summarize(got)}; expected (3, 16, 49)")
        expect_close(f.target, got[:, :8], want[:, :8], shown, tol=_EXACT, what="the first 8 patches are top, as given")


def _feeds_its_predictions(f) -> None:
    for out, want, shown in _completions(f):
        fed = [tuple(t.shape) for t in out["fed"]]
        expect_close(f.target, out["output"], want, shown, tol=Tol(atol=1e-5, rtol=1e-5),
                     what=f"patches 8..15 of a recurrent model of ours, each prediction fed back with the state "
                          f"(your calls fed it {fed})")


def _under_no_grad(f) -> None:
    for out, _, _ in _completions(f):
        if any(out["grad_enabled"]):
            raise CheckFailure(f"{f.target}: the model ran with autograd on; wrap the completion in torch.no_grad()")


complete = Check(
    "patch_rnn.complete", points=2,
    claims=(Claim("keeps_the_top", _keeps_the_top, weight=0.2),
            Claim("feeds_its_own_predictions", _feeds_its_predictions),
            Claim("under_no_grad", _under_no_grad, core=False, weight=0.1)),
    reference=False,
    kills=("state_dropped", "repeats_last_top_patch", "feeds_zeros", "first_output_not_last", "returns_outputs_for_top",
           "seven_predictions", "grad_enabled"),
)
