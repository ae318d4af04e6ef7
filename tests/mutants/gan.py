"""Wrong versions of the gan.py graded functions."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course.solutions.gan import apply_exponential_moving_average, jsd, make_losses, ogp, r1gp, w1
from tests.mutants import mutant

J, W, R1, GP = "gan.jsd", "gan.w1", "gan.r1gp", "gan.ogp"
LOSSES, EMA, STEP = "gan.make_losses", "gan.apply_exponential_moving_average", "gan.make_train_step"
LOG2 = math.log(2)


@mutant(J, "unstable_log_sigmoid")
def _(cp, cq):
    return LOG2 + 0.5 * torch.log(torch.sigmoid(cp)).mean() + 0.5 * torch.log(1 - torch.sigmoid(cq)).mean()


@mutant(J, "real_scored_negative")
def _(cp, cq):
    return LOG2 + 0.5 * F.logsigmoid(-cp).mean() + 0.5 * F.logsigmoid(cq).mean()


@mutant(J, "missing_half")
def _(cp, cq):
    return LOG2 + F.logsigmoid(cp).mean() + F.logsigmoid(-cq).mean()


@mutant(J, "missing_log2")
def _(cp, cq):
    return 0.5 * F.logsigmoid(cp).mean() + 0.5 * F.logsigmoid(-cq).mean()


@mutant(J, "sum_not_mean")
def _(cp, cq):
    return LOG2 + 0.5 * F.logsigmoid(cp).sum() + 0.5 * F.logsigmoid(-cq).sum()


@mutant(W, "swapped")
def _(cp, cq):
    return cq.mean() - cp.mean()


@mutant(W, "sum_not_mean")
def _(cp, cq):
    return cp.sum() - cq.sum()


@mutant(W, "absolute_value")
def _(cp, cq):
    return (cp.mean() - cq.mean()).abs()


@mutant(W, "mean_of_difference")
def _(cp, cq):
    return (cp - cq).mean()  # breaks when the batches differ in size


def _grad(x, critic, create_graph=True):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=create_graph)
    return g


def _flat(g):
    return g.reshape(g.shape[0], -1)


@mutant(R1, "on_fakes")
def _(p, cp, q, cq, critic):
    return _flat(_grad(q.reshape(p.shape), critic)).pow(2).sum(1).mean()


@mutant(R1, "not_squared")
def _(p, cp, q, cq, critic):
    return _flat(_grad(p, critic)).norm(dim=1).mean()


@mutant(R1, "sum_over_batch")
def _(p, cp, q, cq, critic):
    return _flat(_grad(p, critic)).pow(2).sum()


@mutant(R1, "no_create_graph")
def _(p, cp, q, cq, critic):
    return _flat(_grad(p, critic, create_graph=False)).pow(2).sum(1).mean()


@mutant(R1, "norm_over_last_dim")
def _(p, cp, q, cq, critic):
    return _grad(p, critic).norm(dim=-1).pow(2).mean()  # the handout's draft: wrong for images and (N,)


@mutant(R1, "uses_cp_graph")
def _(p, cp, q, cq, critic):
    (g,) = torch.autograd.grad(cp.sum(), p, create_graph=True)
    return _flat(g).pow(2).sum(1).mean()


def _gp(p, q, critic, *, eps_shape=None, centre=1.0, square_norm=False, create_graph=True, at=None):
    q = q.reshape(p.shape)
    eps = torch.rand(eps_shape or ((p.shape[0],) + (1,) * (p.dim() - 1)), dtype=p.dtype)
    x = at if at is not None else eps * p + (1 - eps) * q
    g = _flat(_grad(x, critic, create_graph))
    norm = g.pow(2).sum(1) if square_norm else g.norm(dim=1)
    return (norm - centre).pow(2).mean()


@mutant(GP, "one_eps_per_batch")
def _(p, cp, q, cq, critic):
    return _gp(p, q, critic, eps_shape=(1,) * p.dim())


@mutant(GP, "no_minus_one")
def _(p, cp, q, cq, critic):
    return _gp(p, q, critic, centre=0.0)


@mutant(GP, "squared_norm")
def _(p, cp, q, cq, critic):
    return _gp(p, q, critic, square_norm=True)


@mutant(GP, "eps_per_element")
def _(p, cp, q, cq, critic):
    return _gp(p, q, critic, eps_shape=tuple(p.shape))


@mutant(GP, "no_create_graph")
def _(p, cp, q, cq, critic):
    return _gp(p, q, critic, create_graph=False)


@mutant(GP, "at_reals_only")
def _(p, cp, q, cq, critic):
    return _gp(p, q, critic, at=p)


def _losses(loss_type, reg_type, reg_cf, *, sign=-1.0, pen_sign=1.0, use_cf=True, check=True, names=None, metric_sign=1.0):
    if check:
        assert reg_cf > 0
    div = (names or {"JSD": jsd, "W1": w1}).get(loss_type, w1)
    pen = {"GP": ogp, "R1": r1gp}.get(reg_type)
    if check and (loss_type not in ("JSD", "W1") or reg_type not in ("GP", "R1", None)):
        raise NotImplementedError(loss_type)

    def metric(p, q, critic):
        return metric_sign * div(critic(p), critic(q))

    def critic_loss(p, q, critic):
        cp, cq = critic(p), critic(q)
        loss = sign * div(cp, cq)
        return loss if pen is None else loss + pen_sign * (reg_cf if use_cf else 1.0) * pen(p, cp, q, cq, critic)

    return metric, critic_loss


@mutant(LOSSES, "critic_loss_sign_flipped")
def _(loss_type, reg_type=None, reg_cf=1.0):
    return _losses(loss_type, reg_type, reg_cf, sign=1.0)


@mutant(LOSSES, "penalty_subtracted")
def _(loss_type, reg_type=None, reg_cf=1.0):
    return _losses(loss_type, reg_type, reg_cf, pen_sign=-1.0)


@mutant(LOSSES, "reg_cf_ignored")
def _(loss_type, reg_type=None, reg_cf=1.0):
    return _losses(loss_type, reg_type, reg_cf, use_cf=False)


@mutant(LOSSES, "unknown_names_accepted")
def _(loss_type, reg_type=None, reg_cf=1.0):
    assert reg_cf > 0
    return _losses(loss_type.upper(), reg_type.upper() if reg_type else None, reg_cf, check=False)


@mutant(LOSSES, "reg_cf_unchecked")
def _(loss_type, reg_type=None, reg_cf=1.0):
    if loss_type not in ("JSD", "W1") or reg_type not in ("GP", "R1", None):
        raise NotImplementedError(loss_type)
    return _losses(loss_type, reg_type, reg_cf, check=False)


@mutant(LOSSES, "jsd_and_w1_swapped")
def _(loss_type, reg_type=None, reg_cf=1.0):
    return _losses(loss_type, reg_type, reg_cf, names={"JSD": w1, "W1": jsd})


@mutant(LOSSES, "metric_negated")
def _(loss_type, reg_type=None, reg_cf=1.0):
    return _losses(loss_type, reg_type, reg_cf, metric_sign=-1.0)


@mutant(EMA, "alpha_swapped")
def _(source, target, alpha=0.998):
    apply_exponential_moving_average(source, target, 1 - alpha)


@mutant(EMA, "positional_pairing")
def _(source, target, alpha=0.998):
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(alpha).add_((1 - alpha) * s)


@mutant(EMA, "not_in_place")
def _(source, target, alpha=0.998):
    theta = dict(source.named_parameters())
    for name, t in list(target.named_parameters()):
        setattr(target, name, torch.nn.Parameter(alpha * t.detach() + (1 - alpha) * theta[name].detach()))


@mutant(EMA, "averages_buffers")
def _(source, target, alpha=0.998):
    with torch.no_grad():  # the handout's draft: state_dict() holds buffers too
        t, s = target.state_dict(), source.state_dict()
        target.load_state_dict({k: alpha * t[k] + (1 - alpha) * s[k] for k in t})


@mutant(EMA, "outside_no_grad")
def _(source, target, alpha=0.998):
    theta = dict(source.named_parameters())
    for name, t in target.named_parameters():
        t.mul_(alpha).add_((1 - alpha) * theta[name])


def _make_step(loss_type, critic_inner_iters=1, reg_type=None, reg_cf=1.0, alpha_ema=None, *, one_real=False,
               detach=True, critic_zero=True, iters=None, ema_swap=False, gen_sign=1.0, returns="metric",
               reuse_fake=False, gen_zero=True):
    assert critic_inner_iters >= 1 and (alpha_ema is None or 0 < alpha_ema < 1)
    metric, critic_loss = make_losses(loss_type, reg_type, reg_cf)

    def train_step(train_data_iter, critic, critic_optim, generator, test_generator, generator_optim):
        real = next(train_data_iter) if one_real else None
        for _ in range(critic_inner_iters if iters is None else iters):
            if not one_real:
                real = next(train_data_iter)
            fake = generator()
            fake = fake.detach() if detach else fake
            if critic_zero:
                critic_optim.zero_grad()
            c_loss = critic_loss(real, fake, critic)
            c_loss.backward()
            critic_optim.step()
        real = real if one_real else next(train_data_iter)
        if gen_zero:
            generator_optim.zero_grad()
        loss = metric(real, fake if reuse_fake else generator(), critic)
        (gen_sign * loss).backward()
        generator_optim.step()
        if alpha_ema is not None:
            apply_exponential_moving_average(generator, test_generator, 1 - alpha_ema if ema_swap else alpha_ema)
        return (c_loss if returns == "critic_loss" else loss).detach()

    return train_step


def _step_mutant(name, **flags):
    @mutant(STEP, name)
    def _(loss_type, critic_inner_iters=1, reg_type=None, reg_cf=1.0, alpha_ema=None):
        return _make_step(loss_type, critic_inner_iters, reg_type, reg_cf, alpha_ema, **flags)


_step_mutant("reuses_one_real_batch", one_real=True)
_step_mutant("no_detach", detach=False)
_step_mutant("no_critic_zero_grad", critic_zero=False)
_step_mutant("single_critic_step", iters=1)
_step_mutant("ema_alpha_swapped", ema_swap=True)
_step_mutant("generator_maximises_metric", gen_sign=-1.0)
_step_mutant("returns_critic_loss", returns="critic_loss")
_step_mutant("fake_reused_for_generator", reuse_fake=True)
_step_mutant("no_generator_zero_grad", gen_zero=False)


def _with_metric(metric_of):
    """make_losses whose metric is replaced, the critic's loss kept."""
    def build(loss_type, reg_type=None, reg_cf=1.0):
        metric, critic_loss = make_losses(loss_type, reg_type, reg_cf)
        return metric_of(metric), critic_loss

    return build


def _sets_requires_grad(metric):
    def wrong(p, q, critic):
        q.requires_grad = True  # fine on a leaf batch; raises on fakes that carry the generator's graph
        return metric(p, q, critic)

    return wrong


mutant(LOSSES, "metric_sets_requires_grad")(_with_metric(_sets_requires_grad))
mutant(LOSSES, "metric_detaches_fakes")(_with_metric(lambda metric: lambda p, q, critic: metric(p, q.detach(), critic)))
