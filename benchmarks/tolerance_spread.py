"""How close correct and wrong code come to each check's tolerance: the evidence behind the tolerances.

For every oracle check, runs the reference, every correct variant of ``tests/alternates`` and
every wrong implementation of ``tests/mutants`` on the check's explicit and drawn inputs, and
reports the largest |actual - expected| as a share of the allowed atol + rtol |expected|. Correct
code must stay well below 1; wrong code must go well above it (or fail in another way).

Run: PYTHONPATH=. .venv/bin/python benchmarks/tolerance_spread.py
"""
from __future__ import annotations

import numpy as np

import course
from grader.facets import call, explore, oracle_value, tolerance
from grader.handle import LocalImplementation, SubmissionError
from grader.target import NAMED
from tests.alternates import all_alternates
from tests.mutants import all_mutants


def used_fraction(check, impl) -> float:
    """The largest share of the tolerance that ``impl`` uses on the check's inputs."""
    worst = [0.0]

    def body(kwargs) -> None:
        expected = np.asarray(oracle_value(check, kwargs), dtype=np.float64)
        actual = call(impl, check.target, kwargs)
        got = np.asarray(actual.detach().double().numpy() if hasattr(actual, "detach") else actual, dtype=np.float64)
        tol = tolerance(check, kwargs, actual)
        if got.shape != expected.shape:
            worst[0] = np.inf  # a wrong shape: no tolerance involved
            return
        share = np.abs(got - expected) / (tol.atol + tol.rtol * np.abs(expected))
        worst[0] = max(worst[0], float(np.nan_to_num(np.max(share, initial=0.0), nan=np.inf)))

    explore(check, body, salt="oracle")
    return worst[0]


def main() -> None:
    corpora = [("correct", v) for v in all_alternates()] + [("wrong", m) for m in all_mutants()]
    print(f"{'check':42s} {'kind':8s} {'implementation':36s} share of the tolerance used")
    for check in course.checks():
        if check.oracle is None:
            continue
        impls = [("correct", "reference", LocalImplementation(NAMED["solutions"]))]
        impls += [(kind, p.name, LocalImplementation(NAMED["solutions"], overrides={p.target: p.fn}))
                  for kind, p in corpora if p.target == check.target]
        for kind, name, impl in impls:
            try:
                share = f"{used_fraction(check, impl):.3g}"
            except SubmissionError as err:
                share = f"raised: {str(err).splitlines()[0][:50]}"
            print(f"{check.target:42s} {kind:8s} {name:36s} {share}")


if __name__ == "__main__":
    main()
