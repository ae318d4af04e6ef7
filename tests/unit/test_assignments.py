"""Assignments are data: the five handouts load, and a wrong manifest is refused with its file and line."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import course
from grader import assignments
from grader.cli import main

DECLARED = {c.target: c for c in course.checks()}


def test_the_five_handouts_load_and_add_up() -> None:
    assert assignments.names() == ["cpsc453-ps3", "cpsc663-2021", "cpsc663-2022", "e533-hw5", "ift6135-a3"]
    for name in assignments.names():
        found = assignments.load(name)
        assert found.graded_points + sum(found.pending.values()) == pytest.approx(found.total)
        assert set(found.units) <= set(DECLARED)


@pytest.fixture
def manifests(tmp_path, monkeypatch):
    monkeypatch.setattr(assignments, "FOLDER", tmp_path)

    def write(text: str) -> str:
        (tmp_path / "demo.toml").write_text(text)
        return "demo"

    return write


GOOD = 'title = "Demo"\ntotal = 3\n[units]\n"vae.log_mean_exp" = 2\n[pending]\n"music.transcribe" = 1\n'


def test_a_good_manifest(manifests) -> None:
    found = assignments.load(manifests(GOOD))
    assert found.units == {"vae.log_mean_exp": 2.0} and found.pending == {"music.transcribe": 1.0}
    assert "music.transcribe" in found.pending_note()
    assert (found.students_run_heavy, found.datasets, found.hidden_visibility) == ("none", (), "after_published")
    found = assignments.load(manifests(GOOD.replace("total = 3", 'total = 3\nstudents_run_heavy = "quick"\n'
                                                    'datasets = ["flows"]') + '[gradescope]\nhidden_visibility = "hidden"\n'))
    assert (found.students_run_heavy, found.datasets, found.hidden_visibility) == ("quick", ("flows",), "hidden")


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("vae.log_mean_exp", "vae.log_mean_exq"), r"demo.toml:4: vae.log_mean_exq is graded here, but no topic declares it"),
    (GOOD.replace("total = 3", "total = 4"), r"demo.toml:2: the units add up to 3 points, but total = 4"),
    (GOOD.replace('"music.transcribe"', '"vae.reparameterize"'), r"demo.toml:6: vae.reparameterize is declared now"),
    (GOOD.replace("= 2", "= 0").replace("total = 3", "total = 1"), r"demo.toml:4: vae.log_mean_exp has 0 points"),
    (GOOD.replace("[units]", "[units"), r"demo.toml: .*line 3"),
    (GOOD.replace("total = 3", 'total = 3\nstudents_run_heavy = "full"'),
     r"demo.toml:3: students_run_heavy must be one of 'none', 'quick', got 'full'"),
    (GOOD + '[gradescope]\nhidden_visibility = "visible"\n',
     r"demo.toml:8: hidden_visibility must be one of 'after_published', 'after_due_date', 'hidden', got 'visible'"),
    (GOOD.replace("total = 3", 'total = 3\ndatasets = ["mnist", "minst"]'),
     r"demo.toml:3: datasets names 'minst', which data_fetch does not know"),
], ids=["unknown-unit", "total", "pending-declared", "zero-points", "toml", "heavy", "visibility", "dataset"])
def test_a_wrong_manifest_names_its_file_and_line(manifests, text, message) -> None:
    with pytest.raises(assignments.AssignmentError, match=message):
        assignments.load(manifests(text))


def test_a_training_check_of_zero_points_is_a_report(manifests) -> None:
    report = GOOD + '[heavy]\n"divergences.comparison" = 0\n'
    assert assignments.load(manifests(report)).heavy == {"divergences.comparison": 0.0}
    with pytest.raises(assignments.AssignmentError, match="divergences.comparison has -1 points; give it 0"):
        assignments.load(manifests(report.replace("= 0\n", "= -1\n")))


def test_cli_lists_assignments_and_refuses_an_unknown_one(tmp_path) -> None:
    result = CliRunner().invoke(main, ["assignments"])
    assert result.exit_code == 0 and "ift6135-a3" in result.output and "training checks" in result.output
    result = CliRunner().invoke(main, ["grade", "solutions", "--assignment", "nope"])
    assert result.exit_code == 2 and "no assignment 'nope'" in result.output


def test_grading_an_assignment_takes_its_units_and_points(tmp_path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["grade", "solutions", "--assignment", "cpsc663-2021", "--format", "gradescope",
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    graded = [t for t in data["tests"] if "heavy" not in t["tags"]]
    assert [t["name"] for t in graded if "hidden" not in t["tags"]] == [
        "autoencoder.Autoencoder", "autoencoder.corrupt", "autoencoder.interpolate", "linear.closed_form_gradient",
        "linear.autograd_gradient", "vae.VAE_loss_function", "vae.reparameterize"]
    assert data["score"] == pytest.approx(sum(t["max_score"] for t in graded)) == 10
    [sevens] = [t for t in data["tests"] if "heavy" in t["tags"]]  # the training check: not run at heavy=none
    assert sevens["name"] == "vae.sevens" and "score" not in sevens and "not run" in sevens["output"]


def test_a_report_says_what_is_pending(manifests, tmp_path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["grade", "solutions", "--assignment", manifests(GOOD), "--format", "gradescope",
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [t["name"] for t in data["tests"]] == ["vae.log_mean_exp", "vae.log_mean_exp (hidden)"]
    assert data["score"] == pytest.approx(2)
    assert "pending" in data["output"] and "music.transcribe" in data["output"]
