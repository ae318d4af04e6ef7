"""Wall time of `grader grade solutions` (full and --public-only), child's torch import included.

Run: .venv/bin/python benchmarks/grade_time.py [--repeat 5] [--target solutions]
Prints the median, min and max of each, in seconds.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

GRADER = Path(sys.executable).with_name("grader")


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(GRADER), "grade", *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", default="solutions")
    ns = parser.parse_args()
    for label, extra in (("full", []), ("public-only", ["--public-only"])):
        times = [wall([ns.target, *extra]) for _ in range(ns.repeat)]
        print(f"grader grade {ns.target} ({label}): median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s, max {max(times):.2f} s over {ns.repeat} runs")


if __name__ == "__main__":
    main()
