"""Sizes of the student kit and the Gradescope archive, and the wall time of ``run_autograder``.

Run: .venv/bin/python benchmarks/distribution.py [--repeat 3] [--assignment ift6135-a3 ...]
For each assignment: the kit as a zip and as a folder, the autograder zip, then ``run_autograder``
in a temporary root laid out like ``/autograder/`` (set up with ``setup.sh`` offline, its venv
borrowing this one's libraries through a ``.pth`` file) on the reference solutions and on the
stubs, handed in under the handout's file names, interleaved with a plain ``grader grade`` of the
same files. Prints medians (and min, max) in seconds.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

from grader import assignments
from grader.layout import LAYOUT
from grader.package.gradescope import gradescope_archive
from grader.package.handout import handout_files
from grader.package.student import student_kit


def _root(name: str, where: Path) -> Path:
    """An /autograder-like root with the archive unpacked and set up."""
    archive = gradescope_archive(name, where / "autograder.zip")
    print(f"{name}: autograder.zip {archive.size / 1024:.0f} KiB, {archive.files} files")
    with zipfile.ZipFile(archive.path) as unpacked:
        unpacked.extractall(where / "source")
        for member in unpacked.infolist():
            (where / "source" / member.filename).chmod(member.external_attr >> 16 & 0o777)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where / "venv")], check=True)
    site = next((where / "venv" / "lib").glob("python3*")) / "site-packages"
    (site / "borrowed-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(["bash", str(where / "source" / "setup.sh")], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "GRADEKIT_SETUP_OFFLINE": "1"})
    shutil.copy2(where / "source" / "run_autograder", where / "run_autograder")
    return where


def _wall(root: Path, files: dict[str, str], name: str) -> tuple[float, float]:
    """Seconds of ``run_autograder``, then of a plain ``grader grade`` of the same files (interleaved)."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    for file_name, text in files.items():
        (root / "submission" / file_name).write_text(text)
    times = []
    for command in ([str(root / "run_autograder")],
                    [str(root / "venv" / "bin" / "grader"), "grade", str(root / "submission"), "--assignment", name,
                     "--format", "gradescope", "--output", str(root / "plain.json")]):
        start = time.perf_counter()
        subprocess.run(command, cwd=root, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--assignment", nargs="+", default=["ift6135-a3", "e533-hw5"])
    ns = parser.parse_args()
    for name in ns.assignment:
        with tempfile.TemporaryDirectory(prefix="gradekit-bench-") as tmp:
            tmp = Path(tmp)
            start = time.perf_counter()
            kit = student_kit(name, tmp / "kit.zip")
            built = time.perf_counter() - start
            folder = student_kit(name, tmp / "kit")
            print(f"{name}: student kit {kit.size / 1024:.0f} KiB as a zip ({folder.size / 1024:.0f} KiB unpacked, "
                  f"{kit.files} files), built in {built:.2f} s")
            root = _root(name, tmp / "autograder")
            found = assignments.load(name)
            for label, tree in (("solutions", LAYOUT.solutions), ("stubs", LAYOUT.stubs)):
                files = handout_files(found, tree, "{file}")
                ours, plain = zip(*(_wall(root, files, name) for _ in range(ns.repeat)))
                print(f"{name}: run_autograder on the {label}: median {statistics.median(ours):.2f} s "
                      f"(min {min(ours):.2f}, max {max(ours):.2f}); `grader grade` of the same files, interleaved: "
                      f"median {statistics.median(plain):.2f} s; ratio {statistics.median(ours) / statistics.median(plain):.2f} "
                      f"over {ns.repeat} runs")


if __name__ == "__main__":
    main()
