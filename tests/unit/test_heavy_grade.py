"""Training checks through the real grader: sandboxed worker, trusted metrics, reports, attacks.

The attacks in ``tests/redteam/training/`` aim at the training checks: a detached constant
loss, a function that overwrites the model's weights, one that swaps in weights trained
elsewhere, one that vandalises the dataset cache. Each must gain nothing, the honest functions
beside it keep their points, and the cache stays intact. One more runs past its budget.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

import course
from grader.grade import grade
from grader.heavy import Training
from grader.target import NAMED

ROOT = Path(__file__).resolve().parents[2]
ATTACKS = ROOT / "tests" / "redteam" / "training"
VAE_UNITS = ("vae.log_mean_exp", "vae.log_likelihood_bernoulli", "vae.kl_gaussian_gaussian_analytic")


def _by_target(report) -> dict:
    return {c.target: c for c in report.checks}


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_solutions_earn_every_training_point_with_figures(data_cache, tmp_path) -> None:
    report = grade("solutions", only=("vae.training", "gan.dirac"), heavy="quick", figures=tmp_path)
    checks = _by_target(report)
    assert {t for t, c in checks.items() if c.heavy} == {"vae.training", "gan.dirac"}
    for check in checks.values():
        assert check.ran and check.points == check.max_points, check.failures()
        assert len(check.verdicts()) == len(check.facets) and all("needs" in v for v in check.verdicts())
        assert check.figures and all(Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in check.figures)
    assert report.points == report.max_points > 0


def test_stubs_earn_nothing_and_heavy_none_runs_nothing(data_cache) -> None:
    report = grade("stubs", only=("vae.training", "gan.dirac"), heavy="quick")
    assert all(c.ran and c.points == 0 for c in report.checks)
    assert all("NotImplementedError" in f.message for c in report.checks for f in c.facets)
    skipped = grade("solutions", only=("vae.training",))
    assert not skipped.checks[0].ran and skipped.max_points == 0 and skipped.not_run == skipped.checks
    assert skipped.checks[0].facets[0].message.startswith("not run (heavy=none)")


def test_the_manifests_count_training_checks(data_cache) -> None:
    """Each training check is listed by an assignment that grades its topic, and counts in its total."""
    from grader.assignments import load, names

    listed = set()
    for name in names():
        manifest = load(name)
        assert set(manifest.heavy) <= {h.target for h in course.heavy_checks() if h.topic in manifest.topics()}
        assert manifest.graded_points + sum(manifest.pending.values()) + sum(manifest.hidden.values()) == manifest.total
        listed |= set(manifest.heavy)
    assert listed == {h.target for h in course.heavy_checks()}


@pytest.fixture(scope="module")
def weights(data_cache, tmp_path_factory) -> Path:
    """A VAE trained elsewhere (the reference, quick size), for the attack that swaps it in."""
    from course.vae.heavy import training
    from grader.handle import LocalImplementation

    torch.set_num_threads(1)
    inputs = training.prepare(training.sizes["quick"].settings, seed=7)
    out = LocalImplementation(NAMED["solutions"]).scenario("train_vae", "vae.log_likelihood_bernoulli",
                                                           **inputs, device="cpu")
    path = tmp_path_factory.mktemp("weights") / "weights.pt"
    torch.save(out["state"], path)
    return path


@pytest.mark.parametrize("attack", ["constant_loss", "edits_weights", "loads_weights", "writes_data_cache"])
def test_attacks_on_training_gain_nothing(attack, data_cache, weights, tmp_path) -> None:
    folder = tmp_path / attack
    shutil.copytree(ATTACKS / attack, folder)
    source = folder / "vae.py"
    source.write_text(source.read_text().replace("@CACHE@", str(data_cache)))
    if attack == "loads_weights":
        shutil.copy(weights, folder / "weights.pt")
    before = _digests(data_cache)
    report = grade(str(folder), only=(*VAE_UNITS, "vae.training"), heavy="quick")
    checks = _by_target(report)
    assert checks["vae.log_mean_exp"].points == checks["vae.log_mean_exp"].max_points  # the honest function
    assert _digests(data_cache) == before and not (data_cache / "planted.txt").exists()
    training = checks["vae.training"]
    if attack == "writes_data_cache":  # honest loss pieces: training earns what it earns anyway
        assert training.points == training.max_points, training.failures()
    else:
        assert training.ran and training.points == 0, training.verdicts()
    if attack == "loads_weights":  # good weights came back (every criterion met); the gate held
        assert all(line.endswith("not yet: vae.kl_gaussian_gaussian_analytic") and "training failed" not in line
                   for line in training.failures()), training.failures()


def test_a_training_run_past_its_budget_costs_only_itself(data_cache, tmp_path) -> None:
    from grader.sandbox import SandboxImplementation

    folder = tmp_path / "slow"
    shutil.copytree(ATTACKS / "constant_loss", folder)
    source = folder / "vae.py"
    source.write_text(source.read_text().replace("    return torch.zeros(mu.shape[0], dtype=mu.dtype)",
                                                 "    import time\n    time.sleep(3600)"))
    heavy = next(h for h in course.heavy_checks() if h.target == "vae.training")
    quick = dataclasses.replace(heavy.sizes["quick"], budget=5)
    heavy = dataclasses.replace(heavy, sizes={**heavy.sizes, "quick": quick})
    impl = SandboxImplementation(folder, topics=("vae",))
    try:
        outcome = Training("quick", device="cpu").outcome(heavy, impl)
        assert outcome.error is not None and outcome.seconds < 30, outcome
        y = torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64)
        assert torch.allclose(impl.call("vae.log_mean_exp", y), torch.logsumexp(y, 1) - torch.log(torch.tensor(3.0)))
    finally:
        impl.close()


def test_gradescope_output_tags_training_checks(data_cache, tmp_path) -> None:
    from grader.exporters import gradescope

    data = json.loads(gradescope(grade("solutions", only=("gan.dirac",), heavy="quick", figures=tmp_path)))
    test = data["tests"][0]
    assert test["tags"] == ["gan.dirac", "gan", "heavy"] and test["score"] == test["max_score"]
    assert "needs ≤" in test["output"] and "figure:" in test["output"]
