"""What the sandbox costs: grading time, one call's round trip, starting the sandbox and a worker.

Run: .venv/bin/python benchmarks/sandbox.py [--repeat 5] [--calls 500] [--starts 5] [--skip-grading]

(a) `grader grade solutions`, sandboxed workers vs in-process backend (medians, and their ratio);
(b) the round trip of one small call (vae.log_mean_exp on a 3x4 tensor), sandbox vs in-process,
    and the share of the sandbox's taken by the checks after each call (killing what the worker
    started, reading what it holds);
(c) starting the sandbox cold (`python -m grader.zygote`, with and without bubblewrap) until it
    answers, vs a fresh worker for a function: forked from the running fork server, its file
    imported and its first call answered (what each graded function costs), and the fork alone.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from grader.handle import LocalImplementation
from grader.isolation import Limits
from grader.sandbox import SandboxImplementation
from grader.target import NAMED

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from grade_time import wall  # noqa: E402 - benchmarks/ is not a package


def _median(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1e3:.2f} ms (min {min(times) * 1e3:.2f}, max {max(times) * 1e3:.2f})"


def grading(repeat: int) -> None:
    medians = {}
    for backend in ("in-process", "sandbox"):
        times = [wall(["solutions", "--backend", backend]) for _ in range(repeat)]
        medians[backend] = statistics.median(times)
        print(f"(a) grader grade solutions --backend {backend}: median {medians[backend]:.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, {repeat} runs)")
    print(f"    ratio sandbox / in-process: {medians['sandbox'] / medians['in-process']:.2f}")


def round_trip(calls: int) -> None:
    y = torch.randn(3, 4)
    for label, impl in (("in-process", LocalImplementation(NAMED["solutions"])),
                        ("sandbox", SandboxImplementation(NAMED["solutions"], topics=("vae",)))):
        impl.call("vae.log_mean_exp", y=y)  # load the module, start the worker
        times, checks = [], []
        upkeep = getattr(impl, "_upkeep", None)
        if upkeep is not None:
            def timed(*args: object, upkeep=upkeep, checks=checks) -> None:
                start = time.perf_counter()
                upkeep(*args)
                checks.append(time.perf_counter() - start)
            impl._upkeep = timed
        for _ in range(calls):
            start = time.perf_counter()
            impl.call("vae.log_mean_exp", y=y)
            times.append(time.perf_counter() - start)
        print(f"(b) one call, {label}: {_median(times)} over {calls} calls")
        if checks:
            print(f"    of which the checks after the call: {_median(checks)}")
        impl.close()


def starts(n: int) -> None:
    y = torch.randn(3, 4)
    for level in ("full", "no-bubblewrap"):
        os.environ["GRADEKIT_ISOLATION"] = level
        cold, fresh, forks = [], [], []
        for _ in range(n):
            impl = SandboxImplementation(NAMED["solutions"], limits=Limits(), topics=("vae",))
            start = time.perf_counter()
            impl.zygote.kill()
            impl.zygote.spawn()
            impl.zygote.ensure()
            cold.append(time.perf_counter() - start)
            impl.call("vae.log_mean_exp", y=y)  # the fork server has imported what workers need
            for _ in range(4):
                start = time.perf_counter()
                impl._retire()
                impl.call("vae.log_mean_exp", y=y)  # a fresh worker: fork, import vae.py, first call
                fresh.append(time.perf_counter() - start)
                start = time.perf_counter()
                impl.zygote.fork()[0].close()  # the spare, taken; the next one is asked for
                forks.append(time.perf_counter() - start)
                time.sleep(0.05)  # as between two functions: the next spare is forked meanwhile
            impl.close()
        os.environ.pop("GRADEKIT_ISOLATION")
        print(f"(c) {level}: cold start {_median(cold)} over {n}; fresh worker (fork, import, first call) "
              f"{_median(fresh)} over {len(fresh)}; taking the spare {_median(forks)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="grading runs per backend")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--skip-grading", action="store_true")
    ns = parser.parse_args()
    round_trip(ns.calls)
    starts(ns.starts)
    if not ns.skip_grading:
        grading(ns.repeat)


if __name__ == "__main__":
    main()
