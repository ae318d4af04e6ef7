"""Time of one training step of the reference CNF on the embryoid-body cells' 5 PCs, exact trace.

One step: a batch of cells, ``cnf_nll`` (+ lambda ``kinetic_energy``) through torchdyn's dopri5,
backward through the solver, one Adam step; ``course/solutions/cnf.py``'s ``TrainConfig`` sets
the sizes. For scale, the same step with a one-probe Hutchinson estimate of the trace in place of
the exact one (what ``trace_df_dx`` must not be) is timed too. Prints the median, min and max
wall time over the timed steps, the median CPU time, and the vector field's calls per step.

Run: .venv/bin/python benchmarks/cnf_step.py [--steps 20] [--warmup 3] [--pcs PATH] [--device cpu|cuda]
The PCs are read in place from ``../shared/data/eb`` (or, when that file is missing, from the
data_fetch cache).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch

import course.solutions.cnf as cnf

SHARED_PCS = Path(__file__).resolve().parents[2] / "shared" / "data" / "eb" / "eb_pca5_standardized.npy"


class Hutchinson:
    """A one-probe Rademacher estimate of the trace (for scale only). As in FFJORD the probe is drawn
    once per solve (``redraw``), not per evaluation: a noisy field would stall the adaptive solver."""

    def __init__(self) -> None:
        self.probe: torch.Tensor | None = None

    def redraw(self, like: torch.Tensor) -> None:
        self.probe = torch.randint(0, 2, like.shape, dtype=like.dtype, device=like.device) * 2 - 1

    def __call__(self, f, t, x):
        with torch.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_(True)
            vjp = torch.autograd.grad((f(t, x) * self.probe).sum(), x, create_graph=True)[0]
            return (vjp * self.probe).sum(1)


def load_pcs(path: Path) -> torch.Tensor:
    if path.is_file():
        return torch.from_numpy(np.load(path, allow_pickle=False).astype(np.float32))
    from data_fetch import fetch_eb_arrays

    return fetch_eb_arrays()[0]


def time_steps(cells: torch.Tensor, config: cnf.TrainConfig, steps: int, warmup: int, device: str,
               probe: Hutchinson | None = None) -> tuple[list[float], list[float], float]:
    """Wall and CPU seconds of each timed step, and the mean calls of the vector field per forward pass.

    CPU time is the one to compare on a shared machine: other processes stretch the wall clock.
    """
    torch.manual_seed(config.seed)
    model = cnf.CNF(cells.shape[1], config.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    g = torch.Generator().manual_seed(config.seed)
    seconds, cpu, evaluations, calls = [], [], [], [0]
    model.func.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    for step in range(warmup + steps):
        batch = cells[torch.randint(0, len(cells), (config.batch_size,), generator=g)].to(device)
        calls[0] = 0
        start, start_cpu = time.perf_counter(), time.process_time()
        if probe is not None:
            probe.redraw(batch)
        optimizer.zero_grad()
        loss = cnf.cnf_nll(model, batch).mean()
        if config.energy_weight:
            loss = loss + config.energy_weight * cnf.kinetic_energy(model, batch).mean()
        loss.backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if step >= warmup:
            seconds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            evaluations.append(calls[0])
    return seconds, cpu, statistics.mean(evaluations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pcs", type=Path, default=SHARED_PCS)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--energy-weight", type=float, default=0.0)
    ns = parser.parse_args()
    cells = load_pcs(ns.pcs)
    config = cnf.TrainConfig(n_pcs=cells.shape[1], energy_weight=ns.energy_weight)
    print(f"{len(cells)} cells x {cells.shape[1]} PCs, batch {config.batch_size}, hidden {config.hidden}, "
          f"lambda {config.energy_weight}, {ns.device}, torch threads {torch.get_num_threads()}")
    medians = {}
    estimate = Hutchinson()
    for label, trace in (("exact trace", cnf.trace_df_dx), ("hutchinson, 1 probe", estimate)):
        with mock.patch.object(cnf, "trace_df_dx", trace):
            seconds, cpu, nfe = time_steps(cells, config, ns.steps, ns.warmup, ns.device, estimate if trace is estimate else None)
        medians[label] = statistics.median(cpu)
        print(f"{label}: median {1000 * statistics.median(seconds):.1f} ms per step (wall; min {1000 * min(seconds):.1f}, "
              f"max {1000 * max(seconds):.1f}), {1000 * medians[label]:.1f} ms CPU, over {ns.steps} steps; "
              f"{nfe:.0f} calls of the field per forward pass")
    print(f"exact / hutchinson (CPU): x{medians['exact trace'] / medians['hutchinson, 1 probe']:.2f}")


if __name__ == "__main__":
    main()
