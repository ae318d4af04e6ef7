"""Shrinking a wrong value is bounded: a few dozen calls, the same small example on every machine."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from hypothesis import strategies as st

from grader import facets
from grader.facets import CheckFailure, explore


def _check(max_examples: int = 50):
    inputs = st.fixed_dictionaries({"x": st.lists(st.integers(0, 10_000), min_size=1, max_size=30).map(
        lambda xs: torch.tensor(xs, dtype=torch.float64))})
    return SimpleNamespace(target="demo.total", examples=(), max_examples=max_examples, inputs=inputs)


def _grade(calls: list[torch.Tensor]) -> str:
    def body(kwargs):
        calls.append(kwargs["x"])
        if kwargs["x"].sum() > 1000:
            raise CheckFailure(f"sum {kwargs['x'].sum():g} is over 1000 for x={kwargs['x'].tolist()}")

    with pytest.raises(CheckFailure) as err:
        explore(_check(), body, salt="oracle")
    return str(err.value)


def test_shrinking_stops_after_its_budget_and_reports_a_failing_input(monkeypatch) -> None:
    unbounded: list[torch.Tensor] = []
    monkeypatch.setattr(facets, "SHRINK_CALLS", 10**6)
    unbounded_message = _grade(unbounded)
    monkeypatch.setattr(facets, "SHRINK_CALLS", 20)
    bounded: list[torch.Tensor] = []
    message = _grade(bounded)
    first = next(i for i, x in enumerate(bounded) if x.sum() > 1000)
    checked_after = len(bounded) - first - 1
    assert checked_after <= 20 + 3 < len(unbounded) - first  # the budget, plus hypothesis's replays of the result
    assert "is over 1000" in message and "is over 1000" in unbounded_message


def test_a_bounded_shrink_reports_the_same_example_every_time(monkeypatch) -> None:
    monkeypatch.setattr(facets, "SHRINK_CALLS", 20)
    assert _grade([]) == _grade([])


@pytest.mark.parametrize(("value", "same"), [
    (torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])),
    ({"a": [1, (2.5, "s")], "b": None}, {"b": None, "a": [1, (2.5, "s")]}),
], ids=["tensor", "nested"])
def test_equal_inputs_share_a_fingerprint(value, same) -> None:
    assert facets._fingerprint(value) == facets._fingerprint(same) is not None
    assert facets._fingerprint(torch.tensor([1.0, 2.5])) != facets._fingerprint(torch.tensor([1.0, 2.0]))


def test_an_object_known_only_by_its_address_has_no_fingerprint() -> None:
    assert facets._fingerprint({"f": object()}) is None
