"""Graded checks for ``vae.py``: oracles from scipy and torch.distributions, quadrature, statistics."""
from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp, xlog1py, xlogy
from torch.distributions import Normal, kl_divergence

from grader.check import Check, Claim, Default, Example, Raises, Tol
from grader.facets import CheckFailure, expect_close
from course.vae import quadrature
from course.strategies import args, bits, floats, logvars, means, probabilities, seeded, tensor

F64 = torch.float64


def _rows(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape[0], -1)


def _kl_normal(mu_q, logvar_q, mu_p, logvar_p) -> np.ndarray:
    """KL(q || p) per row, by torch.distributions in float64."""
    mu_q, logvar_q = _rows(mu_q), _rows(logvar_q)
    t = lambda a: torch.tensor(np.broadcast_to(a, mu_q.shape), dtype=F64)  # noqa: E731
    q = Normal(t(mu_q), t(np.exp(0.5 * logvar_q)))
    p = Normal(t(mu_p), t(np.exp(0.5 * np.asarray(logvar_p))))
    return kl_divergence(q, p).sum(dim=1).numpy()


def _images(seed: int, *, probs: bool) -> torch.Tensor:
    x = torch.rand(2, 1, 28, 28, generator=seeded(seed), dtype=F64)
    return x.clamp(0.02, 0.98) if probs else (x > 0.5).to(F64)


# -- likelihoods ------------------------------------------------------------------------------

log_likelihood_bernoulli = Check(
    "vae.log_likelihood_bernoulli", points=2,
    inputs=args(mu=tensor("B", "D", elements=probabilities()), target=tensor("B", "D", elements=bits())),
    oracle=lambda mu, target: _rows(stats.bernoulli.logpmf(target, mu)).sum(axis=1),
    grad_wrt=("mu",),
    edges=(Example("image_shaped_inputs", ({"mu": _images(1, probs=True), "target": _images(2, probs=False)},)),),
    kills=("targets_swapped", "mean_over_dims", "sum_over_batch", "log_mu_twice"),
)

log_likelihood_normal = Check(
    "vae.log_likelihood_normal", points=2,
    inputs=args(mu=tensor("B", "D", elements=means()), logvar=tensor("B", "D", elements=logvars()),
                z=tensor("B", "D", elements=means())),
    oracle=lambda mu, logvar, z: _rows(stats.norm.logpdf(z, loc=mu, scale=np.exp(0.5 * logvar))).sum(axis=1),
    grad_wrt=("mu", "logvar", "z"),
    edges=(Example("image_shaped_inputs", ({"mu": _images(3, probs=True), "logvar": _images(4, probs=True) - 0.5,
                                            "z": _images(5, probs=True)},)),),
    kills=("missing_2pi", "logvar_as_log_std", "sign_flip", "no_flatten"),
)

log_mean_exp = Check(
    "vae.log_mean_exp", points=2,
    inputs=args(y=tensor("B", "K", elements=floats(-50, 50))),
    oracle=lambda y: logsumexp(y, axis=1) - math.log(y.shape[1]),  # an evaluation helper: no gradient asked
    # exp overflows / underflows at |y| ~ 1e4 without the shift: the reason the function exists,
    # so this edge weighs more than a convention
    edges=(Example("extreme_values", tuple({"y": torch.tensor([[1e4, 1e4 - 1, 1e4 - 3], [-1e4, -1e4 + 2, -1e4]], dtype=dtype)}
                                           for dtype in (torch.float32, F64)), weight=0.25),),
    kills=("no_max_shift", "sum_not_mean", "wrong_axis", "global_max"),
)

# -- KL divergences ---------------------------------------------------------------------------

_gaussians = args(
    mu_q=tensor("B", "D", elements=means()), logvar_q=tensor("B", "D", elements=logvars(lo=-3, hi=3)),
    mu_p=tensor("B", "D", elements=means()), logvar_p=tensor("B", "D", elements=logvars(lo=-3, hi=3)),
)
_q = {"mu_q": torch.tensor([[0.5, -1.0], [2.0, 0.0]]), "logvar_q": torch.tensor([[0.3, -0.7], [0.0, 1.0]])}

kl_gaussian_gaussian_analytic = Check(
    "vae.kl_gaussian_gaussian_analytic", points=2,
    inputs=_gaussians,
    oracle=_kl_normal,
    grad_wrt=("mu_q", "logvar_q", "mu_p", "logvar_p"),
    edges=(Example("prior_as_scalars", (
        {**_q, "mu_p": 0.0, "logvar_p": 0.0},  # Python numbers
        {**_q, "mu_p": torch.tensor(0.5), "logvar_p": torch.tensor(-0.2)},  # 0-d tensors
    ), weight=0.1),),
    kills=("q_and_p_swapped", "missing_half", "missing_minus_one", "multiplies_by_var_p", "mean_over_dims",
           "sign_flip"),
)


def _log_ratio_moments(mu_q, lv_q, mu_p, lv_p, n: int = 400_000) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of log q(z) - log p(z) under z ~ q, per row, simulated in NumPy."""
    mu_q, lv_q = np.asarray(mu_q, float), np.asarray(lv_q, float)
    mu_p, lv_p = (np.broadcast_to(np.asarray(a, float), mu_q.shape)[:, None] for a in (mu_p, lv_p))
    z = mu_q[:, None] + np.exp(0.5 * lv_q)[:, None] * np.random.default_rng(0).standard_normal(
        (mu_q.shape[0], n, mu_q.shape[1]))  # (B, n, D)
    ratio = stats.norm.logpdf(z, mu_q[:, None], np.exp(0.5 * lv_q)[:, None]) - stats.norm.logpdf(z, mu_p, np.exp(0.5 * lv_p))
    return ratio.sum(-1).mean(1), ratio.sum(-1).var(1)


def _kl_mc_converges(f) -> None:
    g = seeded(11)
    kwargs = {"mu_q": torch.randn(3, 2, generator=g, dtype=F64), "logvar_q": 0.5 * torch.randn(3, 2, generator=g, dtype=F64),
              "mu_p": torch.randn(3, 2, generator=g, dtype=F64), "logvar_p": 0.5 * torch.randn(3, 2, generator=g, dtype=F64)}
    S = 20_000
    exact = _kl_normal(*(v.numpy() for v in kwargs.values()))
    _, var = _log_ratio_moments(*(v.numpy() for v in kwargs.values()))
    out = f(**kwargs, num_samples=S)
    expect_close(f.target, out, exact, {**kwargs, "num_samples": S}, allowed=6 * np.sqrt(var / S) + 1e-6,
                 what="the mean over S samples must approach the closed form")


def _kl_mc_prior_as_numbers(f) -> None:
    kwargs = {**_q, "mu_p": 0.0, "logvar_p": 0.0, "num_samples": 20_000}
    exact = _kl_normal(_q["mu_q"].numpy(), _q["logvar_q"].numpy(), 0.0, 0.0)
    _, var = _log_ratio_moments(_q["mu_q"].numpy(), _q["logvar_q"].numpy(), 0.0, 0.0)
    out = f(**kwargs)
    expect_close(f.target, out, exact, kwargs, allowed=6 * np.sqrt(var / 20_000) + 1e-4,
                 what="float32 inputs, standard-normal prior given as numbers")


def _kl_mc_spread(f, S: int | None) -> None:
    """2000 identical rows: the estimates' variance is that of one draw over S (the default: 1)."""
    B, row = 2000, ([0.5, -0.3], [0.2, -0.4], [0.0, 0.1], [0.3, 0.0])
    mean1, var1 = _log_ratio_moments(*(np.array([r]) for r in row))
    kwargs = {name: torch.tensor([r] * B, dtype=F64) for name, r in zip(("mu_q", "logvar_q", "mu_p", "logvar_p"), row)}
    out = f(**kwargs) if S is None else f(**kwargs, num_samples=S)
    S = S or 1
    expect_close(f.target, out, np.full(B, mean1[0]), kwargs, allowed=np.full(B, np.inf),
                 what=f"{B} identical rows, one estimate each")
    out = torch.as_tensor(out, dtype=F64)
    spread, want = float(out.var()), float(var1[0]) / S
    if not 0.5 * want < spread < 2 * want:
        raise CheckFailure(
            f"{f.target}: {B} identical rows with num_samples={S} gave estimates of variance {spread:.4g}; "
            f"independent noise per example and per sample gives about {want:.4g}"
        )
    if abs(float(out.mean()) - mean1[0]) > 6 * math.sqrt(want / B):
        raise CheckFailure(f"{f.target}: the average over {B} rows is {float(out.mean()):.4f}, "
                           f"but the KL is {mean1[0]:.4f}: the estimator is biased")


def _kl_mc_independent_noise(f) -> None:
    for S in (1, 16):
        _kl_mc_spread(f, S)


def _kl_mc_default_one_sample(f) -> None:
    _kl_mc_spread(f, None)


kl_gaussian_gaussian_mc = Check(
    "vae.kl_gaussian_gaussian_mc", points=2,
    claims=(Claim("converges_to_closed_form", _kl_mc_converges),
            Claim("independent_noise", _kl_mc_independent_noise),
            Claim("prior_as_numbers", _kl_mc_prior_as_numbers, core=False, weight=0.1),
            Claim("default_num_samples", _kl_mc_default_one_sample, core=False)),
    reference=False,  # random: compared in distribution, not with the reference's draws
    kills=("std_from_logvar_not_half", "noise_shared_over_batch", "noise_shared_over_samples",
           "sign_flip", "sum_over_samples", "returns_analytic", "samples_from_p"),
)

# -- the loss and sampling --------------------------------------------------------------------


def _vae_loss(recon_x, x, mu, logvar, reconstruction="mse"):
    r, t = _rows(recon_x), _rows(x)
    rec = np.sum((r - t) ** 2) if reconstruction == "mse" else -np.sum(xlogy(t, r) + xlog1py(1 - t, -r))
    return rec + _kl_normal(mu, logvar, 0.0, 0.0).sum()


_loss_base = {"mu": torch.tensor([[0.1, -0.4]]), "logvar": torch.tensor([[0.2, 0.0]])}
VAE_loss_function = Check(
    "vae.VAE_loss_function", points=3,
    inputs=args(recon_x=tensor("B", "D", elements=probabilities(margin=0.01)), x=tensor("B", "D", elements=probabilities(margin=0)),
                mu=tensor("B", "L", elements=means()), logvar=tensor("B", "L", elements=logvars()),
                reconstruction=st.sampled_from(["mse", "bce"])),
    oracle=_vae_loss,
    tol={"float32": Tol(atol=1e-3, rtol=1e-4), "float64": Tol(atol=1e-6, rtol=1e-6)},
    grad_wrt=("recon_x", "mu", "logvar"),
    edges=(Example("image_shaped_x", tuple(  # images (B, 1, 28, 28) against flat reconstructions
        {"recon_x": _images(6, probs=True).reshape(2, 784), "x": _images(7, probs=False),
         "mu": torch.zeros(2, 3, dtype=F64), "logvar": torch.zeros(2, 3, dtype=F64), "reconstruction": r}
        for r in ("mse", "bce")), weight=0.1),),
    defaults=(Default("reconstruction", "mse"),),
    errors=(Raises("rejects_unknown_reconstruction", ValueError, tuple(
        {"recon_x": torch.full((1, 2), 0.5), "x": torch.ones(1, 2), **_loss_base, "reconstruction": bad}
        for bad in ("MSE", "l1"))),),
    kills=("mean_not_sum", "kl_sign_flip", "kl_missing_half", "mse_bce_swapped", "kl_mean_over_batch", "silent_unknown",
           "loss_as_python_float"),
)


def _reparameterize_distribution(f) -> None:
    n = 4000
    for dtype in (torch.float32, F64):
        mu = torch.tensor([-2.0, 0.5, 3.0], dtype=dtype)[:, None].expand(3, n).contiguous()
        logvar = torch.tensor([-1.0, 0.0, 1.5], dtype=dtype)[:, None].expand(3, n).contiguous()
        z = f(mu=mu, logvar=logvar)
        expect_close(f.target, z, mu.numpy(), {"mu": mu, "logvar": logvar}, allowed=np.full(mu.shape, np.inf))
        eps = ((z - mu) / torch.exp(0.5 * logvar)).double().numpy()  # (3, n), must be iid N(0, 1)
        for i, row in enumerate(eps):
            p = stats.kstest(row, "norm").pvalue
            if p < 1e-6:
                raise CheckFailure(f"{f.target}: (z - mu) / exp(0.5 logvar) is not standard normal in row {i} "
                                   f"(Kolmogorov-Smirnov p = {p:.2g}; mean {row.mean():.3f}, std {row.std():.3f})")
        corr = np.corrcoef(eps)[np.triu_indices(3, 1)]
        if np.abs(corr).max() > 6 / math.sqrt(n):
            raise CheckFailure(f"{f.target}: rows drew correlated noise (correlation {np.abs(corr).max():.3f}); "
                               "draw independent noise for every element")


def _reparameterize_gradient(f) -> None:
    g = seeded(5)
    mu, logvar = torch.randn(4, 3, generator=g, dtype=F64), torch.randn(4, 3, generator=g, dtype=F64)
    weight = torch.randn(4, 3, generator=g, dtype=F64)
    out = f.scenario("grad_of_weighted_sum", kwargs={"mu": mu, "logvar": logvar}, wrt=["mu", "logvar"], weight=weight)
    z, grads = out["output"], out["grads"]
    expect_close(f.target, z, mu.numpy(), {"mu": mu, "logvar": logvar}, allowed=np.full(mu.shape, np.inf))
    if torch.equal(z, mu):
        raise CheckFailure(f"{f.target}: returned mu itself; the sample is mu + exp(0.5 logvar) * eps with fresh noise eps")
    for name, want in (("mu", weight), ("logvar", weight * 0.5 * (z - mu))):
        if grads[name] is None:
            raise CheckFailure(f"{f.target}: no gradient reaches {name}; the sample must be a differentiable "
                               "function of mu and logvar (mu + exp(0.5 logvar) * eps)")
        expect_close(f.target, grads[name], want.numpy(), {"mu": mu, "logvar": logvar},
                     tol=Tol(atol=1e-9, rtol=1e-7), what=f"d(sum w z)/d{name}")


reparameterize = Check(
    "vae.reparameterize", points=1,
    claims=(Claim("standard_normal_noise", _reparameterize_distribution),
            Claim("gradient_flows", _reparameterize_gradient)),
    reference=False,
    kills=("std_is_exp_logvar", "no_noise", "uniform_noise", "detached_sample", "noise_shared_over_rows"),
)


def _iwll_against_quadrature(f, K: int | None) -> None:
    state = quadrature.make_state(seed=3)
    x = quadrature.sample_x(state, n=4, seed=4)
    exact = quadrature.exact_log_marginal(state, x)
    spread = quadrature.estimator_spread(state, x, K=K or 200, repeats=20, seed=5)
    out = f.scenario("vae_importance_sampling", state=state, dims=list(quadrature.DIMS), x=torch.from_numpy(x), K=K)
    expect_close(f.target, out, exact, {"x": torch.from_numpy(x), "K": K or "(default)"}, allowed=6 * spread + 0.02,
                 what="log p(x) of a 1-D-latent VAE, by quadrature")


def _iwll_exact(f) -> None:
    _iwll_against_quadrature(f, K=4000)


def _iwll_default_k(f) -> None:
    _iwll_against_quadrature(f, K=None)


importance_weighted_log_likelihood = Check(
    "vae.importance_weighted_log_likelihood", points=3,
    claims=(Claim("matches_exact_marginal", _iwll_exact), Claim("default_k", _iwll_default_k, core=False)),
    reference=False,
    kills=("elbo_not_iwae", "missing_prior", "sum_not_mean", "logits_as_probs", "prior_and_posterior_swapped"),
)
