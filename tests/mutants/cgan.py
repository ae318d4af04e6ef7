"""Wrong versions of the cgan.py graded functions."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course.solutions.cgan import center_patch, discriminator_loss, generator_loss, one_hot
from tests.mutants import mutant

DL, GL, TD, TG = "cgan.discriminator_loss", "cgan.generator_loss", "cgan.train_discriminator", "cgan.train_generator"
OH, CI, CP, IMP = "cgan.one_hot", "cgan.conditional_input", "cgan.center_patch", "cgan.imputation_generator_loss"


@mutant(DL, "missing_half")
def _(d_real, d_fake):
    return -torch.log(d_real).mean() - torch.log(1 - d_fake).mean()


@mutant(DL, "real_fake_swapped")
def _(d_real, d_fake):
    return -0.5 * torch.log(d_fake).mean() - 0.5 * torch.log(1 - d_real).mean()


@mutant(DL, "sign_flip")
def _(d_real, d_fake):
    return 0.5 * torch.log(d_real).mean() + 0.5 * torch.log(1 - d_fake).mean()


@mutant(DL, "sum_not_mean")
def _(d_real, d_fake):
    return -0.5 * torch.log(d_real).sum() - 0.5 * torch.log(1 - d_fake).sum()


@mutant(DL, "fake_term_log_d")
def _(d_real, d_fake):
    return -0.5 * torch.log(d_real).mean() + 0.5 * torch.log(d_fake).mean()


@mutant(GL, "saturating")
def _(d_fake):
    return 0.5 * torch.log(1 - d_fake).mean()


@mutant(GL, "missing_half")
def _(d_fake):
    return -torch.log(d_fake).mean()


@mutant(GL, "sign_flip")
def _(d_fake):
    return 0.5 * torch.log(d_fake).mean()


@mutant(GL, "sum_not_mean")
def _(d_fake):
    return -0.5 * torch.log(d_fake).sum()


def _d(disc, x, labels):
    return disc(x) if labels is None else disc(x, labels)


def _train_d(disc, opt, real, fake, labels, *, detach=True, zero=True, after=False, fake_labels=True, swap=False, step=True):
    if zero:
        opt.zero_grad()
    fake = fake.detach() if detach else fake
    if swap:
        real, fake = fake, real
    d_fake = disc(fake) if labels is None or not fake_labels else disc(fake, labels)
    if labels is not None and not fake_labels:
        d_fake = disc(fake, torch.zeros_like(labels))
    loss = discriminator_loss(_d(disc, real, labels), d_fake)
    loss.backward()
    if step:
        opt.step()
    if after:
        with torch.no_grad():
            return discriminator_loss(_d(disc, real, labels), _d(disc, fake, labels))
    return loss.detach()


def _td(name, **flags):
    @mutant(TD, name)
    def _(discriminator, optimizer, real_data, fake_data, labels=None):
        return _train_d(discriminator, optimizer, real_data, fake_data, labels, **flags)


_td("no_detach", detach=False)
_td("no_zero_grad", zero=False)
_td("returns_loss_after_step", after=True)
_td("labels_only_on_real", fake_labels=False)
_td("real_fake_swapped", swap=True)
_td("no_step", step=False)


def _train_g(disc, opt, fake, labels, *, loss_fn=generator_loss, zero=True, use_labels=True, detach=False):
    if zero:
        opt.zero_grad()
    x = fake.detach().requires_grad_() if detach else fake
    loss = loss_fn(_d(disc, x, labels if use_labels else torch.zeros_like(labels) if labels is not None else None))
    loss.backward()
    opt.step()
    return loss.detach()


def _tg(name, **flags):
    @mutant(TG, name)
    def _(discriminator, optimizer, fake_data, labels=None):
        return _train_g(discriminator, optimizer, fake_data, labels, **flags)


_tg("saturating", loss_fn=lambda d: 0.5 * torch.log(1 - d).mean())
_tg("no_zero_grad", zero=False)
_tg("labels_ignored", use_labels=False)
_tg("sum_not_mean", loss_fn=lambda d: -0.5 * torch.log(d).sum())
_tg("detached_fakes", detach=True)


@mutant(OH, "integer_dtype")
def _(labels, num_classes=10):
    return F.one_hot(labels.long(), num_classes)


@mutant(OH, "off_by_one")
def _(labels, num_classes=10):
    return F.one_hot((labels.long() + 1) % num_classes, num_classes).float()


@mutant(OH, "ignores_num_classes")
def _(labels, num_classes=10):
    return F.one_hot(labels.long(), 10).float()


@mutant(OH, "transposed")
def _(labels, num_classes=10):
    return F.one_hot(labels.long(), num_classes).float().T.contiguous()


@mutant(OH, "float64")
def _(labels, num_classes=10):
    return F.one_hot(labels.long(), num_classes).double()


@mutant(CI, "labels_first")
def _(z, labels, num_classes=10):
    return torch.cat([one_hot(labels, num_classes).to(z.dtype), z], 1)


@mutant(CI, "raw_labels")
def _(z, labels, num_classes=10):
    return torch.cat([z, labels.to(z.dtype)[:, None].expand(-1, num_classes)], 1)


@mutant(CI, "ignores_num_classes")
def _(z, labels, num_classes=10):
    return torch.cat([z, one_hot(labels, 10).to(z.dtype)], 1)


@mutant(CI, "float32_always")
def _(z, labels, num_classes=10):
    return torch.cat([z.float(), one_hot(labels, num_classes)], 1)


def _patch(images, size, start=None, stop_extra=0, flat=True, transpose=False):
    s = (28 - size) // 2 if start is None else start
    x = images.reshape(images.shape[0], 28, 28)[:, s:s + size + stop_extra, s:s + size + stop_extra]
    x = x.transpose(1, 2) if transpose else x
    return x.reshape(images.shape[0], -1) if flat else x


@mutant(CP, "off_by_one")
def _(images, size=10):
    return _patch(images, size, start=(28 - size) // 2 - 1)


@mutant(CP, "not_flattened")
def _(images, size=10):
    return _patch(images, size, flat=False)


@mutant(CP, "transposed")
def _(images, size=10):
    return _patch(images, size, transpose=True)


@mutant(CP, "corner_not_centre")
def _(images, size=10):
    return _patch(images, size, start=0)


@mutant(CP, "one_too_wide")
def _(images, size=10):
    return _patch(images, size, stop_extra=1)


@mutant(IMP, "mse_sum_not_mean")
def _(d_fake, fake_images, condition, lam):
    return generator_loss(d_fake) + lam * ((center_patch(fake_images) - condition) ** 2).sum()


@mutant(IMP, "lam_ignored")
def _(d_fake, fake_images, condition, lam):
    return generator_loss(d_fake) + F.mse_loss(center_patch(fake_images), condition)


@mutant(IMP, "saturating_adversarial")
def _(d_fake, fake_images, condition, lam):
    return 0.5 * torch.log(1 - d_fake).mean() + lam * F.mse_loss(center_patch(fake_images), condition)


@mutant(IMP, "patch_off_by_one")
def _(d_fake, fake_images, condition, lam):
    return generator_loss(d_fake) + lam * F.mse_loss(_patch(fake_images, 10, start=8), condition)


@mutant(IMP, "lam_on_adversarial")
def _(d_fake, fake_images, condition, lam):
    return lam * generator_loss(d_fake) + F.mse_loss(center_patch(fake_images), condition)
