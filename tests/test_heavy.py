"""The training checks prove their power at quick size, as test_power does for the functions.

- The reference passes every criterion of every training check on every calibration seed.
- The stubs fail every criterion.
- Each wrong implementation a training check names in ``kills`` fails it.
- Every threshold has its evidence: the handout, an exact replay, or a calibration whose
  worst seed the threshold does not exceed (checked when the declaration is made).

The quick run (CI) trains each check once with the reference, at its declared seed, and once
with the stubs; the other calibration seeds and the wrong implementations are marked ``heavy``
(``pytest -m heavy tests/test_heavy.py``: about 25 minutes on 2 cores), since every check trains
for up to a minute each time.

Runs in-process on the trusted reference with one torch thread, as the worker does; the
sandboxed end-to-end runs are in ``tests/unit/test_heavy_grade.py``. The datasets are imported
into a private cache from the shared real-data folder (``data_cache`` in ``tests/conftest.py``;
skipped, with the reason, without it).
"""
from __future__ import annotations

import pytest
import torch

import course
from grader.handle import LocalImplementation
from grader.heavy import QUICK_BUDGET, Outcome, run, verdict
from grader.target import NAMED
from tests.mutants import all_mutants

HEAVY = course.heavy_checks()
DATASETS = {"vae.training": ("binarized_mnist",)}


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _can_run(heavy) -> None:
    """Skip, with the reason, a training check whose optional extra is not installed here."""
    reason = heavy.needs.reason if heavy.needs is not None else None
    if reason is not None:
        pytest.skip(f"{heavy}: {reason}")


def _passes(heavy, outcome: Outcome, size: str = "quick") -> dict[str, str]:
    """{criterion: verdict line} of the criteria that failed."""
    found = {c.name: verdict(heavy, c, size, outcome) for c in heavy.criteria}
    return {name: line for name, (passed, line) in found.items() if not passed}


def _seeds(heavy) -> tuple[int, ...]:
    calibration = heavy.sizes["quick"].calibration
    return calibration.seeds if calibration is not None else (heavy.seed, heavy.seed + 1)


@pytest.mark.parametrize("heavy", HEAVY, ids=str)
def test_every_training_check_is_proven(heavy) -> None:
    assert len(heavy.kills) >= 2, f"{heavy}: name at least two wrong implementations it must catch"
    for size in heavy.sizes.values():
        assert size.calibration is not None or size.source != "calibrated", (
            f"{heavy}: a threshold needs its evidence: a Calibration, or the handout/replay it comes from")
        assert size.budget <= (QUICK_BUDGET if size is heavy.sizes["quick"] else 3600)


SEEDS = [pytest.param((h, s), marks=() if s == h.seed else pytest.mark.heavy, id=f"{h}-seed{s}")
         for h in HEAVY for s in sorted(set(_seeds(h)) | {h.seed})]


@pytest.mark.parametrize("seed_heavy", SEEDS)
def test_reference_passes_on_every_calibration_seed(seed_heavy, data_cache) -> None:
    heavy, seed = seed_heavy
    _can_run(heavy)
    outcome = run(heavy, LocalImplementation(NAMED["solutions"], label="reference"), "quick", seed=seed)
    assert outcome.error is None, outcome.error
    assert not _passes(heavy, outcome), f"the reference fails {heavy} at seed {seed}: {_passes(heavy, outcome)}"


@pytest.mark.parametrize("heavy", HEAVY, ids=str)
def test_stubs_fail(heavy, data_cache) -> None:
    _can_run(heavy)
    outcome = run(heavy, LocalImplementation(NAMED["stubs"], label="stubs"), "quick")
    assert set(_passes(heavy, outcome)) == {c.name for c in heavy.criteria}
    assert "NotImplementedError" in outcome.error


KILLS = [(h, m) for h in HEAVY for m in all_mutants() if str(m) in h.kills]


@pytest.mark.heavy
@pytest.mark.parametrize("heavy_mutant", KILLS, ids=lambda p: f"{p[0]}-{p[1].target}:{p[1].name}")
def test_wrong_implementations_fail(heavy_mutant, data_cache) -> None:
    heavy, planted = heavy_mutant
    _can_run(heavy)
    impl = LocalImplementation(NAMED["solutions"], label=str(planted), overrides={planted.target: planted.fn})
    outcome = run(heavy, impl, "quick")
    assert _passes(heavy, outcome), f"{heavy} gives full marks to {planted}: {outcome.metrics}"


def test_every_kill_names_a_wrong_implementation() -> None:
    known = {str(m) for m in all_mutants()}
    runnable = [h for h in HEAVY if h.needs is None or h.needs.reason is None]  # tests/mutants skips the rest
    unknown = {k for h in runnable for k in h.kills if k not in known}
    assert not unknown, f"kills= names no mutant in tests/mutants: {sorted(unknown)}"


def test_missing_data_says_which_command_to_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GRADEKIT_DATA_DIR", str(tmp_path / "empty"))
    from grader.heavy import Training

    heavy = next(h for h in HEAVY if h.target in DATASETS)
    outcome = Training("quick", device="cpu").outcome(heavy, LocalImplementation(NAMED["solutions"]))
    assert outcome.error is not None and "data-fetch get binarized_mnist" in outcome.error
