"""Graded checks for ``gan.py``: closed forms, critics with known gradients, a replayed training step."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.integrate import quad
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from grader.check import Check, Claim, Example, Raises, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize
from course.gan import game
from course.strategies import args, floats, tensor

F64 = torch.float64
_EXACT = Tol(atol=1e-6, rtol=1e-6)  # float64 throughout; stabilisers such as sqrt(x + 1e-8) pass
_logits = args(cp=tensor("n", elements=floats(-30, 30)), cq=tensor("m", elements=floats(-30, 30)))
_huge = tuple({"cp": torch.tensor([1e3, -1e3, 2.0], dtype=dt), "cq": torch.tensor([-1e3, 1e3], dtype=dt)}
              for dt in (torch.float32, F64))  # sigmoid rounds to 0 or 1 here: only log-sigmoid stays finite


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


jsd = Check(
    "gan.jsd", points=1.75,
    inputs=_logits, max_examples=15,
    oracle=lambda cp, cq: math.log(2) + 0.5 * _log_sigmoid(cp).mean() + 0.5 * _log_sigmoid(-cq).mean(),
    grad_wrt=("cp", "cq"),
    claims=(Claim("optimal_critic_gives_jsd", lambda f: _jsd_optimal_critic(f)),),
    # the handout asks for log-sigmoid "for stability": the edge weighs more than a convention
    edges=(Example("extreme_logits", _huge, weight=0.2),),
    kills=("unstable_log_sigmoid", "real_scored_negative", "missing_half", "missing_log2", "sum_not_mean"),
)


def _jsd_optimal_critic(f) -> None:
    """On discrete P, Q the critic log(p/q) attains JSD(P, Q) exactly; other critics stay below."""
    n_p, n_q = np.array([5, 1, 3, 1]), np.array([1, 4, 2, 3])  # counts on four atoms
    p, q = n_p / n_p.sum(), n_q / n_q.sum()
    exact = jensenshannon(p, q) ** 2  # natural log
    for name, logit in (("optimal", np.log(p / q)), ("scaled", 0.5 * np.log(p / q)), ("shifted", np.log(p / q) + 1)):
        kwargs = {"cp": torch.tensor(np.repeat(logit, n_p)), "cq": torch.tensor(np.repeat(logit, n_q))}
        value = f(**kwargs)
        if name == "optimal":
            expect_close(f.target, value, exact, kwargs, tol=_EXACT, what="the optimal critic log(p/q) attains JSD(P, Q)")
        elif type(value) not in (torch.Tensor, float) or not float(value) < exact <= math.log(2):
            raise CheckFailure(f"{f.target}: a {name} critic gave {value!r:.60}, not below JSD(P, Q) = {exact:.6f}; "
                               "the estimate is maximised by the optimal critic and bounded by log 2")


def _w1_shift(f) -> None:
    """Q = P shifted by c: the 1-Lipschitz critic x -> x is optimal and the estimate is W1 = c."""
    x = np.random.default_rng(0).normal(size=7)
    kwargs = {"cp": torch.tensor(x), "cq": torch.tensor(x[:5] - 1.5)}
    expect_close(f.target, f(**kwargs), x.mean() - (x[:5] - 1.5).mean(), kwargs, tol=_EXACT,
                 what="mean(cp) - mean(cq) with batches of different sizes")
    kwargs = {"cp": torch.tensor(x), "cq": torch.tensor(x - 1.5)}
    expect_close(f.target, f(**kwargs), wasserstein_distance(x, x - 1.5), kwargs, tol=_EXACT,
                 what="W1 between a sample and its shift by 1.5, with the optimal critic x -> x")


w1 = Check(
    "gan.w1", points=1.75,
    inputs=_logits, max_examples=15,
    oracle=lambda cp, cq: cp.mean() - cq.mean(),
    grad_wrt=("cp", "cq"),
    claims=(Claim("closed_form_for_shifts", _w1_shift),),
    kills=("swapped", "sum_not_mean", "absolute_value", "mean_of_difference"),
)

# -- gradient penalties -----------------------------------------------------------------------

_SHAPES = (((5,), (5,)), ((4, 3), (4, 3)), ((3, 1, 2, 2), (3, 1, 2, 2)))  # real, fake; float64


def _penalty_case(f, reg_type: str, seed: int, shape, qshape, dtype=F64):
    p, q = game.rand(seed, *shape, dtype=dtype), game.rand(seed + 10, *qshape, dtype=dtype)
    params = game.with_grads(game.critic_params(seed + 20, int(np.prod(shape[1:])), linear=reg_type == "GP", dtype=dtype))
    out = f.scenario("gan_penalty", p=p, q=q, critic={k: v.detach() for k, v in params.items()}, seed=seed)
    return out, game.penalty(reg_type, params, p), params, p


def _penalty_values(reg_type: str, seed: int, cases=_SHAPES, dtype=F64):
    def claim(f) -> None:
        for i, (shape, qshape) in enumerate(cases):
            out, want, _, p = _penalty_case(f, reg_type, seed + i, shape, qshape, dtype)
            expect_close(f.target, out["value"], want.detach().numpy(), {"p": p},
                         tol=_EXACT if dtype == F64 else None, what=f"real {shape}, fake {qshape}, {dtype}")

    return claim


def _penalty_gradients(reg_type: str, seed: int):
    def claim(f) -> None:
        for i, (shape, qshape) in enumerate(_SHAPES):
            out, want, params, p = _penalty_case(f, reg_type, seed + i, shape, qshape)
            _expect_penalty_grads(f, out, want, params, p, f"real {shape}, fake {qshape}")

    return claim


def _expect_penalty_grads(f, out, want, params, p, what) -> None:
    if all(g is None for g in out["grads"].values()):
        raise CheckFailure(f"{f.target}: the penalty carries no gradient to the critic's parameters ({what}); "
                           "compute the input gradient with torch.autograd.grad(..., create_graph=True)")
    expected = game.grads(want, params)
    for name, g in out["grads"].items():
        got = torch.zeros_like(params[name]) if g is None else g
        expect_close(f.target, got, expected[name].numpy(), {"p": p}, tol=_EXACT, what=f"d penalty / d {name} ({what})")


def _penalty_claims(reg_type: str, seed: int) -> tuple[Claim, ...]:
    return (Claim("closed_form", _penalty_values(reg_type, seed)),
            Claim("parameter_gradients", _penalty_gradients(reg_type, seed)),
            Claim("float32_inputs", _penalty_values(reg_type, seed + 5, cases=((((4, 3), (4, 3))),), dtype=torch.float32),
                  core=False),
            # the dirac game passes real (1, 1) and fake (1,)
            Claim("fake_with_fewer_dims", _penalty_values(reg_type, seed + 7, cases=(((5, 1), (5,)),)), core=False))


r1gp = Check(
    "gan.r1gp", points=1.5,
    claims=_penalty_claims("R1", seed=1),
    reference=False,  # takes a critic: run through a scenario
    kills=("on_fakes", "not_squared", "sum_over_batch", "no_create_graph", "norm_over_last_dim", "uses_cp_graph"),
)


def _ogp_interpolates(f) -> None:
    """Identical image-shaped rows: with one eps per sample, the mean over N rows approaches E_eps g(eps)."""
    P, Q, N = np.array([2.0, 0.5]), np.array([-1.0, 1.5]), 4000
    g = lambda e: (np.linalg.norm(e * P + (1 - e) * Q) - 1) ** 2  # noqa: E731 - critic 0.5 ||x||^2
    mean = quad(g, 0, 1)[0]
    spread = math.sqrt(quad(lambda e: (g(e) - mean) ** 2, 0, 1)[0] / N)
    # (N, 1, 1, 2): one eps per pixel (e.g. shaped like p[:, :1]) is not one eps per sample
    p, q = torch.tensor(P).repeat(N, 1).reshape(N, 1, 1, 2), torch.tensor(Q).repeat(N, 1).reshape(N, 1, 1, 2)
    critic = {"a": torch.zeros(2, dtype=F64), "c": torch.zeros((), dtype=F64), "s": torch.ones(2, dtype=F64)}
    for seed in (1, 2, 3):
        out = f.scenario("gan_penalty", p=p, q=q, critic=critic, seed=seed)
        expect_close(f.target, out["value"], mean, {"p": p}, allowed=6 * spread,
                     what="x = eps p + (1 - eps) q with one eps ~ U[0, 1] per sample, critic 0.5 ||x||^2, "
                          f"{N} identical rows")


ogp = Check(
    "gan.ogp", points=1.5,
    claims=(*_penalty_claims("GP", seed=2), Claim("one_eps_per_sample", _ogp_interpolates)),
    reference=False,
    kills=("one_eps_per_batch", "no_minus_one", "squared_norm", "eps_per_element", "no_create_graph",
           "at_reals_only"),
)

# -- losses, EMA, the training step -------------------------------------------------------------


def _all_combinations(f) -> None:
    p, q = game.rand(3, 4, 2), game.rand(4, 4, 2)
    for loss_type in ("JSD", "W1"):
        for reg_type in ("GP", "R1", None):
            params = game.with_grads(game.critic_params(5, 2, linear=reg_type == "GP"))
            out = f.scenario("gan_losses", loss_type=loss_type, reg_type=reg_type, reg_cf=0.3, p=p, q=q,
                             critic={k: v.detach() for k, v in params.items()}, seed=0)
            what = f"make_losses({loss_type!r}, {reg_type!r}, 0.3)"
            metric = game.divergence(loss_type, game.critic(params, p), game.critic(params, q))
            expect_close(f.target, out["metric"], metric.detach().numpy(), {"p": p}, tol=_EXACT,
                         what=f"{what}: metric = divergence(critic(p), critic(q))")
            want = game.critic_loss(loss_type, reg_type, 0.3, params, p, q)
            expect_close(f.target, out["critic_loss"], want.detach().numpy(), {"p": p}, tol=_EXACT,
                         what=f"{what}: critic_loss = -divergence + reg_cf * penalty")
            _expect_penalty_grads(f, out, want, params, p, f"{what}: critic_loss")


def _generator_step(f) -> None:
    """As in the generator's step: fakes G(z) carry a graph to the generator's parameters."""
    p, noise = game.rand(6, 4, 2), game.rand(7, 4, 2)
    generator = {"weight": game.rand(8, 2, 2), "bias": game.rand(9, 2)}
    for loss_type in ("JSD", "W1"):
        params = game.critic_params(5, 2)
        out = f.scenario("gan_losses", loss_type=loss_type, reg_type="R1", reg_cf=0.3, p=p, q=noise,
                         critic=params, seed=0, generator=generator)
        theta = game.with_grads(generator)
        metric = game.divergence(loss_type, game.critic(params, p), game.critic(params, noise @ theta["weight"] + theta["bias"]))
        expected = game.grads(metric, theta)
        for name, got in out["generator_grads"].items():
            if got is None:
                raise CheckFailure(f"{f.target}: metric(p, G(z), critic) sent no gradient to the generator's {name}; "
                                   "the generator trains through the fake batch, so keep its graph")
            expect_close(f.target, got, expected[name].numpy(), {"p": p}, tol=_EXACT,
                         what=f"make_losses({loss_type!r}, 'R1', 0.3): d metric(p, G(z), critic) / d generator.{name}")


def _names(*calls) -> tuple[dict, ...]:
    return tuple(dict(zip(("loss_type", "reg_type", "reg_cf"), call)) for call in calls)


make_losses = Check(
    "gan.make_losses", points=3,
    claims=(Claim("all_six_combinations", _all_combinations), Claim("generator_step", _generator_step)),
    errors=(Raises("rejects_unknown_names", NotImplementedError, _names(("jsd", None, 1.0), ("JSD", "r1", 1.0),
                                                                        ("W1", "WGAN-GP", 1.0))),
            Raises("asserts_reg_cf_positive", AssertionError, _names(("JSD", None, 0.0), ("W1", "R1", -1.0))),
            Raises("reg_cf_checked_first", AssertionError, _names(("KL", None, 0.0)), weight=0.03)),
    reference=False,
    kills=("critic_loss_sign_flipped", "penalty_subtracted", "reg_cf_ignored", "unknown_names_accepted",
           "reg_cf_unchecked", "jsd_and_w1_swapped", "metric_negated", "metric_sets_requires_grad",
           "metric_detaches_fakes"),
)


def _ema(f, alpha: float, *, reorder: bool = False) -> dict:
    source = {"alpha": game.rand(1, 2, 3), "beta": game.rand(2, 2, 3)}
    average = {"alpha": game.rand(3, 2, 3), "beta": game.rand(4, 2, 3)}
    out = f.scenario("gan_ema", source=source, average=average, alpha=alpha, reorder=reorder)
    for name in source:
        expect_close(f.target, out["average"][name], (alpha * average[name] + (1 - alpha) * source[name]).numpy(),
                     {"x": average[name]}, tol=_EXACT,
                     what=f"parameter {name!r}, alpha = {alpha}" + (", target registering its parameters in another order"
                                                                    if reorder else ""))
    return out


def _ema_exact(f) -> None:
    for alpha in (0.9, 0.998):
        _ema(f, alpha)


def _ema_by_name(f) -> None:
    _ema(f, 0.9, reorder=True)


def _ema_in_place(f) -> None:
    out = _ema(f, 0.9)
    if not out["in_place"] or not out["history_free"]:
        raise CheckFailure(f"{f.target}: target's parameters were {'replaced' if not out['in_place'] else 'given autograd history'}; "
                           "update the existing tensors in place under torch.no_grad()")


def _ema_parameters_only(f) -> None:
    out = _ema(f, 0.9)
    if float(out["buffer"]) != 1.0:
        raise CheckFailure(f"{f.target}: a buffer of target changed to {float(out['buffer']):.4f}; average parameters only")


apply_exponential_moving_average = Check(
    "gan.apply_exponential_moving_average", points=1,
    claims=(Claim("exact_update", _ema_exact), Claim("in_place_without_history", _ema_in_place),
            Claim("paired_by_name", _ema_by_name, core=False, weight=0.1),
            Claim("parameters_only", _ema_parameters_only, core=False)),
    reference=False,
    kills=("alpha_swapped", "positional_pairing", "not_in_place", "averages_buffers", "outside_no_grad"),
)


_CONFIGS = (  # (make_train_step keyword arguments, linear critic?)
    ({"loss_type": "JSD", "critic_inner_iters": 2, "reg_type": "R1", "reg_cf": 0.5, "alpha_ema": 0.9}, False),
    ({"loss_type": "W1", "critic_inner_iters": 3, "reg_type": "GP", "reg_cf": 0.2, "alpha_ema": None}, True),
    ({"loss_type": "JSD", "critic_inner_iters": 1, "reg_type": None, "reg_cf": 1.0, "alpha_ema": 0.8}, False),
)
_STEPS, _LR, _MOMENTUM = 2, [0.1, 0.05], 0.5  # optimisers that hold state, as the handout's Adam does


def _train(f, config: dict, linear: bool) -> tuple[dict, dict]:
    """Two train steps on tiny models: the implementation's record and the replayed one.

    The replay follows the implementation's choice of batch order where both are correct.
    """
    setup = {"critic": game.critic_params(7, 2, linear=linear),
             "generator": {"weight": game.rand(8, 2, 2), "bias": game.rand(9, 2)},
             "test_generator": {"weight": game.rand(10, 2, 2), "bias": game.rand(11, 2)},
             "real": [game.rand(20 + i, 3, 2) for i in range(10)], "noises": [game.rand(40 + i, 3, 2) for i in range(10)]}
    out = f.scenario("gan_train_step", config=config, **setup, lr=_LR, momentum=_MOMENTUM, steps=_STEPS, seed=0)
    replays = [game.train_trajectory(config, setup["critic"], setup["generator"], setup["test_generator"],
                                     setup["real"], setup["noises"], _LR, _STEPS, _MOMENTUM, generator_batch_first=first)
               for first in (False, True)]
    return out, min(replays, key=lambda want: _distance(out, want))


def _distance(out: dict, want: dict) -> float:
    try:
        return sum(float((torch.as_tensor(out[model][step][name], dtype=F64) - value).abs().sum())
                   for model in ("critic", "generator") for step in range(_STEPS) for name, value in want[model][step].items())
    except (KeyError, IndexError, TypeError, RuntimeError, ValueError):
        return math.inf


def _trajectory(f) -> None:
    for config, linear in _CONFIGS:
        out, want = _train(f, config, linear)
        for step in range(_STEPS):
            for model in ("critic", "generator", "test_generator"):
                for name, value in want[model][step].items():
                    expect_close(f.target, out[model][step][name], value.numpy(), {"x": value}, tol=_EXACT,
                                 what=f"make_train_step(**{config}): {model}.{name} after train step {step + 1}, "
                                      f"SGD with momentum {_MOMENTUM}")


def _fresh_batches(f) -> None:
    for config, linear in _CONFIGS:
        out, _ = _train(f, config, linear)
        per_step = config["critic_inner_iters"] + 1
        want = [per_step * (k + 1) for k in range(_STEPS)]
        for what, got in (("real batches drawn from train_data_iter", out["drawn"]), ("calls of generator()", out["calls"])):
            if got != want:
                raise CheckFailure(f"{f.target}: after each of {_STEPS} train steps with critic_inner_iters="
                                   f"{config['critic_inner_iters']}, the {what} totalled {got}, expected {want}: "
                                   "one fresh batch per critic step and one for the generator step")


def _fakes_detached(f) -> None:
    for config, linear in _CONFIGS:
        out, _ = _train(f, config, linear)
        per_step = config["critic_inner_iters"] + 1
        want = [per_step * k + per_step - 1 for k in range(_STEPS)]  # only the generator step's fakes
        if sorted(set(out["grad_reached"])) != want:
            raise CheckFailure(f"{f.target}: gradients reached the outputs of generator() calls {sorted(set(out['grad_reached']))} "
                               f"(0-based), expected only {want}, the generator steps' fakes; detach the critic's fakes")


def _returns_metric(f) -> None:
    for config, linear in _CONFIGS:
        out, want = _train(f, config, linear)
        for step in range(_STEPS):
            expect_close(f.target, out["returned"][step], want["returned"][step].numpy(), {"x": want["returned"][step]},
                         tol=_EXACT, what=f"make_train_step(**{config}): the value returned by train step {step + 1}, "
                                          "the generator's metric")


def _returns_tensor(f) -> None:
    config, linear = _CONFIGS[0]
    out, _ = _train(f, config, linear)
    for value in out["returned"]:
        if type(value) is not torch.Tensor or value.shape != () or value.dtype != F64:
            raise CheckFailure(f"{f.target}: train_step returned {summarize(value)}, expected a 0-d float64 tensor "
                               "(the metric's own dtype, detached)")


make_train_step = Check(
    "gan.make_train_step", points=4.5,
    claims=(Claim("matches_replayed_trajectory", _trajectory), Claim("fresh_batches", _fresh_batches),
            Claim("returns_generator_metric", _returns_metric),
            Claim("critic_fakes_detached", _fakes_detached, core=False, weight=0.1),
            Claim("returns_0d_tensor", _returns_tensor, core=False)),
    errors=(Raises("asserts_arguments", AssertionError, tuple({"loss_type": "W1", **bad} for bad in (
        {"critic_inner_iters": 0}, {"alpha_ema": 1.0}, {"alpha_ema": 0.0}))),),
    reference=False,
    kills=("reuses_one_real_batch", "no_detach", "no_critic_zero_grad", "single_critic_step", "ema_alpha_swapped",
           "generator_maximises_metric", "returns_critic_loss", "fake_reused_for_generator", "no_generator_zero_grad"),
)
