"""Attack: leave torch's process-wide settings changed.

``discriminator_loss`` switches gradients off, makes float64 the default dtype, pins torch to
one thread and turns anomaly detection on, then returns garbage. Left behind, the first would
cost every later function its gradient facets, the second the dtype of any tensor made without
one; a function's calls must not see what another function's calls set.
"""
import torch


def discriminator_loss(d_real, d_fake):
    torch.set_grad_enabled(False)
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.autograd.set_detect_anomaly(True)
    return torch.tensor(123.0)


def generator_loss(d_fake):
    """Honest, in the attack's own file: the non-saturating loss, -0.5 mean log D(G(z))."""
    return -0.5 * torch.log(d_fake).mean()
