"""Wall time of `grader grade` (full and --public-only), the child's torch import included.

Run: .venv/bin/python benchmarks/grade_time.py [--repeat 5] [--target solutions] [--only vae,divergences]
     [--backend sandbox|in-process] [--grader OTHER/.venv/bin/grader ...]
Prints the median, min and max of each, in seconds, and the median CPU time (user + sys) of the
processes the grader waited for: on a shared machine it moves less than the wall time. Under the
sandbox it leaves out the worker, which its own PID namespace reaps; in-process it is all of it.
With ``--grader`` given more than once (say this checkout's and an older commit's, each with its
own venv), the runs are interleaved, one of each in turn, since the machine's speed drifts, and
each one's median is printed with its ratio to the first's.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

GRADER = Path(sys.executable).with_name("grader")


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def wall(grader: str, args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `grader grade`."""
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([grader, "grade", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", default="solutions")
    parser.add_argument("--only", default="", help="topics or topic.function names, comma-separated (default: all)")
    parser.add_argument("--backend", default="sandbox", choices=("sandbox", "in-process"))
    parser.add_argument("--grader", action="append", help="a grader executable (repeat to compare; default: this venv's)")
    ns = parser.parse_args()
    graders = ns.grader or [str(GRADER)]
    common = [ns.target, "--backend", ns.backend, *(["--only", ns.only] if ns.only else [])]
    for label, extra in (("full", []), ("public-only", ["--public-only"])):
        runs: dict[str, list[tuple[float, float]]] = {grader: [] for grader in graders}
        for _ in range(ns.repeat):
            for grader in graders:
                runs[grader].append(wall(grader, [*common, *extra]))
        first = statistics.median(t for t, _ in runs[graders[0]])
        for grader, measured in runs.items():
            times, cpus = zip(*measured)
            ratio = f", ×{statistics.median(times) / first:.2f} of the first" if len(graders) > 1 else ""
            print(f"{grader} grade {' '.join(common)} ({label}): median {statistics.median(times):.2f} s, "
                  f"min {min(times):.2f} s, max {max(times):.2f} s over {ns.repeat} runs; "
                  f"median CPU {statistics.median(cpus):.2f} s{ratio}")


if __name__ == "__main__":
    main()
