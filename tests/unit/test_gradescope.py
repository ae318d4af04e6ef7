"""Gradescope's results.json: hidden facets apart with the manifest's visibility, always complete,
exactly to the schema written from Gradescope's documentation."""
from __future__ import annotations

import json
import zipfile

import pytest

from grader import assignments
from grader import autograde as platform
from grader.exporters import gradescope
from grader.report import CheckResult, FacetResult, Report
from grader.submission import NOTHING_GRADED
from tests.unit.schema import validation_errors


def _report(visibility: str = "after_published") -> Report:
    mixed = CheckResult("vae.log_mean_exp", 2.0, True, (
        FacetResult("oracle", True, "passed", "", 0.35, True),
        FacetResult("example:extreme_values", True, "failed", "returned inf at index (0,)", 0.25, False),
        FacetResult("returns", True, "passed", "", 0.05, False),
        FacetResult("reference", False, "failed", "vae.log_mean_exp: disagrees with the reference on a hidden input",
                    0.35, True)))
    secret = CheckResult("gan.jsd", 1.0, False, (FacetResult("oracle", True, "passed", "", 1.0, True),))
    return Report("alice (demo)", False, [mixed, secret], 3.0, ["sandbox: a plain process"], visibility)


@pytest.mark.parametrize("visibility", ["after_published", "hidden"])
def test_hidden_facets_are_a_test_of_their_own_shown_as_the_manifest_says(visibility) -> None:
    results = json.loads(gradescope(_report(visibility)))
    assert not validation_errors(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert list(tests) == ["vae.log_mean_exp", "vae.log_mean_exp (hidden)", "gan.jsd (hidden)"]
    shown, hidden = tests["vae.log_mean_exp"], tests["vae.log_mean_exp (hidden)"]
    assert (shown["score"], shown["max_score"], shown["visibility"]) == (0.8, 1.3, "visible")
    assert (hidden["score"], hidden["max_score"], hidden["visibility"]) == (0.0, 0.7, visibility)
    assert "returned inf" in shown["output"] and "reference" not in shown["output"]
    assert hidden["output"] == "reference (core, 0.70 pts): failed (hidden check)"  # no hidden input shown
    assert tests["gan.jsd (hidden)"]["visibility"] == visibility  # a hidden check is hidden as a whole
    assert results["score"] == pytest.approx(1.8)
    assert results["output"].startswith("0.80 / 1.30 points on the tests shown now")  # not the hidden points


def test_one_cause_is_said_once_per_test() -> None:
    facet = FacetResult("oracle", True, "missing", NOTHING_GRADED, 0.5, True)
    check = CheckResult("vae.log_mean_exp", 2.0, True, (facet, FacetResult("returns", True, "missing", NOTHING_GRADED,
                                                                           0.5, False)))
    results = json.loads(gradescope(Report("x", False, [check], notes=["No graded file in the submission"])))
    assert [t["output"] for t in results["tests"]] == [NOTHING_GRADED]
    assert not validation_errors(results)


@pytest.mark.parametrize("layout, graded", [
    ({"q1_solution.py": "", "notes.txt": ""}, "."),
    ({"handin.zip": None}, "handin.zip"),
    ({"alice/q1_solution.py": "", "__MACOSX/alice/._q1_solution.py": ""}, "alice"),
    ({"alice/inner/hw.ipynb": "{}"}, "alice/inner"),
    ({"a.zip": None, "b.zip": None}, "."),
], ids=["files", "one-zip", "one-folder", "nested-folders", "two-zips"])
def test_what_is_graded_in_a_submission_folder(layout, graded, tmp_path) -> None:
    for name, text in layout.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            with zipfile.ZipFile(path, "w") as archive:
                archive.writestr("q1_solution.py", "")
        else:
            path.write_text(text)
    assert platform.what_to_grade(tmp_path) == tmp_path / graded


def test_a_zip_that_does_not_open_still_gets_complete_results(tmp_path) -> None:
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "handin.zip").write_bytes(b"PK\x03\x04 not a zip")
    report = platform.autograde(tmp_path, "cpsc663-2021")
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert not validation_errors(results) and results["score"] == 0
    assert "handin.zip is not a readable zip file" in results["output"] and report.points == 0
    manifest = assignments.load("cpsc663-2021")
    assert {t["name"].removesuffix(" (hidden)") for t in results["tests"]} == {*manifest.units, *manifest.heavy}


def test_a_grader_error_still_writes_results_that_say_so(tmp_path, monkeypatch) -> None:
    import grader.grade

    def broken_grader(*_args, **_kwargs):
        raise RuntimeError("the grader's own bug")

    (tmp_path / "submission").mkdir()
    monkeypatch.setattr(grader.grade, "grade", broken_grader)
    with pytest.raises(RuntimeError, match="the grader's own bug"):
        platform.autograde(tmp_path, "cpsc663-2021")
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert "The autograder failed (RuntimeError: the grader's own bug)" in results["output"]
    manifest = assignments.load("cpsc663-2021")
    assert {t["name"].removesuffix(" (hidden)") for t in results["tests"]} == {*manifest.units, *manifest.heavy}
    assert len(results["tests"]) > len(manifest.units) and not validation_errors(results)  # hidden facets apart
