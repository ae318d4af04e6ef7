"""What the sandbox costs: grading time, one call's round trip, and starting a worker.

Run: .venv/bin/python benchmarks/sandbox.py [--repeat 5] [--calls 500] [--starts 5]

(a) `grader grade solutions`, sandboxed worker vs in-process backend (medians, and their ratio);
(b) the round trip of one small call (vae.log_mean_exp on a 3x4 tensor), sandbox vs in-process;
(c) starting a worker until it answers: a cold `python -m grader.worker` (with and without
    bubblewrap) vs forking a parent that has imported torch and nothing else.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            impl.call("vae.log_mean_exp", y=y)
            times.append(time.perf_counter() - start)
        print(f"(b) one call, {label}: {_median(times)} over {calls} calls")
        if hasattr(impl, "close"):
            impl.close()


_ZYGOTE = """
import os, sys
import torch  # what a worker imports before its hello; nothing is computed before forking
import grader.wire
requests, replies = int(sys.argv[1]), int(sys.argv[2])
os.write(replies, b"r")
while os.read(requests, 1):
    if os.fork() == 0:
        os.write(replies, b"h")
        os._exit(0)
    os.wait()
"""


def starts(n: int) -> None:
    for level in ("full", "no-bubblewrap"):
        times = []
        for _ in range(n):
            os.environ["GRADEKIT_ISOLATION"] = level
            impl = SandboxImplementation(NAMED["solutions"], limits=Limits())
            start = time.perf_counter()
            impl.worker.kill()
            impl.worker.spawn()
            impl.worker.ensure()
            times.append(time.perf_counter() - start)
            impl.close()
        os.environ.pop("GRADEKIT_ISOLATION")
        print(f"(c) cold worker start ({level}): {_median(times)} over {n}")

    to_zygote_r, to_zygote_w = os.pipe()
    from_zygote_r, from_zygote_w = os.pipe()
    zygote = subprocess.Popen([sys.executable, "-c", _ZYGOTE, str(to_zygote_r), str(from_zygote_w)],
                              pass_fds=[to_zygote_r, from_zygote_w])
    os.read(from_zygote_r, 1)  # the zygote has imported torch
    times = []
    for _ in range(max(n, 20)):
        start = time.perf_counter()
        os.write(to_zygote_w, b"f")
        os.read(from_zygote_r, 1)
        times.append(time.perf_counter() - start)
    os.close(to_zygote_w)
    zygote.wait()
    print(f"(c) fork from a parent that imported torch: {_median(times)} over {len(times)}")


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
