"""The packages work where they go: a student kit installed with pip into a fresh venv outside the
checkout, and the Gradescope archive set up and run in a root laid out like ``/autograder/``.

The fresh venvs are made without pip; a ``.pth`` file lends them this venv's libraries (pip,
setuptools, torch...), so nothing is downloaded. That folder holds no gradekit package (ours is
an editable install, whose finder only a site folder's own ``.pth`` would start), so the kit's
``grader`` and ``course`` are the only ones there, and no reference solution is on the path.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from grader import assignments
from grader.exporters import PUBLIC_ONLY
from grader.layout import LAYOUT
from grader.package.gradescope import gradescope_archive
from grader.package.handout import handout_files
from grader.package.student import WORKFLOW, student_kit
from grader.submission import NOTHING_GRADED
from tests.unit.schema import validation_errors

KITS = [("ift6135-a3", "kit"), ("e533-hw5", "kit.zip")]  # handout .py files as a folder; a notebook as a zip


def _venv(where: Path) -> Path:
    """A fresh venv at ``where`` whose libraries come from this one's, through a ``.pth`` file."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    site = where / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (site / "borrowed-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return where / "bin"


def _env(bin_: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR", "GRADEKIT_ISOLATION")}
    return {**keep, "PATH": f"{bin_}{os.pathsep}/usr/bin:/bin", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(command: list[str], cwd: Path, bin_: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env={**_env(bin_), **extra}, capture_output=True, text=True, timeout=900,
                          check=False)


def _write(files: dict[str, str], into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (into / name).write_text(text)
    return into


def _handout(name: str, tree: Path) -> dict[str, str]:
    return handout_files(assignments.load(name), tree, "{file}: {title}")


@pytest.mark.parametrize("name, output", KITS, ids=[k[0] for k in KITS])
def test_the_student_kit_installs_in_a_fresh_venv_and_checks(name, output, tmp_path) -> None:
    kit = student_kit(name, tmp_path / output).path
    bin_ = _venv(tmp_path / "venv")
    installed = _run([str(bin_ / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(kit)],
                     tmp_path, bin_)
    assert installed.returncode == 0, installed.stderr
    probe = ("import importlib.util as u, course, grader; "
             "print(course.__file__, grader.__file__, u.find_spec('course.solutions'), u.find_spec('solutions'))")
    where = _run([str(bin_ / "python"), "-c", probe], tmp_path, bin_)
    assert where.stdout.split()[2:] == ["None", "None"] and str(tmp_path / "venv") in where.stdout, where.stderr
    if kit.suffix == ".zip":  # students unzip it and work there
        with zipfile.ZipFile(kit) as archive:
            archive.extractall(tmp_path / "work")
        work = tmp_path / "work"
    else:
        work = kit

    stubs = _run([str(bin_ / "grader"), "check", "--format", "json", "--output", "stubs.json"], work, bin_)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert stubs.stdout.count(PUBLIC_ONLY) == 1
    report = json.loads((work / "stubs.json").read_text())
    units = assignments.load(name).units
    assert sorted(c["target"] for c in report["checks"]) == sorted(units) and report["points"] == 0
    unfailed = [(c["target"], sorted({f["outcome"] for f in c["facets"]})) for c in report["checks"]
                if c["points"] != 0 or not any(f["outcome"] == "failed" for f in c["facets"])]
    assert not unfailed, (unfailed, report["notes"])
    assert {f["outcome"] for c in report["checks"] for f in c["facets"]} <= {"failed", "passed"}  # none erroring
    assert all(f["public"] for c in report["checks"] for f in c["facets"])

    correct = _write(_handout(name, LAYOUT.solutions), tmp_path / "correct")
    command = re.search(r"run: (grader check --format junit .*)", (work / WORKFLOW).read_text()).group(1).split()
    ci = _run([str(bin_ / command[0]), *command[1:]], correct, bin_)
    assert ci.returncode == 0, ci.stdout + ci.stderr
    cases = ET.parse(correct / command[-1]).getroot().findall(".//testcase")
    assert len(cases) == len(units) and not [c for c in cases if c.find("failure") is not None]
    assert f"Total: {sum(units.values()):.2f} / {sum(units.values()):g} points" in ci.stdout


def _broken(name: str) -> dict[str, str]:
    """The stubs handed in broken: a file that does not parse, one that fails at import, a notebook
    cell with a syntax error, a function left out."""
    files = _handout(name, LAYOUT.stubs)
    if name == "ift6135-a3":
        return {**files, "q1_solution.py": "def broken(:\n", "gan.py": "raise RuntimeError('broken at import')\n"}
    source = (LAYOUT.stubs / "cgan.py").read_text()
    one_hot = next(n for n in ast.parse(source).body if getattr(n, "name", "") == "one_hot")
    lines = source.splitlines(keepends=True)
    del lines[one_hot.lineno - 1:one_hot.end_lineno]
    cells = [{"cell_type": "code", "source": "def center_patch(:\n"}, {"cell_type": "code", "source": "".join(lines)}]
    return {"hw5.ipynb": json.dumps({"cells": cells})}


@pytest.fixture(scope="module", params=["ift6135-a3", "e533-hw5"])
def autograder(request, tmp_path_factory):
    """An /autograder-like root with the archive unpacked in source/ and setup.sh run."""
    name = request.param
    root = tmp_path_factory.mktemp(f"autograder-{name}")
    archive = gradescope_archive(name, root / "autograder.zip").path
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(root / "source")
        for member in unpacked.infolist():  # zipfile drops the modes; Gradescope keeps them
            (root / "source" / member.filename).chmod(member.external_attr >> 16 & 0o777)
    bin_ = _venv(root / "venv")
    setup = _run(["bash", str(root / "source" / "setup.sh")], root / "source", bin_, GRADEKIT_SETUP_OFFLINE="1")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope's image build does
    return name, root, bin_


def _autograde(root: Path, bin_: Path, files: dict[str, str], zipped: bool = False) -> dict:
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    if zipped:
        with zipfile.ZipFile(root / "submission" / "handin.zip", "w") as archive:
            for name, text in files.items():
                archive.writestr(f"handin/{name}", text)
    else:
        _write(files, root / "submission")
    done = _run([str(root / "run_autograder")], root, bin_)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert not validation_errors(results)
    return results


def _by_name(results: dict) -> dict[str, dict]:
    return {t["name"]: t for t in results["tests"]}


def _scored(results: dict) -> list[dict]:
    """The tests that carry points: a training check at the manifest's heavy_default "none" is
    listed as not run, with no score."""
    training = [t for t in results["tests"] if "heavy" in t["tags"]]
    assert all("score" not in t and t["output"].startswith("not run") for t in training)
    return [t for t in results["tests"] if "heavy" not in t["tags"]]


def _names(results: dict) -> set[str]:
    return {t["name"].removesuffix(" (hidden)") for t in _scored(results)}


def test_run_autograder_gives_the_solutions_full_marks(autograder) -> None:
    name, root, bin_ = autograder
    found = assignments.load(name)
    results = _autograde(root, bin_, _handout(name, LAYOUT.solutions), zipped=name == "ift6135-a3")
    assert results["score"] == pytest.approx(sum(found.units.values()))
    assert sum(t["max_score"] for t in _scored(results)) == pytest.approx(sum(found.units.values()), abs=1e-3)
    assert _names(results) == set(found.units)
    assert all(t["status"] == "passed" for t in _scored(results))
    assert {t["visibility"] for t in results["tests"] if t["name"].endswith("(hidden)")} == {found.hidden_visibility}
    assert "sandbox: " in results["output"] and "hidden tests' points show once" in results["output"]


def test_run_autograder_gives_the_stubs_zero(autograder) -> None:
    name, root, bin_ = autograder
    results = _autograde(root, bin_, _handout(name, LAYOUT.stubs))
    assert results["score"] == 0 and all(t["status"] == "failed" and t["score"] == 0 for t in _scored(results))
    assert _names(results) == set(assignments.load(name).units)


def test_run_autograder_on_a_broken_submission_lists_every_test_with_its_reason(autograder) -> None:
    name, root, bin_ = autograder
    results = _autograde(root, bin_, _broken(name))
    tests = _by_name(results)
    assert _names(results) == set(assignments.load(name).units)
    assert results["score"] == 0
    shown = "\n".join(t["output"] for t in results["tests"])
    if name == "ift6135-a3":
        assert "vae.py does not compile: invalid syntax at line 1" in tests["vae.log_mean_exp"]["output"]
        assert "gan.py failed to import: RuntimeError: broken at import" in tests["gan.jsd"]["output"]
    else:
        assert "cgan.py defines no one_hot" in tests["cgan.one_hot"]["output"]
        assert "hw5.ipynb, cell 1: a syntax error at line 1" in results["output"]
    assert "Traceback" not in shown


def test_run_autograder_on_a_submission_without_graded_files_says_so_once(autograder) -> None:
    name, root, bin_ = autograder
    results = _autograde(root, bin_, {"notes.txt": "I ran out of time\n"})
    assert results["score"] == 0 and results["output"].count("No graded file in the submission") == 1
    assert "found notes.txt" in results["output"]
    assert _names(results) == set(assignments.load(name).units)
    assert all(t["output"] == NOTHING_GRADED for t in _scored(results))
