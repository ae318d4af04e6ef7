"""The grader end to end: full marks, zero marks, bad submissions, outputs and exit codes."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import course
from grader.cli import main
from grader.grade import (
    CHILD_TIMEOUT,
    grade,
    load_checks,
    load_training_checks,
    time_limit,
)
from tests.unit.schema import validation_errors

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "submissions"
API_POINTS = sum(c.points for c in load_checks())
# checks whose optional extra is not installed here are skipped with the install command (tests/unit/test_extras.py)
MISSING_EXTRA = {c.target: c.points for c in load_checks() if c.needs is not None and c.needs.reason}


@pytest.fixture(scope="module")
def solutions_report():
    return grade("solutions")


@pytest.fixture(scope="module")
def stubs_report():
    return grade("stubs")


def test_solutions_score_full_marks(solutions_report) -> None:
    failed = {c.target: c.failures() for c in solutions_report.checks
              if c.ran and not c.passed and c.target not in MISSING_EXTRA}
    assert not failed
    assert solutions_report.max_points == API_POINTS
    assert solutions_report.points == pytest.approx(API_POINTS - sum(MISSING_EXTRA.values()))


def test_solutions_stay_within_every_worker_budget(solutions_report) -> None:
    """Does correct code run without a note: no leftover, no replaced worker, no torch change at import?"""
    noted = {c.target: c.notes for c in solutions_report.checks if c.notes}
    assert not noted


def test_stubs_score_zero_on_every_check(stubs_report) -> None:
    scored = {c.target: c.points for c in stubs_report.checks if c.points > 0}
    assert not scored, f"stubs earn points on {scored}: those checks cannot fail"
    assert stubs_report.max_points == API_POINTS  # totals come from the declarations


def test_public_only_runs_no_hidden_facet() -> None:
    report = grade(str(EXAMPLES / "alice"), public_only=True)
    assert all(f.public for c in report.checks for f in c.facets)
    assert report.max_points == API_POINTS


def _by_target(report):
    return {c.target: c for c in report.checks}


def test_bad_submission_loses_only_the_broken_checks() -> None:
    checks = _by_target(grade(str(FIXTURES / "broken")))
    expected_reason = {
        "vae.log_likelihood_bernoulli": "does not match the required signature log_likelihood_bernoulli(mu, target)",
        "vae.log_likelihood_normal": "expected a torch.Tensor",
        "vae.log_mean_exp": "returned nan",
        "vae.kl_gaussian_gaussian_analytic": "expected torch.float64 (keep the input's dtype)",
        "vae.kl_gaussian_gaussian_mc": "expected (2000,)",
        "vae.VAE_loss_function": "returned a value of type",
        "vae.reparameterize": "returned shape (3,)",
        "vae.importance_weighted_log_likelihood": "raised RuntimeError: ran out of time",
        "divergences.kernel": "the submission has no divergences.py",
    }
    for target, reason in expected_reason.items():
        text = "\n".join(checks[target].failures())
        assert checks[target].points < checks[target].max_points and reason in text, f"{target}: {text}"


def test_import_error_costs_only_its_module() -> None:
    checks = _by_target(grade(str(FIXTURES / "import_crash")))
    vae = [c for t, c in checks.items() if t.startswith("vae.")]
    assert all(c.points == 0 for c in vae)
    assert "vae.py failed to import: FileNotFoundError" in vae[0].failures()[0]
    assert checks["divergences.kernel"].passed and checks["divergences.mmd"].passed
    assert not checks["divergences.earth_movers_distance"].passed


def test_syntax_error_is_reported_with_its_line() -> None:
    checks = _by_target(grade(str(EXAMPLES / "bob"), public_only=True))
    assert "divergences.py does not compile: '(' was never closed at line 9" in checks["divergences.mmd"].failures()[0]
    assert checks["vae.log_mean_exp"].passed


def test_cli_writes_gradescope_results_to_schema(tmp_path) -> None:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(main, ["grade", str(EXAMPLES / "alice"), "--format", "gradescope", "--output", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert not validation_errors(data)
    assert isinstance(data["score"], float) and isinstance(data["execution_time"], float)
    assert sum(t.get("max_score", 0) for t in data["tests"]) == pytest.approx(API_POINTS, abs=1e-3)
    for test in data["tests"]:
        if "heavy" in test["tags"]:  # a training check at --heavy none: said to be not run, never a zero
            assert set(test) == {"name", "output", "visibility", "tags"} and test["output"].startswith("not run")
            continue
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility", "tags"}
        assert test["visibility"] == ("after_published" if test["name"].endswith(" (hidden)") else "visible")
        assert test["name"].removesuffix(" (hidden)") in test["tags"]
    assert "Total:" in result.output  # the table still reaches the terminal


def test_cli_writes_junit_with_points(tmp_path) -> None:
    out = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["grade", str(EXAMPLES / "bob"), "--public-only", "--format", "junit", "--output", str(out)])
    assert result.exit_code == 0, result.output
    cases = ET.parse(out).getroot().findall(".//testcase")
    assert len(cases) == len(load_checks()) + len(load_training_checks())
    assert all(c.find("skipped") is not None for c in cases if c.get("name") in ("training", "dirac"))
    kernel = next(c for c in cases if c.get("name") == "kernel")
    assert kernel.find("failure") is not None
    assert {p.get("name"): p.get("value") for p in kernel.iter("property")} == {"points": "0", "max_points": "2"}


def test_cli_refuses_a_missing_target() -> None:
    result = CliRunner().invoke(main, ["grade", "/no/such/submission"])
    assert result.exit_code == 2
    assert "'/no/such/submission' does not exist" in result.output


def test_a_child_that_dies_at_once_still_leaves_every_check(monkeypatch) -> None:
    import subprocess
    import sys

    import grader.grade

    def dying_child(*_args, **_kwargs):
        return subprocess.Popen([sys.executable, "-c", "print('boom'); raise SystemExit(3)"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    monkeypatch.setattr(grader.grade, "_child", dying_child)
    report = grade("solutions", only=("vae",))
    assert [c.target for c in report.checks if not c.heavy] == [c.target for c in load_checks() if c.topic == "vae"]
    assert report.points == 0 and all(f.outcome == "missing" for c in report.checks if not c.heavy for f in c.facets)
    assert all(not c.ran for c in report.checks if c.heavy)  # --heavy none: not run, whatever happened
    assert any("produced no results (exit 3)" in note and "boom" in note for note in report.notes)


def test_a_torn_stream_keeps_what_was_finished(tmp_path) -> None:
    from grader.grade import _read_stream

    stream = tmp_path / "facets.jsonl"
    stream.write_text('{"catalogue": []}\n{"facet": "vae.log_mean_exp::oracle", "outcome": "passed", "message": ""}\n{"fac')
    found = _read_stream(stream)
    assert found["catalogue"] == [] and list(found["outcomes"]) == ["vae.log_mean_exp::oracle"]


def test_only_grades_the_named_topics_and_functions() -> None:
    report = grade("solutions", only=("divergences", "vae.log_mean_exp"), public_only=True)
    assert sorted(c.target for c in report.checks if not c.heavy) == sorted(
        ["vae.log_mean_exp"] + [c.target for c in load_checks() if c.topic == "divergences"])
    # a named topic brings its training checks too (listed, not run at --heavy none); a named function does not
    assert [c.target for c in report.checks if c.heavy] == ["divergences.comparison"]
    assert report.points == report.max_points


def test_training_widens_the_time_limit_by_twice_each_budget() -> None:
    vae = next(h for h in course.heavy_checks() if h.target == "vae.training")
    assert time_limit((), "none") == time_limit(("vae",), "none") == CHILD_TIMEOUT
    assert time_limit(("vae.training",), "full") == CHILD_TIMEOUT + 2 * vae.sizes["full"].budget
    assert time_limit(("vae.log_mean_exp",), "full") == CHILD_TIMEOUT  # nothing trains
    everything = sum(h.sizes["full"].budget for h in course.heavy_checks())
    assert time_limit((), "full") == CHILD_TIMEOUT + 2 * everything
