"""The Dirac game of the handout, played with the implementation's ``make_train_step``.

Runs next to the implementation and returns plain data only: each configuration's trajectory
of the generator's θ, the critic's ψ = (ψ₀, ψ₁) and the test generator's θ̃, stacked per step.
The trusted side replays the same game independently (``course/gan/game.py``).
"""
from __future__ import annotations

from typing import Any

import torch

from course.gan.scenarios import SGD, _Batches, _Critic, _Generator
from grader.scenarios import Resolve


def dirac_game(resolve: Resolve, target: str, configs: list[dict[str, Any]], theta: torch.Tensor,
               psi: torch.Tensor, steps: int, lr: float, device: str) -> dict[str, torch.Tensor]:
    """Play every configuration from its own start: θ = ``theta[i]``, ψ = ``psi[i]``.

    The generator's one point is θ (a 1×1 weight times the noise 1), the real data always the
    point 0, the critic C(x) = ψ₀ x + ψ₁, plain SGD for both. Returns tensors of shape
    ``(configs, steps)`` for θ and θ̃ and ``(configs, steps, 2)`` for ψ.
    """
    one, zero = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    thetas, tests = (torch.empty(len(configs), steps, dtype=torch.float64) for _ in range(2))
    psis = torch.empty(len(configs), steps, 2, dtype=torch.float64)
    for i, config in enumerate(configs):
        critic = _Critic(a=psi[i, :1], c=psi[i, 1])
        generator = _Generator(theta[i].reshape(1, 1), None, [one])
        test_generator = _Generator(theta[i].reshape(1, 1), None, [one])
        train_step = resolve(target)(**config)
        critic_optim, generator_optim = SGD(critic.parameters(), lr), SGD(generator.parameters(), lr)
        data = _Batches([zero])
        for step in range(steps):
            train_step(data, critic, critic_optim, generator, test_generator, generator_optim)
            with torch.no_grad():
                thetas[i, step] = generator.weight.reshape(())
                tests[i, step] = test_generator.weight.reshape(())
                psis[i, step, 0], psis[i, step, 1] = critic.a.reshape(()), critic.c.reshape(())
    return {"theta": thetas, "test_theta": tests, "psi": psis}
