"""The Dirac game of IFT6135 A3 Q2: all 20 ``dirac-*`` configurations, played with the
submission's ``make_train_step`` (and the helpers it calls), against an independent replay.

Trusted side: the starting points are drawn here, the replay is ``course/gan/game.py`` (plain
SGD updates written out by hand), and the verdicts compare what the game returned with it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch

from course.gan import game
from grader.heavy import QUICK_BUDGET, Criterion, Heavy, Size

LR = 0.1
# the handout's five regularisations, then the same five with an EMA of the generator
REGULARISATIONS = ({}, {"reg_type": "R1", "reg_cf": 0.01}, {"reg_type": "R1", "reg_cf": 0.1},
                   {"reg_type": "GP", "reg_cf": 0.01}, {"reg_type": "GP", "reg_cf": 0.1})
CONFIGS = {f"dirac-{loss.lower()}-{i + 1 + 5 * ema}": {"loss_type": loss, **reg, **({"alpha_ema": 0.998} if ema else {})}
           for loss in ("JSD", "W1") for ema in (0, 1) for i, reg in enumerate(REGULARISATIONS)}
CONVERGED = 0.05  # |θ| averaged over the last tenth of the steps, below which θ went to 0


def prepare(settings: Mapping[str, Any], seed: int) -> dict[str, Any]:
    g = torch.Generator().manual_seed(seed)
    n = len(CONFIGS)
    return {"configs": list(CONFIGS.values()), "steps": settings["steps"], "lr": LR,
            "theta": 0.7 * torch.randn(n, generator=g, dtype=torch.float64),  # θ ~ N(0, 0.7²)
            "psi": 0.7 * torch.randn(n, 2, generator=g, dtype=torch.float64)}  # ψ ~ N(0, 0.49 I)


def replay(context: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The game of every configuration, replayed by hand: the same tensors as the scenario's."""
    steps, out = context["steps"], {"theta": [], "test_theta": [], "psi": []}
    real, noise = [torch.zeros(1, 1, dtype=torch.float64)], [torch.ones(1, 1, dtype=torch.float64)]
    for i, config in enumerate(context["configs"]):
        start = {"weight": context["theta"][i].reshape(1, 1)}
        psi0 = {"a": context["psi"][i, :1], "c": context["psi"][i, 1]}
        played = game.train_trajectory(config, psi0, start, start, real, noise, (LR, LR), steps)
        out["theta"].append(torch.stack([p["weight"].reshape(()) for p in played["generator"]]))
        out["test_theta"].append(torch.stack([p["weight"].reshape(()) for p in played["test_generator"]]))
        out["psi"].append(torch.stack([torch.stack([p["a"].reshape(()), p["c"].reshape(())]) for p in played["critic"]]))
    return {k: torch.stack(v) for k, v in out.items()}


def converged(theta: torch.Tensor) -> torch.Tensor:
    """Per configuration: whether θ went to 0 (its mean |θ| over the last tenth of the steps)."""
    return theta[:, -max(1, theta.shape[1] // 10):].abs().mean(1) < CONVERGED


def evaluate(returned: Any, context: Mapping[str, Any]) -> dict[str, float]:
    want = replay(context)
    got = {k: torch.as_tensor(returned[k], dtype=torch.float64) for k in want}
    for k, v in want.items():
        if got[k].shape != v.shape:
            raise ValueError(f"{k} has shape {tuple(got[k].shape)}, the game's is {tuple(v.shape)}")
    deviation = max(float((got[k] - v).abs().nan_to_num(float("inf")).max()) for k, v in want.items())
    mismatches = int((converged(got["theta"]) != converged(want["theta"])).sum())
    return {"max_deviation": deviation, "outcome_mismatches": mismatches,
            "converged": int(converged(want["theta"]).sum())}


def figures(returned: Any, context: Mapping[str, Any], metrics: dict[str, float], folder: Path) -> list[Path]:
    from grader.figures import line_plot

    theta = torch.as_tensor(returned["theta"], dtype=torch.float64)
    names = list(CONFIGS)
    return [line_plot(None, folder / f"theta-{loss}.png", f"θ per step, {loss.upper()} configurations", "step",
                      series={n: theta[i] for i, n in enumerate(names) if f"-{loss}-" in n})
            for loss in ("jsd", "w1")]


game_check = Heavy(
    target="gan.dirac",
    title="the 20 dirac-* configurations of the divergence game, trained with make_train_step",
    uses=("gan.make_train_step", "gan.make_losses", "gan.jsd", "gan.w1", "gan.r1gp", "gan.ogp",
          "gan.apply_exponential_moving_average"),
    scenario="dirac_game",
    prepare=prepare,
    evaluate=evaluate,
    figures=figures,
    criteria=(
        Criterion("trajectories", "max_deviation", higher_is_better=False, weight=0.7,
                  what="largest |θ, θ̃ or ψ − the replay's| over all steps and configurations"),
        Criterion("outcomes", "outcome_mismatches", higher_is_better=False, weight=0.3,
                  what="configurations whose θ converges (or not) unlike the replay's"),
    ),
    # Not calibrated: the replay is exact arithmetic in float64, so the thresholds are a
    # tolerance for summation order (1e-6 after 5000 steps; correct code differs by ~1e-12).
    sizes={
        "full": Size({"steps": 5000}, budget=300, thresholds={"trajectories": 1e-6, "outcomes": 0},
                     source="the handout's 5000 steps; an exact replay"),
        "quick": Size({"steps": 500}, budget=QUICK_BUDGET, thresholds={"trajectories": 1e-6, "outcomes": 0},
                      source="500 steps; an exact replay"),
    },
    points=3,
    kills=("gan.make_train_step:generator_maximises_metric", "gan.make_train_step:no_critic_zero_grad",
           "gan.make_train_step:ema_alpha_swapped"),
)
