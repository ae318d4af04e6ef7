"""Heavy checks: the submission's functions train a grader-owned model, the grader judges the result.

A ``Heavy`` declaration names the graded functions a training run plugs in, the training
scenario (a function of ``course/<topic>/training.py``, run next to the implementation, in the
sandboxed worker), and per size (``quick``, ``full``) the settings, the wall-clock budget and the
thresholds. The trusted side prepares the inputs (data from the verified cache, sent over the
wire: the worker never opens the cache), runs the scenario once, and computes every metric that
decides a point from what came back (weights, curves, samples) with its own math. Each
``Criterion`` is one separately scored facet of the check.

Thresholds come from the handout or from the reference's measured spread: a ``Calibration``
records the seeds, the values, the machine and the margin beside the threshold it justifies.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.check import Extra, InvalidCheck
from grader.named import Named

LEVELS = ("none", "quick", "full")  # --heavy
SIZES = LEVELS[1:]
# The quick size is designed to train in at most 60 s on 2 CPU cores (benchmarks/heavy.py measures
# it); its wall-clock limit is twice that, so a slower or busier machine never fails correct code.
QUICK_BUDGET = 120


class NotRun(Exception):
    """A heavy facet that was not run at this ``--heavy`` level: it is left out of the totals."""


class Unusable(Exception):
    """What training returned cannot be judged (diverged weights, ...); the message says why."""


class DataMissing(Exception):
    """A dataset the check needs is not in the verified cache; the message gives the command."""


@dataclass(frozen=True)
class Calibration:
    """What a threshold was set from: the reference's values over seeds at one size."""

    seeds: tuple[int, ...]
    values: Mapping[str, tuple[float, ...]]  # metric -> one value per seed
    machine: str
    margin: str  # how the threshold sits below the worst seed, in words

    def worst(self, metric: str, higher_is_better: bool) -> float:
        return min(self.values[metric]) if higher_is_better else max(self.values[metric])


@dataclass(frozen=True)
class Size:
    """One size of a heavy check: scenario settings, budget, thresholds and their evidence."""

    settings: Mapping[str, Any]  # passed to ``prepare`` and on to the scenario
    budget: float  # wall-clock seconds of the training call, enforced from outside
    thresholds: Mapping[str, float]  # criterion name -> threshold
    calibration: Calibration | None = None
    source: str = "calibrated"  # or where the handout gives the threshold


@dataclass(frozen=True)
class Criterion:
    """One judged outcome: ``metric`` (computed on the trusted side) against a threshold.

    ``higher_is_better`` says which side passes: metric >= threshold, else metric <= threshold.
    ``reference`` names a metric that the report shows beside it (the reference's calibrated
    value is shown when there is none).
    """

    name: str
    metric: str
    higher_is_better: bool = True
    weight: float | None = None
    what: str = ""  # one line for the report, e.g. "validation ELBO (nats)"


@dataclass(frozen=True)
class Heavy(Named):
    """A training check, declared once in ``course/<topic>/heavy.py``.

    ``prepare(settings, seed)`` returns the scenario's inputs (plain data), on the trusted side;
    ``evaluate(returned, context)`` returns ``{metric: float}`` from what training returned,
    with the grader's own math; ``figures(returned, context, metrics, folder)`` saves PNGs and
    returns their paths; ``table(returned, context, metrics)``, when given, a plain-text table that the
    report shows under the first criterion's verdict. ``context`` holds the chosen size's
    settings and the inputs sent. A check of 0 points in its manifest is a report: it runs and
    is shown, and scores nothing.
    """

    target: str  # "topic.name": a name of its own, in the same registry as the graded functions
    title: str
    uses: tuple[str, ...]  # the graded functions the training plugs in ("topic.function")
    scenario: str  # function of course/<topic>/training.py
    prepare: Callable[[Mapping[str, Any], int], dict[str, Any]]
    evaluate: Callable[[Any, Mapping[str, Any]], dict[str, float]]
    criteria: tuple[Criterion, ...]
    sizes: Mapping[str, Size]
    points: float
    kills: tuple[str, ...]  # wrong implementations it must catch (tests/mutants, by name)
    figures: Callable[[Any, Mapping[str, Any], dict[str, float], Path], list[Path]] | None = None
    table: Callable[[Any, Mapping[str, Any], dict[str, float]], str] | None = None
    seed: int = 0
    public: bool = True
    needs: Extra | None = None  # an optional extra the training imports (torch_geometric, torchdyn, ...)

    def __post_init__(self) -> None:
        topic, _, name = self.target.partition(".")
        if not topic or not name:
            raise InvalidCheck(f"target={self.target!r} must read 'topic.name'")
        if set(self.sizes) != set(SIZES):
            raise InvalidCheck(f"{self.target}: declare exactly the sizes {SIZES}")
        names = [c.name for c in self.criteria]
        if not names or len(set(names)) != len(names):
            raise InvalidCheck(f"{self.target}: give criteria with unique names")
        for size_name, size in self.sizes.items():
            if set(size.thresholds) != set(names):
                raise InvalidCheck(f"{self.target}: size {size_name!r} must give a threshold for each of {names}")
            if size.calibration is not None:
                self._check_calibration(size_name, size)
        if not self.kills:
            raise InvalidCheck(f"{self.target}: kills= must name the wrong implementations it catches")
        self.weights()

    def _check_calibration(self, size_name: str, size: Size) -> None:
        for c in self.criteria:
            if c.metric not in size.calibration.values:
                continue
            worst, threshold = size.calibration.worst(c.metric, c.higher_is_better), size.thresholds[c.name]
            if (threshold > worst) if c.higher_is_better else (threshold < worst):
                raise InvalidCheck(f"{self.target} ({size_name}): threshold {threshold:g} for {c.name} is beyond the "
                                   f"reference's worst calibrated value {worst:g}; the reference itself would fail")

    def weights(self) -> dict[str, tuple[float, bool]]:
        left = 1 - sum(c.weight for c in self.criteria if c.weight is not None)
        unset = [c for c in self.criteria if c.weight is None]
        if (left <= 1e-9) if unset else (abs(left) > 1e-9):
            raise InvalidCheck(f"{self.target}: criterion weights must add up to 1")
        return {c.name: (c.weight if c.weight is not None else left / len(unset), True) for c in self.criteria}



@dataclass
class Outcome:
    """What one training run gave: metrics (trusted), figures, time, device; or why it failed."""

    metrics: dict[str, float] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    error: str | None = None
    table: str = ""  # shown under the first criterion's verdict


def run(heavy: Heavy, impl: Any, size: str, *, device: str = "cpu", seed: int | None = None,
        figures: Path | None = None, progress: Callable[[float], None] | None = None) -> Outcome:
    """Train once with ``impl``'s functions and evaluate on the trusted side.

    Never raises for the submission's faults: a crash, a timeout or unusable returns become
    ``Outcome.error``. :class:`DataMissing` propagates (it is not the submission's fault).
    """
    from grader.handle import SubmissionError

    chosen = heavy.sizes[size]
    inputs = heavy.prepare(chosen.settings, heavy.seed if seed is None else seed)
    inputs["device"] = device
    context = {**chosen.settings, **inputs}
    start = time.perf_counter()
    try:
        returned = impl.scenario(heavy.scenario, heavy.uses[0], time_limit=chosen.budget, **inputs)
    except SubmissionError as err:
        return Outcome(seconds=time.perf_counter() - start, device=device, error=f"training failed: {err}")
    seconds = time.perf_counter() - start
    try:
        metrics = {k: float(v) for k, v in heavy.evaluate(returned, context).items()}
        table = heavy.table(returned, context, metrics) if heavy.table is not None else ""
    except Unusable as err:
        return Outcome(seconds=seconds, device=device, error=str(err))
    except Exception as err:  # noqa: BLE001 - whatever came back may be anything plain
        return Outcome(seconds=seconds, device=device,
                       error=f"what training returned cannot be evaluated ({type(err).__name__}: {err})")
    outcome = Outcome(metrics, seconds=seconds, device=device, table=table)
    if figures is not None and heavy.figures is not None:
        folder = figures / heavy.target
        folder.mkdir(parents=True, exist_ok=True)
        outcome.figures = [str(p) for p in heavy.figures(returned, context, metrics, folder)]
    return outcome


def verdict(heavy: Heavy, criterion: Criterion, size: str, outcome: Outcome) -> tuple[bool, str]:
    """(passed, one line with the metric, the threshold and the reference's value)."""
    chosen = heavy.sizes[size]
    threshold = chosen.thresholds[criterion.name]
    if outcome.error is not None:
        return False, outcome.error
    value = outcome.metrics.get(criterion.metric, math.nan)
    passed = value >= threshold if criterion.higher_is_better else value <= threshold
    sign = "≥" if criterion.higher_is_better else "≤"
    line = f"{criterion.what or criterion.metric} = {value:.4g} (needs {sign} {threshold:.4g}"
    if chosen.calibration is not None and criterion.metric in chosen.calibration.values:
        values = chosen.calibration.values[criterion.metric]
        line += f"; reference {min(values):.4g}..{max(values):.4g} over {len(values)} seeds"
    line += f"; {size} size, {outcome.device}, {outcome.seconds:.0f} s)"
    return passed, line


def facets(heavy: Heavy) -> list:
    """One facet per criterion; ``facet.run(impl, training)`` returns the verdict line or raises
    :class:`grader.facets.CheckFailure` (or :class:`NotRun`)."""
    from grader.facets import CheckFailure, Facet

    def runner(criterion: Criterion) -> Callable[[Any, Training], str]:
        def run(impl: Any, training: Training) -> str:
            reason = heavy.needs.reason if heavy.needs is not None else None
            if reason is not None:
                import pytest  # here: facets run under pytest, the catalogue does not need it

                pytest.skip(f"{heavy.target}: {reason}")
            outcome = training.outcome(heavy, impl)
            passed, line = verdict(heavy, criterion, training.level, outcome)
            if outcome.table and criterion is heavy.criteria[0]:
                line += "\n" + outcome.table
            if not passed:
                raise CheckFailure(line)
            return line
        return run

    return [Facet(heavy, c.name, heavy.public, runner(c), weight, core)
            for c, (weight, core) in zip(heavy.criteria, heavy.weights().values())]


def choose_device(wanted: str = "auto") -> str:
    """``cuda`` when asked for or, with ``auto``, when torch sees a GPU; else ``cpu``."""
    if wanted != "auto":
        return wanted
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Training:
    """The training runs of one grading session: each heavy check trained once, at one level.

    Parameters
    ----------
    level : {"none", "quick", "full"}
    figures : Path, optional
        Folder for the figures (one subfolder per check); none are drawn without it.
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    progress : file, optional
        Where a progress bar goes (a terminal); nothing is drawn without it.
    """

    def __init__(self, level: str, figures: Path | None = None, device: str = "auto", progress: Any = None):
        if level not in LEVELS:
            raise ValueError(f"heavy level must be one of {LEVELS}, got {level!r}")
        self.level, self.figures, self.progress = level, figures, progress
        self.device = choose_device(device) if level != "none" else "cpu"
        self._done: dict[str, Outcome] = {}

    def outcome(self, heavy: Heavy, impl: Any) -> Outcome:
        if self.level == "none":
            raise NotRun("not run (heavy=none): grade with --heavy quick or --heavy full to train")
        if heavy.target not in self._done:
            self._done[heavy.target] = self._train(heavy, impl)
        return self._done[heavy.target]

    def figures_of(self, heavy: Heavy) -> list[str]:
        done = self._done.get(heavy.target)
        return list(done.figures) if done is not None else []

    def _train(self, heavy: Heavy, impl: Any) -> Outcome:
        try:
            with self._device_lock(), self._bar(heavy):
                return run(heavy, impl, self.level, device=self.device, figures=self.figures)
        except DataMissing as err:
            return Outcome(device=self.device, error=str(err))

    def _device_lock(self) -> Any:
        """One training run per GPU at a time, across grading processes on this machine."""
        import contextlib
        import tempfile

        if self.device == "cpu":
            return contextlib.nullcontext()
        from filelock import FileLock

        return FileLock(Path(tempfile.gettempdir()) / f"gradekit-{self.device.replace(':', '-')}.lock")

    def _bar(self, heavy: Heavy) -> Any:
        """A bar of the training's wall-clock time against its budget, on a terminal only."""
        import contextlib
        import threading

        if self.progress is None:
            return contextlib.nullcontext()
        from tqdm import tqdm

        budget = heavy.sizes[self.level].budget
        stop = threading.Event()

        @contextlib.contextmanager
        def shown() -> Any:
            with tqdm(total=round(budget), desc=f"{heavy.target} ({self.level}, {self.device})", unit="s",
                      file=self.progress, leave=True, bar_format="{desc}: {bar} {n:.0f}/{total} s budget") as bar:
                start = time.monotonic()

                def tick() -> None:
                    while not stop.wait(0.5):
                        bar.n = min(budget, time.monotonic() - start)
                        bar.refresh()

                thread = threading.Thread(target=tick, daemon=True)
                thread.start()
                try:
                    yield
                finally:
                    stop.set()
                    thread.join()
                    bar.n = min(budget, time.monotonic() - start)
                    bar.refresh()

        return shown()


def missing_data(dataset: str) -> DataMissing:
    """The error for a dataset that is not in the verified cache, with the commands that fix it."""
    return DataMissing(f"dataset {dataset!r} is not in the verified cache: run `data-fetch get {dataset}` "
                       f"(or `data-fetch import {dataset} DIRECTORY` with files you downloaded), then grade again")


def cached(dataset: str) -> None:
    """Raise :class:`DataMissing` unless every file of ``dataset`` is cached and verified.

    Nothing is downloaded at grading time: the loaders are then called on verified files only.
    """
    from data_fetch.cache import verify_dataset

    if any(report.state not in ("verified", "pinned", "imported") for report in verify_dataset(dataset)):
        raise missing_data(dataset)


def finite(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """``state`` (name -> tensor), or :class:`Unusable` when a weight is NaN or infinite."""
    import torch

    bad = [name for name, value in state.items() if type(value) is torch.Tensor and not torch.isfinite(value).all()]
    if bad:
        raise Unusable(f"training diverged: the trained weights hold NaN or inf ({', '.join(bad[:3])}"
                       f"{', ...' if len(bad) > 3 else ''})")
    return state
