# Carol's gan.py (IFT6135 A3, question 2): the divergences, penalties and the training step.
import math

import torch
import torch.nn.functional as F


def jsd(cp, cq):
    return math.log(2) + 0.5 * F.logsigmoid(cp).mean() + 0.5 * F.logsigmoid(-cq).mean()


def w1(cp, cq):
    return cp.mean() - cq.mean()


def _grad_norm_squared(x, critic):
    x = x.detach().requires_grad_(True)
    grad, = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad.view(grad.size(0), -1).pow(2).sum(dim=1)


def r1gp(p, cp, q, cq, critic):
    return _grad_norm_squared(p, critic).mean()


def ogp(p, cp, q, cq, critic):
    q = q.view(p.shape)
    eps = torch.rand(1, dtype=p.dtype)  # the slip: one eps for the whole batch
    x = eps * p + (1 - eps) * q
    return ((_grad_norm_squared(x, critic).sqrt() - 1) ** 2).mean()


def make_losses(loss_type, reg_type=None, reg_cf=1.0):
    assert reg_cf > 0
    divergences = {"JSD": jsd, "W1": w1}
    penalties = {"GP": ogp, "R1": r1gp, None: None}
    if loss_type not in divergences or reg_type not in penalties:
        raise NotImplementedError(f"{loss_type}, {reg_type}")
    div, pen = divergences[loss_type], penalties[reg_type]

    def metric(p, q, critic):
        return div(critic(p), critic(q))

    def critic_loss(p, q, critic):
        cp, cq = critic(p), critic(q)
        loss = -div(cp, cq)
        return loss if pen is None else loss + reg_cf * pen(p, cp, q, cq, critic)

    return metric, critic_loss


def apply_exponential_moving_average(source, target, alpha=0.998):
    with torch.no_grad():
        for average, theta in zip(target.parameters(), source.parameters()):  # pairs by position
            average.copy_(alpha * average + (1 - alpha) * theta)


def make_train_step(loss_type, critic_inner_iters=1, reg_type=None, reg_cf=1.0, alpha_ema=None):
    assert critic_inner_iters >= 1
    assert alpha_ema is None or 0 < alpha_ema < 1
    metric, critic_loss = make_losses(loss_type, reg_type, reg_cf)

    def train_step(train_data_iter, critic, critic_optim, generator, test_generator, generator_optim):
        for _ in range(critic_inner_iters):
            real = next(train_data_iter)
            fake = generator().detach()
            critic_optim.zero_grad()
            critic_loss(real, fake, critic).backward()
            critic_optim.step()
        real = next(train_data_iter)
        generator_optim.zero_grad()
        loss = metric(real, generator(), critic)
        loss.backward()
        generator_optim.step()
        if alpha_ema is not None:
            apply_exponential_moving_average(generator, test_generator, alpha_ema)
        return loss.item()

    return train_step
