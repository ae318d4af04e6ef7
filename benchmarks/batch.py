"""Throughput of grading a class: `grader batch --jobs 2` and a Dask LocalCluster of 2 against a plain loop.

A class of N submissions for ift6135-a3 (default 40) is made in a temporary folder from copies and
variants of the examples: carol's hand-in as it is, the reference solutions under the handout's file
names, and carol's q1_solution.py with the solutions' gan.py and solution.py. Each mode grades the
whole class from scratch, runs interleaved (loop, jobs, dask, loop, ...) so that the machine's drift
hits all alike:

- loop: one `grader grade SUBMISSION --assignment ift6135-a3 --format gradescope --output ...` each;
- jobs: `grader batch CLASS --assignment ift6135-a3 --output DIR --jobs 2`;
- dask: the same with `--scheduler local:2`.

`--ratio` instead times `grader grade` of failing against passing submissions, interleaved: carol's
hand-in against the solutions under the handout's names, and alice (whose wrong values are shrunk)
against the solutions on vae and divergences; it prints the failing/passing ratio of the medians.

Run: .venv/bin/python benchmarks/batch.py [--students 40] [--repeat 3] [--modes loop,jobs,dask] [--ratio]
Prints the median wall time and submissions per minute of each mode, and the ratios of the medians.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADER = Path(sys.executable).with_name("grader")
ASSIGNMENT = "ift6135-a3"
CAROL = ROOT / "examples" / "submissions" / "carol-ift6135-a3"
SOLUTIONS = ROOT / "course" / "solutions"
HANDOUT = {"q1_solution.py": "vae.py", "gan.py": "gan.py", "solution.py": "flows.py"}  # handout name <- topic file


def _solutions_as_handed_in(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for handout, topic in HANDOUT.items():
        shutil.copyfile(SOLUTIONS / topic, folder / handout)
    return folder


def make_class(folder: Path, students: int) -> Path:
    """``students`` submissions cycling over carol, the solutions, and carol's VAE with the solutions' GAN and flows."""
    folder.mkdir(parents=True)
    for n in range(students):
        student = folder / f"student{n:03d}"
        kind = n % 3
        if kind == 0:
            shutil.copytree(CAROL, student)
        else:
            _solutions_as_handed_in(student)
            if kind == 2:
                shutil.copyfile(CAROL / "q1_solution.py", student / "q1_solution.py")
    return folder


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def run_mode(mode: str, klass: Path, out: Path) -> float:
    """Wall seconds of grading the whole class once in ``mode``."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if mode == "loop":
        start = time.perf_counter()
        for student in sorted(klass.iterdir()):
            subprocess.run([str(GRADER), "grade", str(student), "--assignment", ASSIGNMENT, "--format", "gradescope",
                            "--output", str(out / f"{student.name}.json")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        return time.perf_counter() - start
    where = ["--jobs", "2"] if mode == "jobs" else ["--scheduler", "local:2"]
    return _wall([str(GRADER), "batch", str(klass), "--assignment", ASSIGNMENT, "--output", str(out), *where])


def throughput(ns: argparse.Namespace, scratch: Path) -> None:
    klass = make_class(scratch / "class", ns.students)
    modes = ns.modes.split(",")
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    for repeat in range(ns.repeat):
        for mode in modes:
            times[mode].append(run_mode(mode, klass, scratch / f"out-{mode}"))
            print(f"run {repeat + 1}: {mode} {times[mode][-1]:.1f} s", flush=True)
    medians = {mode: statistics.median(t) for mode, t in times.items()}
    for mode, t in times.items():
        print(f"{mode}: median {medians[mode]:.1f} s for {ns.students} submissions "
              f"({ns.students * 60 / medians[mode]:.1f} per minute); runs {', '.join(f'{x:.1f}' for x in t)}")
    if "loop" in medians:
        for mode in (m for m in modes if m != "loop"):
            print(f"{mode} vs loop: {medians['loop'] / medians[mode]:.2f}x the throughput")
    if "jobs" in medians and "dask" in medians:
        print(f"dask vs jobs: wall time {medians['dask'] / medians['jobs']:.2f}x")


def ratio(ns: argparse.Namespace, scratch: Path) -> None:
    """Failing against passing: carol against the solutions (ift6135-a3), alice against the solutions (vae, divergences)."""
    handed_in = _solutions_as_handed_in(scratch / "solutions-handed-in")
    pairs = {
        "carol / solutions, ift6135-a3": ([str(CAROL)], [str(handed_in)], ["--assignment", ASSIGNMENT]),
        "alice / solutions, --only vae,divergences": ([str(CAROL.with_name("alice"))], ["solutions"],
                                                      ["--only", "vae,divergences"]),
    }
    for label, (failing, passing, options) in pairs.items():
        times: dict[str, list[float]] = {"failing": [], "passing": []}
        for _ in range(ns.repeat):
            for kind, target in (("failing", failing), ("passing", passing)):
                times[kind].append(_wall([str(GRADER), "grade", *target, *options]))
        median = {kind: statistics.median(t) for kind, t in times.items()}
        print(f"{label}: median {median['failing']:.2f} s / {median['passing']:.2f} s = "
              f"{median['failing'] / median['passing']:.2f} over {ns.repeat} interleaved runs "
              f"(failing {', '.join(f'{t:.1f}' for t in times['failing'])}; "
              f"passing {', '.join(f'{t:.1f}' for t in times['passing'])})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="loop,jobs,dask", help="comma-separated: loop, jobs, dask")
    parser.add_argument("--ratio", action="store_true", help="time a failing against a passing submission instead")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gradekit-bench-") as tmp:
        (ratio if ns.ratio else throughput)(ns, Path(tmp))


if __name__ == "__main__":
    main()
