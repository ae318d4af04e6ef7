"""Calibrate a training check: the reference's metrics over seeds, and what its wrong implementations reach.

    python benchmarks/calibrate_heavy.py vae.training --size quick --seeds 0 1 2 3 4

Prints one line per run (metrics, seconds); the declaration's ``Calibration`` records these
values and its thresholds sit below the worst seed by a stated margin. Needs the datasets in
the cache (``data-fetch get ...``, or ``GRADEKIT_DATA_DIR`` pointing at a filled cache). Runs
in-process, one torch thread, as the sandboxed worker does.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

import course
from grader.handle import LocalImplementation
from grader.heavy import run
from grader.target import NAMED
from tests.mutants import all_mutants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a training check, e.g. vae.training")
    parser.add_argument("--size", choices=("quick", "full"), default="quick")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4], help="none: only the wrong implementations")
    parser.add_argument("--mutants", action="store_true", help="also run the wrong implementations it kills")
    args = parser.parse_args()
    torch.set_num_threads(1)
    heavy = next(h for h in course.heavy_checks() if h.target == args.target)
    print(f"# {heavy.target} at {args.size}, {platform.machine()} {platform.processor() or ''}, 1 torch thread")
    reference = LocalImplementation(NAMED["solutions"], label="reference")
    for seed in args.seeds:
        start = time.perf_counter()
        outcome = run(heavy, reference, args.size, seed=seed)
        print(f"reference seed={seed}: {outcome.metrics or outcome.error} "
              f"({outcome.seconds:.1f} s training, {time.perf_counter() - start:.1f} s in all)", flush=True)
    if args.mutants:
        wanted = set(heavy.kills)
        for planted in all_mutants():
            if str(planted) in wanted:
                impl = LocalImplementation(NAMED["solutions"], label=str(planted), overrides={planted.target: planted.fn})
                outcome = run(heavy, impl, args.size, seed=heavy.seed)
                print(f"{planted}: {outcome.metrics or outcome.error}", flush=True)


if __name__ == "__main__":
    main()
