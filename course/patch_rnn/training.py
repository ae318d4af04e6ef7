"""The patch LSTM of ENGR-E 533 HW5 P1, trained by the grader's loop with the submission's pieces.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: the
trained parameters by name, the loss curve and the submission's completions of the top halves
it was given. It never sees a bottom half of those test digits. The completions that decide
the points are recomputed from the parameters on the trusted side (``course/patch_rnn/heavy.py``).
"""
from __future__ import annotations

from typing import Any

import torch

from grader.scenarios import Resolve, instantiate, minibatches


def train_patch_lstm(resolve: Resolve, target: str, images: torch.Tensor, tops: torch.Tensor, steps: int,
                     batch_size: int, lr: float, hidden: int, layers: int, seed: int, device: str) -> dict[str, Any]:
    """Train ``PatchLSTM(hidden, layers)`` for ``steps`` Adam steps on ``next_patch_loss``, then complete ``tops``.

    Each batch of images (uint8 ``(N, 28, 28)``, scaled to [0, 1]) is cut by the implementation's
    ``image_to_patches``; batches are drawn without replacement (a fresh permutation each epoch).
    ``tops`` are the first 8 patches of held-out digits, ``(M, 8, 49)``, completed with the
    implementation's ``complete`` in eval mode. Returns ``{"state": parameters, "losses": (steps,),
    "completed": (M, 16, 49)}``.
    """
    to_patches, loss_of = resolve("patch_rnn.image_to_patches"), resolve("patch_rnn.next_patch_loss")
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    model = instantiate(resolve, target, {"hidden": hidden, "layers": layers}).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    data = images.to(device)
    losses = torch.empty(steps)
    for step, index in enumerate(minibatches(len(data), batch_size, steps, order)):
        index = index.to(device)
        loss = loss_of(model, to_patches(data[index].float() / 255))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[step] = loss.detach()
    model.eval()
    completed = torch.cat([resolve("patch_rnn.complete")(model, top.to(device)).cpu() for top in tops.split(1000)])
    return {"state": {n: p.detach().cpu().clone() for n, p in model.named_parameters()}, "losses": losses,
            "completed": completed}
