"""The trusted sides of the CPSC 663 training checks: their own math, and what the worker never sees.

- The CNF's trusted integration (fixed-step RK4, exact trace) meets the closed forms of a linear
  field: z = e^{−A} x, ∫Tr = tr A, ∫‖f‖² = Σ aᵢ xᵢ² (1 − e^{−2aᵢ}) / 2 for A = diag(a).
- The CNF's PHATE figure embeds real and generated cells in one embedding, where they compare.
- The GNN check sends no label of a judged node or graph; the seq2seq check sends no masked word
  and no second half of a completed sentence.
"""
from __future__ import annotations

import math

import pytest
import torch


def test_cnf_integration_meets_the_closed_forms_of_a_linear_field() -> None:
    from course.cnf.heavy import nll, to_base, to_data

    a = torch.tensor([0.5, -0.3, 1.2], dtype=torch.float64)
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def field(t: float, y: torch.Tensor) -> torch.Tensor:
        return y * a

    z, delta_logp, kinetic = to_base(field, x)
    assert torch.allclose(z, x * torch.exp(-a), atol=1e-8)
    assert torch.allclose(delta_logp, a.sum().expand(50), atol=1e-10)
    assert torch.allclose(kinetic, (a * x * x * (1 - torch.exp(-2 * a)) / 2).sum(1), atol=1e-7)
    assert torch.allclose(to_data(field, z), x, atol=1e-8)
    log_p = -0.5 * (z * z).sum(1) - 1.5 * math.log(2 * math.pi) - a.sum()  # change of variables
    assert torch.allclose(nll(field, x)[0], -log_p, atol=1e-7)


def test_the_cnf_phate_figure_embeds_the_panels_together() -> None:
    pytest.importorskip("phate", reason="phate is not installed (the cells extra brings it)")
    from course.cnf.heavy import phate_embedding

    cloud = torch.randn(150, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    panels = {"real": cloud[:100], "close": cloud[50:] + 0.01, "far": cloud[:100] + 20.0}
    embedded = phate_embedding(panels, per_panel=100)
    assert {k: v.shape for k, v in embedded.items()} == {k: (100, 2) for k in panels}
    centre = {k: v.mean(0) for k, v in embedded.items()}  # one embedding: the far cloud lands apart

    def apart(a: str, b: str) -> float:
        return float(((centre[a] - centre[b]) ** 2).sum() ** 0.5)

    assert apart("real", "close") < apart("real", "far") / 5


def test_the_gnn_worker_gets_no_judged_label(data_cache) -> None:
    pytest.importorskip("torch_geometric", reason="the graphs extra (torch_geometric) is not installed")
    from course.gnn.heavy import _cora, _graph_split, prepare, training

    inputs = prepare(training.sizes["quick"].settings, 0)
    cora = _cora()
    sent = inputs["cora"]["y"]
    assert (sent[~cora.train_mask] == -1).all() and torch.equal(sent[cora.train_mask], cora.y[cora.train_mask])
    _, labels, judged = _graph_split()
    assert (inputs["graph_labels"][judged] == -1).all() and torch.equal(inputs["graph_labels"][~judged], labels[~judged])
    assert int(judged.sum()) == 200 and len(inputs["graphs"]) == 1000


def test_the_seq2seq_worker_gets_no_hidden_word(data_cache) -> None:
    from course.seq2seq.heavy import (
        PREFIX,
        _masked_positions,
        _tokens,
        _windows,
        prepare,
        training,
    )

    settings = training.sizes["quick"].settings
    inputs = prepare(settings, 0)
    _, judged = _windows(_tokens(), settings["words"])
    masks = _masked_positions(len(judged))
    for sentence, masked, prefix, hidden in zip(judged, inputs["judged"]["masked"], inputs["judged"]["prefix"],
                                                masks.tolist()):
        assert masked.split() == ["xxxx" if h else w for w, h in zip(sentence, hidden)]
        assert prefix.split() == sentence[:PREFIX] + ["xxxx"] * (len(sentence) - PREFIX)
    training_text = set(inputs["train"])
    assert not training_text & set(inputs["judged"]["reconstruct"])  # held out: the last tenth of the book


def test_a_forged_vocabulary_earns_nothing(data_cache) -> None:
    from course.seq2seq.heavy import SEQ_LEN, _tokens, _windows, evaluate, training
    from grader.heavy import Unusable

    settings = training.sizes["quick"].settings
    n = len(_windows(_tokens(), settings["words"])[1])
    unk = torch.full((n, SEQ_LEN), 2, dtype=torch.long)  # every word read as <unk>, and decoded so
    forged = {f"{k}_{task}": unk for k in ("src", "decoded") for task in ("reconstruct", "masked", "prefix")}
    forged["free_reconstruct"] = unk
    only_reserved = evaluate({**forged, "vocab": {"<pad>": 0, "<sos>": 1, "<unk>": 2, "xxxx": 3}}, settings)
    assert only_reserved["reconstruction"] == only_reserved["masked_recovery"] == 0
    with pytest.raises(Unusable, match="two words one id"):
        evaluate({**forged, "vocab": {w: 4 for w in set(_tokens())}}, settings)
