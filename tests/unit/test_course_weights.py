"""The trusted side of the MNIST training checks reads trained weights and reruns the models itself.

Each reader must reproduce the reference model it replaces, on random weights, whatever the
orientation and names of its parameters; what it cannot read is refused as unusable.
"""
from __future__ import annotations

import pytest
import torch

from course.autoencoder import heavy as autoencoder_heavy
from course.linear import heavy as linear_heavy
from course.patch_rnn import heavy as patch_heavy
from course.solutions import autoencoder, linear, patch_rnn
from course.weights import affine_chain
from grader.heavy import Unusable


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_affine_chain_reads_either_orientation_in_order() -> None:
    g = torch.Generator().manual_seed(0)
    W1, W2 = torch.randn(5, 3, generator=g), torch.randn(3, 2, generator=g)
    state = {"z": W2.T.clone(), "a": W1.clone(), "b1": torch.ones(1, 3), "b2": torch.zeros(2)}
    (A, a), (B, b) = affine_chain(state, (5, 3, 2), "demo")
    assert torch.equal(A, W1.double()) and torch.equal(B, W2.double())
    assert a.shape == (3,) and b.shape == (2,) and A.dtype == torch.float64


@pytest.mark.parametrize("change, message", [
    ({"extra": torch.zeros(4)}, r"parameter extra \(4,\) is not one of"),
    ({"again": torch.zeros(2)}, r"appears twice"),
    ({"b2": None}, r"no parameter holds layer 1 bias"),
], ids=["extra", "twice", "missing"])
def test_affine_chain_refuses_what_it_cannot_read(change, message) -> None:
    state = {"w1": torch.zeros(5, 3), "b1": torch.zeros(3), "w2": torch.zeros(3, 2), "b2": torch.zeros(2)}
    state = {k: v for k, v in {**state, **change}.items() if v is not None}
    with pytest.raises(Unusable, match=message):
        affine_chain(state, (5, 3, 2), "demo")


def test_classifier_logits_match_the_reference_net() -> None:
    torch.manual_seed(0)
    model = linear.FeedForwardNet(hidden=linear_heavy.HIDDEN, activation=linear_heavy.ACTIVATION)
    x = torch.rand(7, 784)
    layers = affine_chain(_state(model), (784, linear_heavy.HIDDEN, 10), "net")
    ours = torch.softmax(torch.from_numpy(linear_heavy.logits(layers, x.double().numpy(), "relu")), 1)
    torch.testing.assert_close(ours.float(), model(x).detach(), atol=1e-5, rtol=1e-4)


def test_autoencoder_forward_matches_the_reference() -> None:
    torch.manual_seed(0)
    model = autoencoder.Autoencoder()
    state = _state(model)
    returned = {"state": state, "encoder": [n for n in state if n.startswith("encoder")],
                "decoder": [n for n in state if n.startswith("decoder")]}
    ours, x = autoencoder_heavy.Model(returned), torch.rand(6, 784)
    with torch.no_grad():
        torch.testing.assert_close(ours.encode(x), model.encode(x), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(ours.decode(ours.encode(x)), model(x), atol=1e-5, rtol=1e-4)


def test_patch_completion_matches_the_reference_lstm() -> None:
    torch.manual_seed(0)
    model = patch_rnn.PatchLSTM(hidden=patch_heavy.HIDDEN, layers=patch_heavy.LAYERS).eval()
    images = torch.rand(5, 28, 28)
    tops = patch_heavy.to_patches(images)[:, :8]
    ours = patch_heavy.complete(*patch_heavy.read_weights(_state(model)), tops)
    torch.testing.assert_close(ours.float(), patch_rnn.complete(model, tops), atol=1e-5, rtol=1e-4)
    assert torch.equal(patch_heavy.to_images(patch_heavy.to_patches(images)), images)
    assert torch.equal(patch_heavy.to_patches(images), patch_rnn.image_to_patches(images))


def _patch_models() -> dict[str, type]:
    from tests.alternates import all_alternates

    class TwoLstms(torch.nn.Module):  # one single-layer nn.LSTM per layer: weight_ih_l0 twice
        def __init__(self, hidden: int = 64, layers: int = 2):
            super().__init__()
            self.first, self.second = torch.nn.LSTM(49, hidden, batch_first=True), torch.nn.LSTM(hidden, hidden, batch_first=True)
            self.readout = torch.nn.Linear(hidden, 49)

        def forward(self, seq, state=None):
            first, second = (None, None) if state is None else ((state[0][:1], state[1][:1]), (state[0][1:], state[1][1:]))
            out, (h1, c1) = self.first(seq, first)
            out, (h2, c2) = self.second(out, second)
            return torch.sigmoid(self.readout(out)), (torch.cat([h1, h2]), torch.cat([c1, c2]))

    found = {a.name: a.fn for a in all_alternates() if a.target == "patch_rnn.PatchLSTM"}
    return {**found, "two_lstms": TwoLstms}


# A deeper head (Linear, ReLU, Linear) cannot be rerun from its weights alone: refused (README, Not yet).
UNREADABLE_HEADS = {"dropout_and_two_layer_head"}


@pytest.mark.parametrize("name", sorted(_patch_models()))
def test_patch_completion_reads_lstms_built_otherwise(name: str) -> None:
    torch.manual_seed(1)
    model = _patch_models()[name](patch_heavy.HIDDEN, patch_heavy.LAYERS).eval()
    tops = torch.rand(4, 8, 49)
    if name in UNREADABLE_HEADS:
        with pytest.raises(Unusable, match="readout"):
            patch_heavy.read_weights(_state(model))
        return
    ours = patch_heavy.complete(*patch_heavy.read_weights(_state(model)), tops)
    torch.testing.assert_close(ours.float(), patch_rnn.complete(model, tops), atol=1e-5, rtol=1e-4)


def test_patch_weights_of_another_model_are_unusable() -> None:
    state = _state(patch_rnn.PatchLSTM(hidden=patch_heavy.HIDDEN, layers=1))
    with pytest.raises(Unusable, match="expected 2 LSTM layers"):
        patch_heavy.read_weights(state)
    state = _state(patch_rnn.PatchLSTM(hidden=patch_heavy.HIDDEN, layers=2))
    del state[next(n for n in state if n.endswith("weight_hh_l1"))]
    with pytest.raises(Unusable, match="weight_hh_l1"):
        patch_heavy.read_weights(state)
