"""Correct cgan.py functions in other styles: F.binary_cross_entropy, index tensors, scatter."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from tests.alternates import alternate


@alternate("cgan.discriminator_loss", "bce")
def _(d_real, d_fake):
    return 0.5 * (F.binary_cross_entropy(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))


@alternate("cgan.generator_loss", "bce")
def _(d_fake):
    return 0.5 * F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))


@alternate("cgan.train_discriminator", "one_batch_no_grad_fakes")
def _(discriminator, optimizer, real_data, fake_data, labels=None):
    with torch.no_grad():
        fake = fake_data.clone()
    x = torch.cat([real_data, fake])
    d = discriminator(x) if labels is None else discriminator(x, torch.cat([labels, labels]))
    n = real_data.shape[0]
    loss = 0.5 * (F.binary_cross_entropy(d[:n], torch.ones_like(d[:n])) + F.binary_cross_entropy(d[n:], torch.zeros_like(d[n:])))
    optimizer.zero_grad(set_to_none=False)
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.train_generator", "bce")
def _(discriminator, optimizer, fake_data, labels=None):
    d = discriminator(fake_data) if labels is None else discriminator(fake_data, labels)
    loss = 0.5 * F.binary_cross_entropy(d, torch.ones_like(d))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.one_hot", "scatter")
def _(labels, num_classes=10):
    out = torch.zeros(labels.shape[0], num_classes)
    return out.scatter_(1, labels.long().view(-1, 1), 1.0)


@alternate("cgan.conditional_input", "eye_rows")
def _(z, labels, num_classes=10):
    return torch.hstack([z, torch.eye(num_classes, dtype=z.dtype)[labels]])


@alternate("cgan.center_patch", "narrow")
def _(images, size=10):
    start = 14 - size // 2
    return images[:, 0].narrow(1, start, size).narrow(2, start, size).flatten(1)


@alternate("cgan.imputation_generator_loss", "explicit")
def _(d_fake, fake_images, condition, lam):
    patch = fake_images[:, 0, 9:19, 9:19].reshape(len(condition), -1)
    return -0.5 * torch.log(d_fake).mean() + lam * (patch - condition).pow(2).mean()


# -- more styles: hand-written logs, sum / len, clamping, module helpers, keyword labels ---------


@alternate("cgan.discriminator_loss", "hand_logs_sum_over_len")
def _(d_real, d_fake):
    real_term = torch.log(d_real).sum() / len(d_real)
    fake_term = torch.log(1 - d_fake).sum() / len(d_fake)
    return -(real_term + fake_term) / 2


@alternate("cgan.discriminator_loss", "clamped_torch_mean")
def _(d_real, d_fake):
    eps = 1e-7
    d_real, d_fake = d_real.clamp(eps, 1 - eps), d_fake.clamp(eps, 1 - eps)
    return -0.5 * torch.mean(torch.log(d_real)) - 0.5 * torch.mean(torch.log(1 - d_fake))


@alternate("cgan.generator_loss", "sum_over_len")
def _(d_fake):
    return -0.5 * torch.log(d_fake).sum() / len(d_fake)


@alternate("cgan.generator_loss", "clamped_torch_mean")
def _(d_fake):
    return -torch.mean(torch.log(torch.clamp(d_fake, min=1e-8))) / 2


@alternate("cgan.generator_loss", "bce_sum_reduction")
def _(d_fake):
    return F.binary_cross_entropy(d_fake, torch.ones_like(d_fake), reduction="sum") / (2 * d_fake.shape[0])


@alternate("cgan.train_discriminator", "module_zero_grad_detach_in_loss")
def _(discriminator, optimizer, real_data, fake_data, labels=None):
    from course.solutions.cgan import discriminator_loss

    discriminator.zero_grad()
    if labels is None:
        loss = discriminator_loss(discriminator(real_data), discriminator(fake_data.detach()))
    else:
        loss = discriminator_loss(discriminator(real_data, labels=labels),
                                  discriminator(fake_data.detach(), labels=labels))
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.train_discriminator", "two_backwards_bce")
def _(discriminator, optimizer, real_data, fake_data, labels=None):
    extra = () if labels is None else (labels,)
    optimizer.zero_grad()
    d_real = discriminator(real_data, *extra)
    loss_real = 0.5 * F.binary_cross_entropy(d_real, torch.ones_like(d_real))
    loss_real.backward()
    with torch.no_grad():
        fake = fake_data.detach()
    d_fake = discriminator(fake, *extra)
    loss_fake = 0.5 * F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
    loss_fake.backward()  # gradients of both halves accumulate before the step
    optimizer.step()
    return (loss_real + loss_fake).detach()


@alternate("cgan.train_discriminator", "inline_logs_sum_over_len")
def _(discriminator, optimizer, real_data, fake_data, labels=None):
    fake = fake_data.detach()
    if labels is not None:
        d_real, d_fake = discriminator(real_data, labels), discriminator(fake, labels)
    else:
        d_real, d_fake = discriminator(real_data), discriminator(fake)
    loss = -(torch.log(d_real).sum() / len(d_real) + torch.log(1 - d_fake).sum() / len(d_fake)) / 2
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.train_generator", "module_loss_keyword_labels")
def _(discriminator, optimizer, fake_data, labels=None):
    from course.solutions.cgan import generator_loss

    optimizer.zero_grad()
    d_fake = discriminator(fake_data) if labels is None else discriminator(fake_data, labels=labels)
    loss = generator_loss(d_fake)
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.train_generator", "clamped_logs_also_zeroes_d")
def _(discriminator, optimizer, fake_data, labels=None):
    optimizer.zero_grad()
    discriminator.zero_grad()  # D is not stepped here; clearing its gradients is harmless
    d_fake = discriminator(fake_data, labels) if labels is not None else discriminator(fake_data)
    loss = -0.5 * torch.log(d_fake.clamp_min(1e-12)).mean()
    loss.backward()
    optimizer.step()
    return loss.detach()


@alternate("cgan.train_generator", "sum_over_len_clone")
def _(discriminator, optimizer, fake_data, labels=None):
    args = (fake_data,) if labels is None else (fake_data, labels)
    d_fake = discriminator(*args)
    loss = -0.5 * torch.log(d_fake).sum() / d_fake.shape[0]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach().clone()


@alternate("cgan.one_hot", "functional_float")
def _(labels, num_classes=10):
    return F.one_hot(labels, num_classes=num_classes).float()


@alternate("cgan.one_hot", "eye_index")
def _(labels, num_classes=10):
    return torch.eye(num_classes, device=labels.device)[labels]


@alternate("cgan.one_hot", "compare_arange")
def _(labels, num_classes=10):
    return (labels.view(-1, 1) == torch.arange(num_classes, device=labels.device)).float()


@alternate("cgan.conditional_input", "cat_type_as")
def _(z, labels, num_classes=10):
    return torch.cat((z, F.one_hot(labels.long(), num_classes).type_as(z)), dim=1)


@alternate("cgan.conditional_input", "module_one_hot_last_dim")
def _(z, labels, num_classes=10):
    from course.solutions.cgan import one_hot

    return torch.cat([z, one_hot(labels, num_classes).to(z.dtype)], dim=-1)


@alternate("cgan.conditional_input", "preallocated")
def _(z, labels, num_classes=10):
    batch, d = z.shape
    out = z.new_zeros(batch, d + num_classes)
    out[:, :d] = z
    out[torch.arange(batch), d + labels.long()] = 1
    return out


@alternate("cgan.center_patch", "view_slice")
def _(images, size=10):
    start = (28 - size) // 2
    imgs = images.view(-1, 28, 28)
    return imgs[:, start:start + size, start:start + size].reshape(-1, size * size)


@alternate("cgan.center_patch", "computed_bounds")
def _(images, size=10):
    lo, hi = 14 - size // 2, 14 + size // 2
    return images.reshape(len(images), 28, 28)[:, lo:hi, lo:hi].flatten(start_dim=1)


@alternate("cgan.center_patch", "index_select")
def _(images, size=10):
    idx = torch.arange((28 - size) // 2, (28 + size) // 2, device=images.device)
    square = images.reshape(images.shape[0], 28, 28).index_select(1, idx).index_select(2, idx)
    return square.reshape(images.shape[0], -1)


@alternate("cgan.center_patch", "flat_pixel_index")
def _(images, size=10):
    flat = images.reshape(images.shape[0], 784)
    rows = torch.arange(size, device=images.device) + (28 - size) // 2
    pixels = (rows[:, None] * 28 + rows[None, :]).flatten()  # row-major within the patch
    return flat[:, pixels]


@alternate("cgan.imputation_generator_loss", "module_mse_sum_over_numel")
def _(d_fake, fake_images, condition, lam):
    from course.solutions.cgan import center_patch, generator_loss

    mse = F.mse_loss(center_patch(fake_images), condition, reduction="sum") / condition.numel()
    return generator_loss(d_fake) + lam * mse


@alternate("cgan.imputation_generator_loss", "bce_view_squared_mean")
def _(d_fake, fake_images, condition, lam):
    adversarial = 0.5 * F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))
    patch = fake_images.view(-1, 28, 28)[:, 9:19, 9:19].reshape(fake_images.shape[0], 100)
    return adversarial + lam * ((patch - condition) ** 2).mean()


@alternate("cgan.imputation_generator_loss", "clamped_square")
def _(d_fake, fake_images, condition, lam):
    adversarial = -torch.mean(torch.log(torch.clamp(d_fake, min=1e-8))) / 2
    start = (28 - 10) // 2
    patch = fake_images.reshape(-1, 28, 28)[:, start:start + 10, start:start + 10].flatten(1)
    return adversarial + lam * torch.mean(torch.square(patch - condition))
