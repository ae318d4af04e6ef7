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
Prints the median wall time and submissions per minute of each mode, its CPU seconds per submission
(grading children and sandboxed workers included, see ``Clock``), and the ratios of the medians.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

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


CPUACCT = Path("/sys/fs/cgroup/cpuacct")  # cgroup v1: CPU time of every process in a group, however it was reaped


class Clock:
    """Wall time, and CPU time of this benchmark's processes: on a shared machine the wall time
    drifts with the others' load, the CPU time much less.

    The CPU time is read from a cgroup v1 ``cpuacct`` group this process joins (as root), which
    counts every descendant, Dask's workers included; elsewhere from ``RUSAGE_CHILDREN``, which
    counts only processes waited for (not Dask's workers, whose nannies reap them).
    """

    group: Path | None = None

    @classmethod
    def join_group(cls) -> None:
        if os.geteuid() != 0 or not CPUACCT.is_dir():
            return
        group = CPUACCT / f"gradekit-bench-{os.getpid()}"
        try:
            group.mkdir()
            (group / "cgroup.procs").write_text(str(os.getpid()))
        except OSError:
            return
        cls.group = group

    @classmethod
    def leave_group(cls) -> None:
        if cls.group is not None:
            (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
            cls.group.rmdir()
            cls.group = None

    def __enter__(self) -> Self:
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *_exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu

    @classmethod
    def _cpu(cls) -> float:
        if cls.group is not None:
            return int((cls.group / "cpuacct.usage").read_text()) / 1e9
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


def run_mode(mode: str, klass: Path, out: Path) -> Clock:
    """Grade the whole class once in ``mode``; return its clock."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    where = ["--jobs", "2"] if mode == "jobs" else ["--scheduler", "local:2"]
    with Clock() as clock:
        if mode == "loop":
            for student in sorted(klass.iterdir()):
                _run([str(GRADER), "grade", str(student), "--assignment", ASSIGNMENT, "--format", "gradescope",
                      "--output", str(out / f"{student.name}.json")])
        else:
            _run([str(GRADER), "batch", str(klass), "--assignment", ASSIGNMENT, "--output", str(out), *where])
    return clock


def throughput(ns: argparse.Namespace, scratch: Path) -> None:
    klass = make_class(scratch / "class", ns.students)
    modes = ns.modes.split(",")
    runs: dict[str, list[Clock]] = {mode: [] for mode in modes}
    for repeat in range(ns.repeat):
        for mode in modes:
            runs[mode].append(run_mode(mode, klass, scratch / f"out-{mode}"))
            print(f"run {repeat + 1}: {mode} {runs[mode][-1].wall:.1f} s wall, {runs[mode][-1].cpu:.1f} s CPU", flush=True)
    wall = {mode: statistics.median(c.wall for c in clocks) for mode, clocks in runs.items()}
    for mode, clocks in runs.items():
        counted = Clock.group is not None or mode != "dask"
        cpu = f"{statistics.median(c.cpu for c in clocks) / ns.students:.2f}" if counted else "not counted"
        print(f"{mode}: median {wall[mode]:.1f} s for {ns.students} submissions ({ns.students * 60 / wall[mode]:.1f} "
              f"per minute), CPU s per submission {cpu}; walls {', '.join(f'{c.wall:.1f}' for c in clocks)}")
    if "loop" in wall:
        for mode in (m for m in modes if m != "loop"):
            print(f"{mode} vs loop: {wall['loop'] / wall[mode]:.2f}x the throughput")
    if "jobs" in wall and "dask" in wall:
        print(f"dask vs jobs: wall time {wall['dask'] / wall['jobs']:.2f}x")


def ratio(ns: argparse.Namespace, scratch: Path) -> None:
    """Failing against passing: carol against the solutions (ift6135-a3), alice against the solutions (vae, divergences)."""
    handed_in = _solutions_as_handed_in(scratch / "solutions-handed-in")
    pairs = {
        "carol / solutions, ift6135-a3": ([str(CAROL)], [str(handed_in)], ["--assignment", ASSIGNMENT]),
        "alice / solutions, --only vae,divergences": ([str(CAROL.with_name("alice"))], ["solutions"],
                                                      ["--only", "vae,divergences"]),
    }
    for label, (failing, passing, options) in pairs.items():
        runs: dict[str, list[Clock]] = {"failing": [], "passing": []}
        for _ in range(ns.repeat):
            for kind, target in (("failing", failing), ("passing", passing)):
                with Clock() as clock:
                    _run([str(GRADER), "grade", *target, *options])
                runs[kind].append(clock)
        for measure in ("wall", "cpu"):
            median = {kind: statistics.median(getattr(c, measure) for c in clocks) for kind, clocks in runs.items()}
            each = "; ".join(f"{kind} {', '.join(f'{getattr(c, measure):.1f}' for c in clocks)}"
                             for kind, clocks in runs.items())
            print(f"{label}, {measure}: median {median['failing']:.2f} s / {median['passing']:.2f} s = "
                  f"{median['failing'] / median['passing']:.2f} over {ns.repeat} interleaved runs ({each})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="loop,jobs,dask", help="comma-separated: loop, jobs, dask")
    parser.add_argument("--ratio", action="store_true", help="time a failing against a passing submission instead")
    ns = parser.parse_args()
    Clock.join_group()
    try:
        with tempfile.TemporaryDirectory(prefix="gradekit-bench-") as tmp:
            (ratio if ns.ratio else throughput)(ns, Path(tmp))
    finally:
        Clock.leave_group()


if __name__ == "__main__":
    main()
