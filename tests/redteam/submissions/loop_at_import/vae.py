"""The honest half of the loop_at_import attack (the attack is in divergences.py): must keep full marks."""
import torch


def log_mean_exp(y):
    """Shift each row by its maximum so that exp cannot overflow; keeps the input's dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))
