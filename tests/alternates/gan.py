"""Correct gan.py functions in other styles: BCE with logits, state dicts, torch.func, loops."""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from tests.alternates import alternate


@alternate("gan.jsd", "bce_with_logits")
def _(cp, cq):
    real = F.binary_cross_entropy_with_logits(cp, torch.ones_like(cp))
    fake = F.binary_cross_entropy_with_logits(cq, torch.zeros_like(cq))
    return torch.log(torch.tensor(2.0, dtype=cp.dtype)) - 0.5 * (real + fake)


@alternate("gan.w1", "weighted_sums")
def _(cp, cq):
    return cp.sum() / cp.numel() - cq.sum() / cq.numel()


def _input_grads(x, critic):
    x = x.clone().detach().requires_grad_()
    out = critic(x)
    (g,) = torch.autograd.grad(out, x, grad_outputs=torch.ones_like(out), create_graph=True, retain_graph=True)
    return g.reshape(g.shape[0], -1)


@alternate("gan.r1gp", "grad_outputs")
def _(p, cp, q, cq, critic):
    return (_input_grads(p, critic) ** 2).sum(dim=1).mean()


@alternate("gan.ogp", "eps_on_fakes")
def _(p, cp, q, cq, critic):
    q = q.view_as(p)
    eps = torch.rand(p.shape[0], dtype=p.dtype).view(-1, *([1] * (p.dim() - 1)))
    x = eps * q + (1 - eps) * p  # the other endpoint carries eps: same distribution
    return ((torch.linalg.vector_norm(_input_grads(x, critic), dim=1) - 1) ** 2).mean()


@alternate("gan.make_losses", "branches")
def _(loss_type, reg_type=None, reg_cf=1.0):
    from course.solutions.gan import jsd, ogp, r1gp, w1

    assert reg_cf > 0
    if loss_type == "JSD":
        head = jsd
    elif loss_type == "W1":
        head = w1
    else:
        raise NotImplementedError(loss_type)
    if reg_type == "R1":
        reg = r1gp
    elif reg_type == "GP":
        reg = ogp
    elif reg_type is None:
        reg = lambda p, cp, q, cq, critic: 0.0  # noqa: E731 - the handout's own default
    else:
        raise NotImplementedError(reg_type)

    def metric(p, q, critic):
        return head(critic(p), critic(q))

    def critic_loss(p, q, critic):
        cp, cq = critic(p), critic(q)
        return -head(cp, cq) + reg_cf * reg(p, cp, q, cq, critic)

    return metric, critic_loss


@alternate("gan.apply_exponential_moving_average", "lerp")
def _(source, target, alpha=0.998):
    params = dict(source.named_parameters())
    with torch.no_grad():
        for name, t in target.named_parameters():
            t.lerp_(params[name], 1 - alpha)


@alternate("gan.make_train_step", "detach_and_zero_after")
def _(loss_type, critic_inner_iters=1, reg_type=None, reg_cf=1.0, alpha_ema=None):
    from course.solutions.gan import apply_exponential_moving_average, make_losses

    assert critic_inner_iters >= 1
    assert alpha_ema is None or (alpha_ema > 0 and alpha_ema < 1)
    metric, critic_loss = make_losses(loss_type, reg_type, reg_cf)

    def train_step(train_data_iter, critic, critic_optim, generator, test_generator, generator_optim):
        for _ in range(critic_inner_iters):
            fake_x = generator().detach()
            true_x = next(train_data_iter)
            critic_optim.zero_grad(set_to_none=False)
            critic_loss(true_x, fake_x, critic).backward()
            critic_optim.step()
        true_x = next(train_data_iter)
        loss = metric(true_x, generator(), critic)
        generator_optim.zero_grad()
        loss.backward()
        generator_optim.step()
        if alpha_ema:
            apply_exponential_moving_average(generator, test_generator, alpha=alpha_ema)
        return loss
    return train_step


# -- more styles: one per freedom a student has ------------------------------------------------

@alternate("gan.jsd", "softplus")
def _(cp, cq):
    # log sigmoid(x) = -softplus(-x), log(1 - sigmoid(x)) = -softplus(x)
    return math.log(2) - 0.5 * F.softplus(-cp).mean() - 0.5 * F.softplus(cq).mean()


@alternate("gan.jsd", "stable_log_sigmoid_float64")
def _(cp, cq):
    def log_sigmoid(x):  # log(sigmoid(x)) without overflow: min(x, 0) - log(1 + exp(-|x|))
        return torch.clamp(x, max=0) - torch.log1p(torch.exp(-x.abs()))

    cp64, cq64 = cp.double(), cq.double()
    value = math.log(2) + 0.5 * log_sigmoid(cp64).mean() + 0.5 * log_sigmoid(-cq64).mean()
    return value.to(cp.dtype)


@alternate("gan.w1", "float64_means")
def _(cp, cq):
    return (torch.mean(cp, dtype=torch.float64) - torch.mean(cq, dtype=torch.float64)).to(cp.dtype)


@alternate("gan.w1", "negated_critic_loss")
def _(cp, cq):
    critic_loss = cq.mean() - cp.mean()  # what a WGAN critic minimises
    return -critic_loss


@alternate("gan.r1gp", "variable_view")
def _(p, cp, q, cq, critic):
    x = torch.autograd.Variable(p.data.clone(), requires_grad=True)
    (grad,) = torch.autograd.grad(critic(x).sum(), [x], create_graph=True)
    return grad.view(grad.size(0), -1).pow(2).sum(1).mean()


@alternate("gan.r1gp", "norm_over_dims")
def _(p, cp, q, cq, critic):
    x = p.detach().clone()
    x.requires_grad_()
    out = critic(x)
    grad = torch.autograd.grad(outputs=out, inputs=x, grad_outputs=torch.ones_like(out), create_graph=True)[0]
    if grad.dim() == 1:  # scalar samples: the norm of a number is its absolute value
        return grad.pow(2).mean()
    dims = tuple(range(1, grad.dim()))
    return (grad.norm(2, dim=dims) ** 2).mean()



@alternate("gan.r1gp", "torch_func_vmap_grad")
def _(p, cp, q, cq, critic):
    def score(x):  # one sample in, one number out
        return critic(x.unsqueeze(0)).squeeze(0)

    grads = torch.func.vmap(torch.func.grad(score))(p.detach())  # stays differentiable w.r.t. the critic
    return grads.reshape(len(grads), -1).pow(2).sum(dim=1).mean()


@alternate("gan.ogp", "stabilised_sqrt")
def _(p, cp, q, cq, critic):
    q = q.reshape(p.shape)
    alpha = torch.rand(p.size(0), *([1] * (p.dim() - 1)), dtype=p.dtype, device=p.device)
    x = (alpha * p + (1 - alpha) * q).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    grad_norm = torch.sqrt(grad.reshape(grad.size(0), -1).pow(2).sum(dim=1) + 1e-12)  # finite gradient at 0
    return ((grad_norm - 1) ** 2).mean()

@alternate("gan.ogp", "uniform_expand")
def _(p, cp, q, cq, critic):
    q = q.reshape_as(p)
    n = p.size(0)
    eps = torch.empty(n, dtype=p.dtype, device=p.device).uniform_(0, 1)
    eps = eps.view(n, *([1] * (p.dim() - 1))).expand_as(p)
    x_hat = (eps * p + (1 - eps) * q).detach().requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    grad_norm = grad.reshape(n, -1).norm(2, dim=1)
    return ((grad_norm - 1) ** 2).mean()


@alternate("gan.ogp", "variable_norm_dims")
def _(p, cp, q, cq, critic):
    q = q.view(p.shape)
    eps_shape = [p.shape[0]] + [1] * (p.dim() - 1)
    eps = torch.rand(eps_shape, dtype=p.dtype, device=p.device)
    interp = torch.autograd.Variable(q.data + eps * (p.data - q.data), requires_grad=True)
    out = critic(interp)
    grad = torch.autograd.grad(out, interp, grad_outputs=torch.ones_like(out), create_graph=True, retain_graph=True)[0]
    norm = grad.abs() if grad.dim() == 1 else torch.linalg.vector_norm(grad, dim=tuple(range(1, grad.dim())))
    return torch.mean((norm - 1.0) ** 2)


def _div_and_penalty(loss_type, reg_type):
    from course.solutions.gan import jsd, ogp, r1gp, w1

    divergences = {"JSD": jsd, "W1": w1}
    penalties = {"GP": ogp, "R1": r1gp}
    if loss_type not in divergences or (reg_type is not None and reg_type not in penalties):
        raise NotImplementedError(f"unknown loss {loss_type!r} or regulariser {reg_type!r}")
    return divergences[loss_type], penalties.get(reg_type)


def _metric(div, p, q, critic):
    return div(critic(p), critic(q))


def _critic_loss(div, penalty, reg_cf, p, q, critic):
    cp, cq = critic(p), critic(q)
    loss = -div(cp, cq)
    if penalty is not None:
        loss = loss + reg_cf * penalty(p, cp, q, cq, critic)
    return loss


@alternate("gan.make_losses", "functools_partial")
def _(loss_type, reg_type=None, reg_cf=1.0):
    assert reg_cf > 0, "reg_cf must be positive"
    div, penalty = _div_and_penalty(loss_type, reg_type)
    return functools.partial(_metric, div), functools.partial(_critic_loss, div, penalty, reg_cf)


class _CriticLoss:
    def __init__(self, div, penalty, reg_cf):
        self.div, self.penalty, self.reg_cf = div, penalty, reg_cf

    def __call__(self, p, q, critic):
        cp, cq = critic(p), critic(q)
        reg = 0 if self.penalty is None else self.penalty(p, cp, q, cq, critic)
        return self.reg_cf * reg - self.div(cp, cq)


class _Metric:
    def __init__(self, div):
        self.div = div

    def __call__(self, p, q, critic):
        return self.div(critic(p), critic(q))


@alternate("gan.make_losses", "callable_classes")
def _(loss_type, reg_type=None, reg_cf=1.0):
    if not reg_cf > 0:
        raise AssertionError(f"reg_cf = {reg_cf}")
    if loss_type not in ("JSD", "W1"):
        raise NotImplementedError(loss_type)
    if reg_type not in ("GP", "R1", None):
        raise NotImplementedError(reg_type)
    div, penalty = _div_and_penalty(loss_type, reg_type)
    return _Metric(div), _CriticLoss(div, penalty, reg_cf)


@alternate("gan.apply_exponential_moving_average", "data_by_name")
def _(source, target, alpha=0.998):
    src = dict(source.named_parameters())
    for name, param in target.named_parameters():
        param.data.mul_(alpha).add_(src[name].data, alpha=1 - alpha)


@alternate("gan.apply_exponential_moving_average", "state_dict_copy")
@torch.no_grad()
def _(source, target, alpha=0.998):
    src = source.state_dict()
    for name, param in target.named_parameters():
        param.copy_(alpha * param + (1 - alpha) * src[name])


@alternate("gan.apply_exponential_moving_average", "zip_parameters")
def _(source, target, alpha=0.998):
    # the handout's test generator is a deepcopy of the generator: parameters in the same order
    with torch.no_grad():
        for avg, p in zip(target.parameters(), source.parameters()):
            avg.mul_(alpha).add_((1 - alpha) * p)


@alternate("gan.make_train_step", "inline_ema_freeze_critic")
def _(loss_type, critic_inner_iters=1, reg_type=None, reg_cf=1.0, alpha_ema=None):
    from course.solutions.gan import make_losses

    assert critic_inner_iters >= 1, "need at least one critic step"
    if alpha_ema is not None:
        assert 0 < alpha_ema < 1, "alpha_ema must lie in (0, 1)"
    metric, critic_loss = make_losses(loss_type, reg_type, reg_cf)

    def train_step(train_data_iter, critic, critic_optim, generator, test_generator, generator_optim):
        for _ in range(critic_inner_iters):
            x_real = next(iter(train_data_iter))
            with torch.no_grad():
                x_fake = generator()
            critic_optim.zero_grad(set_to_none=True)
            loss_c = critic_loss(x_real, x_fake, critic)
            loss_c.backward()
            critic_optim.step()
        for param in critic.parameters():  # the generator step does not need the critic's gradients
            param.requires_grad_(False)
        x_real = next(iter(train_data_iter))
        generator_optim.zero_grad(set_to_none=True)
        loss_g = metric(x_real, generator(), critic)
        loss_g.backward()
        generator_optim.step()
        for param in critic.parameters():
            param.requires_grad_(True)
        if alpha_ema is not None:
            with torch.no_grad():
                theta = dict(generator.named_parameters())
                for name, avg in test_generator.named_parameters():
                    avg.lerp_(theta[name], 1 - alpha_ema)
        return loss_g.detach()

    return train_step


@alternate("gan.make_train_step", "returns_item")
def _(loss_type, critic_inner_iters=1, reg_type=None, reg_cf=1.0, alpha_ema=None):
    from course.solutions.gan import apply_exponential_moving_average, make_losses

    assert critic_inner_iters >= 1 and (alpha_ema is None or 0 < alpha_ema < 1)
    metric, critic_loss = make_losses(loss_type, reg_type, reg_cf)

    def train_step(train_data_iter, critic, critic_optim, generator, test_generator, generator_optim):
        for _ in range(critic_inner_iters):
            critic_optim.zero_grad()
            critic_loss(next(train_data_iter), generator().detach(), critic).backward()
            critic_optim.step()
        generator_optim.zero_grad()
        gen_metric = metric(next(train_data_iter), generator(), critic)
        gen_metric.backward()
        generator_optim.step()
        if alpha_ema is not None:
            apply_exponential_moving_average(generator, test_generator, alpha=alpha_ema)
        return gen_metric.item()

    return train_step


@alternate("gan.make_train_step", "module_zero_grad")
def _(loss_type, critic_inner_iters=1, reg_type=None, reg_cf=1.0, alpha_ema=None):
    from course.solutions.gan import apply_exponential_moving_average, make_losses

    assert int(critic_inner_iters) >= 1
    assert alpha_ema is None or 0.0 < alpha_ema < 1.0
    metric, critic_loss = make_losses(loss_type, reg_type=reg_type, reg_cf=reg_cf)

    def train_step(train_data_iter, critic, critic_optim, generator, test_generator, generator_optim):
        for _ in range(critic_inner_iters):
            real = next(train_data_iter)
            fake = generator().detach()
            critic.zero_grad(set_to_none=False)  # same tensors the optimizer holds
            loss = critic_loss(real, fake, critic)
            loss.backward()
            critic_optim.step()
        real = next(train_data_iter)
        generator.zero_grad(set_to_none=False)
        gen_metric = metric(real, generator(), critic)
        gen_metric.backward()
        generator_optim.step()
        if alpha_ema is not None:
            apply_exponential_moving_average(generator, test_generator, alpha_ema)
        return gen_metric.detach().clone()

    return train_step
