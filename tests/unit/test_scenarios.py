"""Driving a submitted model with the grader's weights: layers are matched to parameters by shape."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from grader.scenarios import instantiate, load_affine_layers, random_affine_layers


def test_layers_are_the_same_on_both_sides_and_cached() -> None:
    first, again = random_affine_layers([5, 3, 2], seed=4, gains=[1.0, 2.0]), random_affine_layers([5, 3, 2], 4, [1.0, 2.0])
    assert [tuple(w.shape) for w, _ in first] == [(5, 3), (3, 2)] and all(a[0] is b[0] for a, b in zip(first, again))
    assert not torch.equal(first[0][0], random_affine_layers([5, 3, 2], seed=5, gains=[1.0, 2.0])[0][0])


def test_any_name_and_either_orientation_is_matched() -> None:
    layers = random_affine_layers([5, 3, 2], seed=1, gains=[1.0, 1.0])
    model = nn.Module()
    model.first = nn.Linear(5, 3)  # (out, in)
    model.w2, model.b2 = nn.Parameter(torch.zeros(3, 2)), nn.Parameter(torch.zeros(1, 2))  # (in, out), a row bias
    found = load_affine_layers(list(model.named_parameters()), layers)
    assert found == {"first.weight": "layer 0 weight", "first.bias": "layer 0 bias", "w2": "layer 1 weight", "b2": "layer 1 bias"}
    x = torch.randn(4, 5, dtype=torch.float64)
    by_hand = torch.tanh(x @ layers[0][0] + layers[0][1]) @ layers[1][0] + layers[1][1]
    ours = torch.tanh(model.first(x.float())) @ model.w2 + model.b2
    torch.testing.assert_close(ours.double(), by_hand, atol=1e-5, rtol=1e-5)


def test_a_parameter_that_fits_no_layer_or_two_is_unmatched() -> None:
    layers = random_affine_layers([4, 6, 4], seed=2, gains=[1.0, 1.0])  # (4, 6) fits layer 0, and layer 1 transposed
    params = [("a", nn.Parameter(torch.zeros(4, 6))), ("odd", nn.Parameter(torch.zeros(7))), ("b", nn.Parameter(torch.zeros(6)))]
    assert load_affine_layers(params, layers) == {"a": "unmatched", "odd": "unmatched", "b": "layer 0 bias"}
    assert torch.equal(params[0][1], torch.zeros(4, 6))  # nothing copied where the match was ambiguous


def test_instantiate_refuses_what_is_not_a_module() -> None:
    with pytest.raises(TypeError, match=r"Net\(hidden=3\) gave a NoneType, not an nn.Module"):
        instantiate(lambda target: (lambda **kw: None), "topic.Net", {"hidden": 3})
