"""The MNIST classifiers of CPSC 453 PS3, trained by the grader's loop with the submission's pieces.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: each
classifier's trained parameters by name and its loss curve. The test accuracy that decides the
points is computed from those parameters on the trusted side (``course/linear/heavy.py``).
"""
from __future__ import annotations

import torch

from grader.scenarios import Resolve, instantiate, minibatches


def train_classifiers(resolve: Resolve, target: str, images: torch.Tensor, labels: torch.Tensor,
                      steps: int, batch_size: int, lr: float, net_lr: float, hidden: int, activation: str,
                      seed: int, device: str) -> dict[str, dict[str, torch.Tensor] | torch.Tensor]:
    """Train ``LogisticRegression()`` and ``FeedForwardNet(hidden, activation)`` with plain SGD.

    Each takes ``steps`` steps on batches of ``batch_size`` drawn without replacement (a fresh
    permutation each epoch) and minimises the implementation's ``cross_entropy`` of its own
    probabilities, as the handout's loop does. ``images`` are MNIST as uint8 ``(N, 784)``.
    Returns ``{"logistic": parameters, "feedforward": parameters, "<name>_losses": (steps,)}``.
    """
    cross_entropy = resolve("linear.cross_entropy")
    data, targets = images.to(device), labels.to(device)
    out: dict[str, dict[str, torch.Tensor] | torch.Tensor] = {}
    for name, unit, init, rate in (("logistic", "linear.LogisticRegression", {}, lr),
                                   ("feedforward", "linear.FeedForwardNet",
                                    {"hidden": hidden, "activation": activation}, net_lr)):
        torch.manual_seed(seed)
        order = torch.Generator().manual_seed(seed)
        model = instantiate(resolve, unit, init).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=rate)
        losses = torch.empty(steps)
        for step, index in enumerate(minibatches(len(data), batch_size, steps, order)):
            index = index.to(device)
            loss = cross_entropy(model(data[index].float() / 255), targets[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[step] = loss.detach()
        out[name] = {n: p.detach().cpu().clone() for n, p in model.named_parameters()}
        out[f"{name}_losses"] = losses
    return out
