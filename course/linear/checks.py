"""Graded checks for ``linear.py``: finite differences, scipy's softmax, classifiers driven with our
weights and differentiated by hand, accuracy counted by hand on our own loader."""
from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import softmax

from grader.check import Check, Claim, Example, Raises, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize
from course.linear.network import CLASSES, PIXELS, PROBS_TOL, expect_network, probe
from course.strategies import args, dtypes, floats, seeded, tensor

F64 = torch.float64

# -- the autograd check -----------------------------------------------------------------------


def _squared_error_gradient(X: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/dw ||Xw - y||^2 by central differences: exact for a quadratic at any step, so the step is 1."""
    def loss(v: np.ndarray) -> float:
        return float(np.sum((X @ v - y) ** 2))

    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        step = np.zeros_like(w)
        step[i] = 1.0
        grad[i] = (loss(w + step) - loss(w - step)) / 2
    return grad


_least_squares = args(dims={"n": st.integers(2, 7), "d": st.integers(1, 4)},  # n >= 2: a mean would show
                      X=tensor("n", "d", elements=floats(-2, 2)), w=tensor("d", elements=floats(-2, 2)),
                      y=tensor("n", elements=floats(-2, 2)))


def _column_case(seed: int, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    g = seeded(seed)
    return {"X": torch.randn(5, 3, generator=g, dtype=F64).to(dtype), "w": torch.randn(3, 1, generator=g, dtype=F64).to(dtype),
            "y": torch.randn(5, 1, generator=g, dtype=F64).to(dtype)}


_COLUMNS = Example("column_vectors", (_column_case(1, F64), _column_case(2, torch.float32)), weight=0.1)
# float32: sums of about a hundred products of size ~10 cancel down to small gradients
_GRADIENT_TOL = {"float32": Tol(atol=1e-3, rtol=1e-4), "float64": Tol(atol=1e-6, rtol=1e-6)}

closed_form_gradient = Check(
    "linear.closed_form_gradient", points=1,
    inputs=_least_squares, max_examples=15,
    oracle=_squared_error_gradient, tol=_GRADIENT_TOL,
    edges=(_COLUMNS,),
    kills=("mean_not_sum", "missing_factor_two", "sign_flip", "drops_target_term", "adds_target_term"),
)


def _autograd_untouched(f) -> None:
    case = _column_case(3, F64)
    X, w, y = case["X"], case["w"].reshape(3), case["y"].reshape(5)
    out = f.scenario("gradient_side_effects", X=X, w=w, y=y)
    names = ("X", "w", "y")
    problems = [f"changed the values of {n}" for n, changed in zip(names, out["changed"]) if changed]
    problems += [f"switched requires_grad on for the caller's {n}" for n, on in zip(names, out["requires_grad"]) if on]
    problems += [f"filled {n}.grad" for n, g in zip(names, out["grads"]) if g is not None]
    if out["grads"][3] is not None:
        problems.append("filled the .grad of a w that requires grad (a model's parameter would accumulate it)")
    if any(out["with_graph"]):
        problems.append("returned a tensor that carries a graph (use torch.autograd.grad without create_graph, or detach)")
    if problems:
        raise CheckFailure(f"{f.target}(X, w, y) must leave its inputs as they were and return a plain tensor: it "
                           + "; ".join(problems))
    want = _squared_error_gradient(X.numpy(), w.numpy(), y.numpy())
    for i, got in enumerate(out["results"]):
        expect_close(f.target, got, want, case, tol=_GRADIENT_TOL["float64"],
                     what=["the first call", "a second call on the same tensors", "a w that requires grad"][i])


autograd_gradient = Check(
    "linear.autograd_gradient", points=1,
    inputs=_least_squares, max_examples=15,
    oracle=_squared_error_gradient, tol=_GRADIENT_TOL,
    claims=(Claim("inputs_untouched", _autograd_untouched, core=False, weight=0.1),),
    edges=(_COLUMNS,),
    kills=("mean_loss", "norm_not_squared", "half_loss", "fills_callers_grad", "keeps_graph"),
)

# -- classifiers, driven with our weights ------------------------------------------------------

def _softmax_of_affine(f) -> None:
    expect_network(f, {}, [PIXELS, CLASSES], "linear", seed=31)


def _zero_initialised(f) -> None:
    out, shown, _, _ = probe(f, {}, [PIXELS, CLASSES], seed=32)
    nonzero = [name for name, t in out["initial"].items() if bool(t.abs().max() > 0)]
    if nonzero:
        raise CheckFailure(f"LogisticRegression(): {', '.join(nonzero)} start nonzero; the handout initialises "
                           "the weight and the bias to zero")
    expect_close(f.target, out["initial_probs"], np.full((6, CLASSES), 0.1), shown, tol=PROBS_TOL,
                 what="LogisticRegression() before training: all-zero parameters give 1/10 for every class")


def _named_weight_and_bias(f) -> None:
    out, _, _, _ = probe(f, {}, [PIXELS, CLASSES], seed=33)
    shapes = {name: tuple(t.shape) for name, t in out["initial"].items()}
    if shapes != {"weight": (PIXELS, CLASSES), "bias": (CLASSES,)}:
        raise CheckFailure(f"LogisticRegression() holds {shapes}; the handout names them weight (784, 10) and bias (10,)")


def _stable_for_large_logits(f) -> None:
    for shift in (200.0, -200.0):  # float32 exp overflows to inf, or underflows to 0, without the max shift
        out, shown, _, loaded = probe(f, {}, [PIXELS, CLASSES], seed=34, shift=shift)
        W, b = loaded[0]
        # float32 logits near 200 carry errors of ~1e-4 (addmm accumulates into the bias): a loose bound,
        # which an overflow (nan) misses all the same
        expect_close(f.target, out["probs"], softmax(shown["x"].double().numpy() @ W + (b - shift), axis=1), shown,
                     tol=Tol(atol=2e-3, rtol=0), what=f"every logit moved by {shift:+g}: softmax is invariant to the shift and must stay finite")


def _flattens_images(f) -> None:
    out, shown, _, loaded = probe(f, {}, [PIXELS, CLASSES], seed=35)
    W, b = loaded[0]
    expect_close(f.target, out["probs_images"], softmax(shown["x"].double().numpy() @ W + b, axis=1), shown,
                 tol=PROBS_TOL, what="images given as (B, 1, 28, 28) are flattened to (B, 784)")


LogisticRegression = Check(
    "linear.LogisticRegression", points=2,
    claims=(Claim("softmax_of_affine", _softmax_of_affine),
            Claim("zero_initialised", _zero_initialised, weight=0.2),
            Claim("stable_for_large_logits", _stable_for_large_logits, core=False, weight=0.15),
            Claim("flattens_images", _flattens_images, core=False),
            Claim("named_weight_and_bias", _named_weight_and_bias, core=False)),
    reference=False,
    kills=("random_init", "uses_nn_linear", "sigmoid_not_softmax", "log_probabilities", "softmax_over_batch",
           "naive_softmax", "no_bias"),
)


def _sigmoid_network(f) -> None:
    expect_network(f, {"hidden": 7, "activation": "sigmoid"}, [PIXELS, 7, CLASSES], "sigmoid", seed=41)


def _every_activation(f) -> None:
    for i, name in enumerate(("relu", "tanh", "softplus", "elu", "linear")):
        expect_network(f, {"hidden": 9, "activation": name}, [PIXELS, 9, CLASSES], name, seed=42 + i)


def _raw_parameters(f) -> None:
    out, _, _, _ = probe(f, {"hidden": 7, "activation": "tanh"}, [PIXELS, 7, CLASSES], seed=48)
    if out["linear_modules"]:
        raise CheckFailure(f"FeedForwardNet(hidden=7, activation='tanh') holds {out['linear_modules']} nn.Linear "
                           "modules; the handout builds it from raw nn.Parameters (x @ W + b)")


def _default_width_and_activation(f) -> None:
    expect_network(f, {}, [PIXELS, 128, CLASSES], "sigmoid", seed=49)


FeedForwardNet = Check(
    "linear.FeedForwardNet", points=2,
    claims=(Claim("sigmoid_network", _sigmoid_network),
            Claim("every_activation", _every_activation),
            Claim("raw_parameters", _raw_parameters, core=False, weight=0.1),
            Claim("default_width_and_activation", _default_width_and_activation, core=False)),
    errors=(Raises("rejects_unknown_activation", ValueError,
                   ({"hidden": 7, "activation": "swish"}, {"hidden": 7, "activation": "softmax"}), weight=0.1),),
    reference=False,
    kills=("uses_nn_linear", "activation_ignored", "activation_on_logits", "unknown_falls_back", "width_ignored",
           "elu_as_leaky_relu", "returns_logits"),
)

# -- the loss and the accuracy ------------------------------------------------------------------


@st.composite
def _class_probabilities(draw) -> dict:
    B, C, dtype = draw(st.integers(2, 5)), draw(st.integers(2, 10)), draw(dtypes())
    mass = draw(hnp.arrays(np.float64, (B, C), elements=floats(1, 3)))  # every p >= 1/28: clamps stay idle
    targets = draw(hnp.arrays(np.int64, (B,), elements=st.integers(0, C - 1)))
    return {"probs": torch.from_numpy(mass / mass.sum(1, keepdims=True)).to(dtype), "targets": torch.from_numpy(targets)}


def _mean_negative_log(probs: np.ndarray, targets: np.ndarray) -> float:
    return -sum(math.log(probs[b, int(t)]) for b, t in enumerate(targets)) / len(targets)  # by brute force


def _gradient_on_the_simplex(f) -> None:
    """Off the simplex the gradient is free (a loss may renormalise p); along it, it is -1/(B p[target])."""
    for seed in (61, 62):
        g = seeded(seed)
        probs = torch.softmax(torch.randn(4, 5, generator=g, dtype=F64), dim=1)
        targets = torch.randint(0, 5, (4,), generator=g)
        kwargs = {"probs": probs, "targets": targets}
        grads = f.scenario("grad_of_weighted_sum", kwargs=kwargs, wrt=["probs"], weight=torch.tensor(1.0, dtype=F64))["grads"]
        if grads["probs"] is None:
            raise CheckFailure(f"{f.target}: no gradient reaches probs; training backpropagates this loss, so compute "
                               "it with differentiable torch operations (no .item(), .numpy() or new tensors)")
        want = np.zeros((4, 5))
        want[np.arange(4), targets.numpy()] = -1 / (4 * probs.numpy()[np.arange(4), targets.numpy()])
        tangent = grads["probs"].numpy() - grads["probs"].numpy().mean(1, keepdims=True)
        expect_close(f.target, tangent, want - want.mean(1, keepdims=True), kwargs, tol=Tol(atol=1e-6, rtol=1e-4),
                     what="d loss / d probs, along the simplex (each row's mean removed)")


def _finite_at_zero(f) -> None:
    for dtype in (torch.float32, F64):
        kwargs = {"probs": torch.tensor([[0.0, 0.5, 0.5], [0.2, 0.8, 0.0]], dtype=dtype), "targets": torch.tensor([0, 1])}
        value = f(**kwargs)
        floor = (-math.log(1e-6) - math.log(0.8)) / 2  # with p clamped at 1e-6, the largest clamp allowed
        number = float(value) if type(value) is float or (type(value) is torch.Tensor and value.numel() == 1) else math.nan
        if not math.isfinite(number) or number < floor - 1e-3:
            raise CheckFailure(f"{f.target}: p[target] = 0 in the first row gave {summarize(value)} ({number:.6g}); "
                               f"clamp p at 1e-6 or below so that the loss is finite and at least {floor:.3f}")
        grads = f.scenario("grad_of_weighted_sum", kwargs=kwargs, wrt=["probs"], weight=torch.tensor(1.0, dtype=F64))["grads"]
        if grads["probs"] is not None and not bool(torch.isfinite(grads["probs"]).all()):
            raise CheckFailure(f"{f.target}: p[target] = 0 gave a gradient {grads['probs'].tolist()} that is not finite")


cross_entropy = Check(
    "linear.cross_entropy", points=1,
    inputs=_class_probabilities(), max_examples=15,
    oracle=_mean_negative_log,
    tol={"float32": Tol(atol=1e-4, rtol=1e-4), "float64": Tol(atol=5e-5, rtol=1e-6)},  # log(p + 1e-6) is safe too
    claims=(Claim("gradient_on_the_simplex", _gradient_on_the_simplex, weight=0.15),
            Claim("finite_at_zero_probability", _finite_at_zero, core=False, weight=0.2)),
    kills=("sum_not_mean", "probs_as_logits", "no_log", "unsafe_log", "mean_over_all_classes", "column_not_row_index"),
)


def _loader(seed: int, sizes: tuple[int, ...], correct: tuple[int, ...]) -> tuple[torch.Tensor, list, float]:
    """A scorer's weight and batches whose labels it gets right exactly ``correct[i]`` times in batch i."""
    g = seeded(seed)
    weight, batches = torch.randn(5, 4, generator=g, dtype=F64), []
    for size, right in zip(sizes, correct):
        x = torch.randn(size, 5, generator=g, dtype=F64)
        predicted = (x.numpy() @ weight.numpy()).argmax(1)  # counted here, by hand
        hits = np.random.default_rng(seed + size).permutation(size) < right
        batches.append([x, torch.from_numpy(np.where(hits, predicted, (predicted + 1) % 4))])
    return weight, batches, sum(correct) / sum(sizes)


_LOADERS = (((5, 5, 3), (5, 1, 0)), ((4, 7), (1, 7)))  # the mean of the batches' accuracies differs


def _evaluate_runs(f, training: bool):
    for i, (sizes, correct) in enumerate(_LOADERS):
        weight, batches, accuracy = _loader(51 + i, sizes, correct)
        yield f.scenario("evaluate_with", weight=weight, batches=batches, training=training), accuracy, sizes


def _fraction_correct(f) -> None:
    for training in (True, False):
        for out, accuracy, sizes in _evaluate_runs(f, training):
            expect_close(f.target, out["value"], accuracy, {"batches": sizes}, tol=Tol(atol=1e-6, rtol=0),
                         what=f"batches of {sizes} examples: correct ones counted over all {sum(sizes)} examples")


def _python_float(f) -> None:
    for out, _, _ in _evaluate_runs(f, True):
        if type(out["value"]) is not float:
            raise CheckFailure(f"{f.target} returned {summarize(out['value'])}; expected a Python float (use .item() or float())")


def _under_no_grad(f) -> None:
    for out, _, _ in _evaluate_runs(f, True):
        if any(out["grad_enabled"]):
            raise CheckFailure(f"{f.target}: the model was called with autograd on; wrap the loop in torch.no_grad()")


def _mode_restored(f) -> None:
    for training in (True, False):
        for out, _, _ in _evaluate_runs(f, training):
            if out["training_after"] != training:
                raise CheckFailure(f"{f.target}: a model in {'train' if training else 'eval'} mode was left in "
                                   f"{'train' if out['training_after'] else 'eval'} mode; restore the mode it came in")


evaluate = Check(
    "linear.evaluate", points=1,
    claims=(Claim("fraction_correct", _fraction_correct),
            Claim("under_no_grad", _under_no_grad, core=False, weight=0.1),
            Claim("mode_restored", _mode_restored, core=False, weight=0.1),
            Claim("returns_python_float", _python_float, core=False)),
    reference=False,
    kills=("mean_of_batch_accuracies", "counts_not_fraction", "argmax_over_batch", "leaves_eval_mode", "grad_enabled",
           "only_first_batch", "returns_tensor"),
)
