"""Wall time of each training check through the sandbox, and the share spent outside training.

    python benchmarks/heavy.py --size quick --runs 3 [--only vae.training,gan.dirac]

For each check and run: a fresh sandboxed worker over the reference solutions, then one
training run as the grader does it (data from the cache, the training call, the evaluation and
figures on the trusted side). Prints the median total, the median training call, and the share
outside training (worker start, data, evaluation); then the sum per assignment. Needs the
datasets in the cache ($GRADEKIT_DATA_DIR).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import course
from grader.assignments import load, names
from grader.heavy import Training
from grader.sandbox import SandboxImplementation
from grader.target import NAMED


def measure(heavy, size: str, figures: Path) -> tuple[float, float]:
    start = time.perf_counter()
    impl = SandboxImplementation(NAMED["solutions"], topics=(heavy.topic,))
    try:
        outcome = Training(size, figures=figures, device="cpu").outcome(heavy, impl)
    finally:
        impl.close()
    if outcome.error is not None:
        raise SystemExit(f"{heavy}: {outcome.error}")
    return time.perf_counter() - start, outcome.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("quick", "full"), default="quick")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated training checks (default: all)")
    args = parser.parse_args()
    wanted = [n for n in args.only.split(",") if n]
    medians = {}
    with tempfile.TemporaryDirectory() as tmp:
        for heavy in course.heavy_checks():
            if wanted and heavy.target not in wanted:
                continue
            runs = [measure(heavy, args.size, Path(tmp)) for _ in range(args.runs)]
            total, training = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            medians[heavy.target] = total
            print(f"{heavy.target:20s} {args.size}: total {total:6.1f} s, training call {training:6.1f} s, "
                  f"outside training {100 * (1 - training / total):4.1f} %  (median of {args.runs})", flush=True)
    for name in names():
        manifest = load(name)
        mine = [t for t in manifest.heavy if t in medians]
        if mine:
            print(f"{name}: {sum(medians[t] for t in mine):.1f} s for {', '.join(mine)}")


if __name__ == "__main__":
    main()
