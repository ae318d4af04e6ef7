"""Feedback pages: what a student sees of each lost facet, hidden facets kept hidden, figures inlined.

The HTML page is also opened in a real headless chromium: it must load with no error and no
request beyond itself, and its figure must be drawn (a screenshot of its box is not blank).
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from grader.exporters import table as table_of
from grader.feedback import figure_uri, html, markdown, shorten
from grader.report import CheckResult, FacetResult, Report

from .browser import find_browser, load

SECRET = "hidden input: Tensor[size=(7, 7)] seed 31337"


def _png(path: Path) -> Path:
    """A 240x160 PNG: a colour gradient, as a stand-in for a heavy check's sample grid."""
    from PIL import Image

    ramp = np.linspace(0, 255, 240, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (160, 1)), np.full((160, 240), 90, np.uint8), np.tile(ramp[::-1], (160, 1))], -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _report(figures: tuple[str, ...] = ()) -> Report:
    long_message = "values differ: expected 1.5, got 2.5\n" + "\n".join(f"  line {n}: " + "x" * 300 for n in range(30))
    vae = CheckResult("vae.log_mean_exp", 2.0, True, (
        FacetResult("oracle", True, "failed", long_message, 0.7, True),
        FacetResult("reference", False, "failed", SECRET, 0.7, True),
        FacetResult("returns", True, "passed", "", 0.1, False),
        FacetResult("example:extreme_values", True, "passed", "", 0.5, False),
    ))
    trained = CheckResult("vae.train_elbo", 5.0, True, (
        FacetResult("claim:elbo_threshold", True, "failed", "validation ELBO -104.2 nats, threshold >= -102 nats", 0.8),
        FacetResult("claim:samples_vary", True, "passed", "sample std 0.21 >= 0.05", 0.2),
    ), heavy=True, figures=figures)
    untrained = CheckResult("flows.train_planar", 4.0, True, (
        FacetResult("claim:kl", True, "not-run", "not run (heavy=none)", 1.0),), heavy=True)
    kernel = CheckResult("divergences.kernel", 2.0, True, (FacetResult("oracle", True, "passed", "", 1.0, True),))
    return Report("alice (ift6135-a3)", False, [kernel, untrained, vae, trained], 3.2,
                  ["sandbox: bubblewrap (no network)"])


def test_markdown_shows_lost_facets_and_hides_hidden_inputs() -> None:
    text = markdown(_report())
    assert "**3.00 / 9 points**" in text and "## vae.py: 1.00 / 7" in text
    assert "- **oracle** (core, 0.70 pts)" in text and "expected 1.5, got 2.5" in text
    assert SECRET not in text and "failed (hidden check)" in text
    assert "validation ELBO -104.2 nats, threshold >= -102 nats" in text
    assert "- claim:samples_vary: passed: sample std 0.21 >= 0.05" in text  # the threshold beside the value
    assert "## flows.py: 0.00 / 0" in text and "| `train_planar` | — / 4 | not run (a training check" in text
    assert "… (17 more lines)" in text and "x" * 300 not in text
    assert "- sandbox: bubblewrap (no network)" in text
    assert "### `kernel`" not in text  # a function with full marks needs no details


def test_a_reports_table_is_kept_as_preformatted_text() -> None:
    table = "sample sets      KL\nU vs N(0, 1²)    0.43"
    comparison = CheckResult("divergences.comparison", 0.0, True, (
        FacetResult("agreement", True, "passed", "values that differ = 0\n" + table, 1.0),), heavy=True)
    report = Report("alice", False, [comparison])
    assert "- agreement: passed: values that differ = 0\n\n  ```text\n  sample sets      KL\n" in markdown(report)
    assert "<pre>sample sets      KL\nU vs N(0, 1²)    0.43</pre>" in html(report, Path("."))
    assert "        U vs N(0, 1²)    0.43" in table_of(report)


def test_a_failed_to_grade_submission_says_so() -> None:
    text = markdown(_report(), status="failed-to-grade", reason="the grading process failed twice")
    assert "could not be graded: the grading process failed twice" in text


def test_shorten_keeps_the_start_and_says_what_it_cut() -> None:
    assert shorten("a\n" * 3) == "a\na\na"
    assert shorten("y" * 500, width=10) == "y" * 9 + "…"
    assert shorten("\n".join("abc"), lines=2) == "a\nb\n… (1 more lines)"


def test_html_inlines_figures_and_loads_nothing(tmp_path) -> None:
    _png(tmp_path / "figures" / "samples.png")
    page = html(_report(("figures/samples.png",)), tmp_path)
    assert 'src="data:image/png;base64,' in page and SECRET not in page
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


@pytest.mark.parametrize(("relative", "message"), [
    ("../outside.png", "is not a path inside the results folder"),
    ("/etc/passwd", "is not a path inside the results folder"),
    ("missing.png", "is not a file in the results folder"),
    ("notes.txt", "is not a PNG image"),
    ("link.png", "is not a file in the results folder"),
], ids=["dotdot", "absolute", "missing", "not-png", "symlink"])
def test_a_figure_outside_the_folder_or_not_a_png_is_not_inlined(tmp_path, relative, message) -> None:
    _png(tmp_path / "outside.png")
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    (folder / "link.png").symlink_to(tmp_path / "outside.png")
    with pytest.raises(ValueError, match=message):
        figure_uri(folder, relative)
    assert f"Figure not shown: {relative} {message}" in html(_report((relative,)), folder)


BROWSER = find_browser()
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine: `apt-get install chromium` "
                                   "(.ci/run installs it when it runs as root)")


def _blank(png: bytes) -> bool:
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return pixels.size == 0 or pixels.std() < 5


@needs_browser
def test_the_feedback_page_loads_in_a_real_browser_with_its_figure_drawn(tmp_path) -> None:
    _png(tmp_path / "figures" / "samples.png")
    page = tmp_path / "feedback.html"
    page.write_text(html(_report(("figures/samples.png",)), tmp_path))
    found = load(BROWSER, page)
    assert not found.errors, found.errors
    assert all(url.startswith(("file:", "data:")) for url in found.requests), found.requests
    assert len(found.figures) == 1 and found.figures[0]["natural"] == 240 and found.figures[0]["height"] > 50
    assert not _blank(found.screenshots[0])


@needs_browser
def test_the_browser_check_sees_an_outside_request_and_a_policy_violation(tmp_path) -> None:
    """The browser check can fail: an external image is seen as a request, or, under our policy, as an error."""
    outside = '<img src="http://127.0.0.1:9/tracker.png" alt="x">'
    page = tmp_path / "feedback.html"
    page.write_text(html(_report(), tmp_path).replace("</body>", outside + "</body>"))
    assert any("violates the following Content Security Policy" in e for e in load(BROWSER, page).errors)
    page.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text()))
    assert "http://127.0.0.1:9/tracker.png" in load(BROWSER, page).requests
