"""Course content is found, not listed: every graded region has one declaration, a new topic needs
no edit outside its own files, and the engine never reaches into the project's tests."""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import course
from grader.target import NAMED, ROOT

GRADER = str(Path(sys.executable).with_name("grader"))


def _graded_names(path: Path) -> set[str]:
    """Top-level functions and classes of a solution module that hold a solution region."""
    source = path.read_text()
    lines = source.splitlines()
    return {node.name for node in ast.parse(source).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            and any("# BEGIN SOLUTION" in line for line in lines[node.lineno - 1:node.end_lineno])}


@pytest.mark.parametrize("path", sorted(NAMED["solutions"].glob("[!_]*.py")), ids=lambda p: p.stem)
def test_every_solution_region_has_exactly_one_declaration(path) -> None:
    declared = [c.function for c in course.checks() if c.topic == path.stem]
    graded = _graded_names(path)
    assert not graded - set(declared), f"course/{path.stem}/checks.py declares no check for {sorted(graded - set(declared))}"
    assert not set(declared) - graded, f"checks for {sorted(set(declared) - graded)} grade no solution region of {path.name}"
    assert len(declared) == len(set(declared))


def test_the_engine_never_imports_the_projects_tests() -> None:
    found = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "grader").rglob("*.py")
             for i, line in enumerate(p.read_text().splitlines(), 1) if re.match(r"\s*(from|import) tests\b", line)]
    assert not found, f"the engine imports tests/ at {found}"


NEW_TOPIC = {
    "course/solutions/zz_demo.py": '"""A demo topic."""\n\n\ndef double(x: float) -> float:\n    """Twice x."""\n'
                            '    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n',
    "course/zz_demo/__init__.py": "",
    "course/zz_demo/checks.py": (
        "from hypothesis import strategies as st\n\nfrom grader.check import Check\n\n"
        "double = Check('zz_demo.double', points=1, inputs=st.fixed_dictionaries({'x': st.floats(-5, 5)}),\n"
        "               oracle=lambda x: 2 * x, kills=('triple',))\n"),
}


@pytest.fixture
def new_topic():
    made = [ROOT / rel for rel in NEW_TOPIC]
    try:
        for path, text in zip(made, NEW_TOPIC.values()):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        subprocess.run([GRADER, "stubs"], cwd=ROOT, check=True, capture_output=True)
        yield
    finally:
        shutil.rmtree(ROOT / "course" / "zz_demo", ignore_errors=True)
        for path in (NAMED["solutions"] / "zz_demo.py", NAMED["stubs"] / "zz_demo.py"):
            path.unlink(missing_ok=True)


def test_a_new_topic_folder_is_graded_with_no_edit_elsewhere(new_topic, tmp_path) -> None:
    out = tmp_path / "report.json"
    for target, points in (("solutions", 1.0), ("stubs", 0.0)):
        subprocess.run([GRADER, "grade", target, "--only", "zz_demo", "--format", "json",
                        "--output", str(out)], cwd=ROOT, check=True, capture_output=True)
        report = json.loads(out.read_text())
        assert [c["target"] for c in report["checks"]] == ["zz_demo.double"]
        assert report["points"] == points, report
