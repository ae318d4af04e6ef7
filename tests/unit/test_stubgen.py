"""Stub generation: one-pass scanner, errors with file:line, the --check gate."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from grader import stubgen
from grader.cli import main
from grader.signatures import public_api
from grader.target import NAMED

SOURCE = '''def f(x, y=2):
    """Doc."""
    # BEGIN SOLUTION
    return x + y
    # END SOLUTION


class Model:
    def forward(self, x):
        # BEGIN SOLUTION
        return x
        # END SOLUTION
'''


def test_stub_source_replaces_each_region_at_its_indentation() -> None:
    stub = stubgen.stub_source(SOURCE, "topic.py")
    assert stub.functions == ("f", "forward")
    assert '    raise NotImplementedError("f: replace this line with your implementation")\n' in stub.text
    assert '        raise NotImplementedError("forward: ' in stub.text
    assert "return x + y" not in stub.text and '"""Doc."""' in stub.text


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n", r"t\.py:3: nested .* line 2"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", r"t\.py:2: .* never closed"),
        ("def f():\n    # END SOLUTION\n", r"t\.py:2: .* without"),
        ("# BEGIN SOLUTION\n", r"t\.py:1: .* outside any function"),
    ],
    ids=["nested", "unclosed", "unopened", "outside_function"],
)
def test_stub_source_rejects_bad_markers(source: str, message: str) -> None:
    with pytest.raises(stubgen.StubError, match=message):
        stubgen.stub_source(source, "t.py")


def test_committed_stubs_are_up_to_date() -> None:
    result = CliRunner().invoke(main, ["stubs", "--check"])
    assert result.exit_code == 0, result.output


def test_check_reports_an_edited_stub_and_a_changed_signature(tmp_path) -> None:
    solutions, stubs = tmp_path / "solutions", tmp_path / "stubs"
    shutil.copytree(NAMED["solutions"], solutions)
    stubgen.write(solutions, stubs)
    assert stubgen.differences(solutions, stubs) == []
    vae = stubs / "vae.py"
    vae.write_text(vae.read_text().replace("def log_mean_exp(y", "def log_mean_exp(x"))
    problems = stubgen.differences(solutions, stubs)
    assert any("stubs/vae.py differs" in p for p in problems)
    assert "vae.py: log_mean_exp is (x) in stubs/ but (y) in course/solutions/" in problems


def test_stubs_keep_every_public_name_and_signature() -> None:
    for path in NAMED["solutions"].glob("*.py"):
        assert public_api(path) == public_api(NAMED["stubs"] / path.name)
