"""Attack: wrong loss pieces, but swap in well-trained weights brought along in the submission.

``weights.pt`` (placed beside this file) holds a VAE trained by someone else. The first call
to the KL wraps the optimizer's ``step`` so that, after every update, the weights are loaded
into each module the garbage collector shows with the same parameter names: the weights that
come back are good whatever the (wrong: averaged over dimensions) KL did.
"""
import gc
from pathlib import Path

import torch

_patched = []


def _swap_in_after_each_step():
    state = torch.load(Path(__file__).with_name("weights.pt"), weights_only=True)
    step = torch.optim.Adam.step

    found = []

    def patched(self, *args, **kwargs):
        out = step(self, *args, **kwargs)
        if not found:
            found.extend(obj for obj in gc.get_objects()
                         if isinstance(obj, torch.nn.Module) and set(obj.state_dict()) == set(state))
        with torch.no_grad():
            for module in found:
                module.load_state_dict(state)
        return out

    torch.optim.Adam.step = patched
    _patched.append(True)


def log_mean_exp(y):
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def log_likelihood_bernoulli(mu, target):
    mu, target = mu.reshape(mu.shape[0], -1), target.reshape(target.shape[0], -1)
    return (target * torch.log(mu) + (1 - target) * torch.log1p(-mu)).sum(1)


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    if not _patched:
        _swap_in_after_each_step()
    mu_p, logvar_p = torch.as_tensor(mu_p, dtype=mu_q.dtype), torch.as_tensor(logvar_p, dtype=mu_q.dtype)
    kl = 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1)
    return kl.reshape(kl.shape[0], -1).mean(1)
