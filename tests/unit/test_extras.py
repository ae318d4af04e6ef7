"""Optional extras: without torch_geometric and torchdyn the kit still finds its checks, checks its
stubs, grades the other topics and runs its tests; what needs them is skipped with the install command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.check import Extra
from grader.target import ROOT

GRADER = str(Path(sys.executable).with_name("grader"))
# Python imports sitecustomize at start-up from PYTHONPATH: a None in sys.modules makes an import fail
# as if the package were not installed, in this process and in the grader's child alike.
BLOCKER = "import sys\nfor name in ('torch_geometric', 'torchdyn'):\n    sys.modules[name] = None\n"


@pytest.fixture
def without_extras(tmp_path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    return {**os.environ, "PYTHONPATH": str(tmp_path)}


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_missing_extra_names_the_command_that_installs_it() -> None:
    missing = Extra("graphs", ("gradekit_no_such_module", "torch"))
    assert missing.missing() == ("gradekit_no_such_module",)
    assert missing.reason == ("needs gradekit_no_such_module, which is not installed where the grader runs; "
                              "install the 'graphs' extra: pip install 'gradekit[graphs]'")
    assert Extra("cells", ("torch",)).reason is None


def test_without_the_extras_checks_are_found_and_stubs_are_checked(without_extras) -> None:
    listed = _run([sys.executable, "-c", "import course; print(json.dumps({c.target: c.needs.reason for c in "
                   "course.checks() if c.needs}))".replace("import course", "import course, json")], without_extras)
    assert listed.returncode == 0, listed.stderr
    reasons = json.loads(listed.stdout)
    assert "gnn.BetterGCNConv" in reasons and "cnf.CNF" in reasons
    assert all("pip install 'gradekit[graphs]'" in r for t, r in reasons.items() if t.startswith("gnn."))
    assert all("pip install 'gradekit[cells]'" in r for t, r in reasons.items() if t.startswith("cnf."))
    stubs = _run([GRADER, "stubs", "--check"], without_extras)
    assert stubs.returncode == 0, stubs.stdout + stubs.stderr


def test_without_the_extras_other_topics_grade_and_the_report_says_what_to_install(without_extras, tmp_path) -> None:
    out = tmp_path / "report.json"
    graded = _run([GRADER, "grade", "solutions", "--only", "divergences,gnn,cnf", "--format", "json",
                   "--output", str(out)], without_extras)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    checks = {c["target"]: c for c in json.loads(out.read_text())["checks"]}
    assert all(c["points"] == c["max_points"] for t, c in checks.items() if t.startswith("divergences."))
    for target, check in checks.items():
        extra = {"gnn": "graphs", "cnf": "cells"}.get(target.partition(".")[0])
        if extra:
            assert check["points"] == 0 and check["facets"]
            assert all(f["outcome"] == "skipped" and f"pip install 'gradekit[{extra}]'" in f["message"]
                       for f in check["facets"]), check


def test_without_the_extras_the_power_tests_skip_with_the_reason(without_extras) -> None:
    ran = _run([sys.executable, "-m", "pytest", "tests/test_power.py", "-q", "-rs", "-k", "gnn or cnf",
                "-p", "no:cacheprovider"], without_extras)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert "skipped" in ran.stdout and " passed" not in ran.stdout
    assert "gradekit[graphs]" in ran.stdout and "gradekit[cells]" in ran.stdout
