"""The worker's wire: plain data survives exactly; anything else is refused, and nothing unpickles."""
from __future__ import annotations

import math
import pickle
import socket
import struct

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader import wire
from grader.plain import NotPlain

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]

arrays = st.sampled_from(DTYPES).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
)
tensors = arrays.map(lambda a: torch.from_numpy(a.copy()))
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8)
plain = st.recursive(
    scalars | arrays | tensors,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is torch.Tensor:
        return a.dtype == b.dtype and same(a.numpy(), b.numpy())
    if type(a) is np.ndarray:
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if type(a) is float:
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@given(plain)
def test_plain_values_round_trip_with_exact_types(value) -> None:
    assert same(wire.decode(*wire.encode(value)), value)


def test_tensors_cross_as_fresh_contiguous_copies() -> None:
    base = torch.arange(12.0).reshape(3, 4)
    view = base.t()
    (back,) = wire.decode(*wire.encode([view]))
    assert torch.equal(back, view) and back.is_contiguous()
    back[0, 0] = 99
    assert base[0, 0] == 0


class Liar(torch.Tensor):
    def __eq__(self, other):  # noqa: D105 - the attack
        return True


@pytest.mark.parametrize("value", [
    torch.zeros(2).as_subclass(Liar),
    np.zeros(2).view(np.matrix),
    np.array([object()]),
    torch.zeros(2).to_sparse(),
    type("F", (float,), {})(1.0),
    {1: 2},
    (x for x in range(3)),
], ids=["tensor-subclass", "ndarray-subclass", "object-array", "sparse", "float-subclass", "int-keys", "generator"])
def test_anything_but_plain_data_is_refused(value) -> None:
    with pytest.raises(NotPlain):
        wire.encode(value)


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _frame(header: bytes, blob: bytes = b"") -> bytes:
    return struct.pack(">4sQQ", wire.MAGIC, len(header), len(blob)) + header + blob


@pytest.mark.parametrize("make", [
    lambda pickled: _frame(b'{"x": 1, "y": 2}'),
    lambda pickled: _frame(b'{"T": "0"}'),
    lambda pickled: _frame(b'{"T": "0"}', pickled),
    lambda pickled: _frame(pickled),
    lambda pickled: _frame(b'{"q": 1}'),
    lambda pickled: _frame(b"[" * 200 + b"]" * 200),
    lambda pickled: b"PWNZ" + _frame(b"1")[4:],
    lambda pickled: struct.pack(">4sQQ", wire.MAGIC, 1 << 40, 0),
    lambda pickled: _frame(b'{"t": 1}'),
], ids=["untagged-dict", "missing-tensor", "pickle-as-tensors", "pickle-as-header", "unknown-tag",
        "deep-nesting", "bad-magic", "oversized", "tuple-not-list"])
def test_malformed_frames_are_refused_and_never_unpickled(make, tmp_path) -> None:
    marker = tmp_path / "unpickled"
    a, b = socket.socketpair()
    with a, b:
        b.sendall(make(pickle.dumps(Payload(marker))))
        b.shutdown(socket.SHUT_WR)
        with pytest.raises(wire.WireError):
            wire.receive(a, timeout=5, max_bytes=1 << 20)
    assert not marker.exists()


def test_a_frame_cut_short_or_late_is_an_error() -> None:
    a, b = socket.socketpair()
    with a, b:
        b.sendall(wire.frame([1, 2, 3])[:-2])
        with pytest.raises(wire.WireTimeout):
            wire.receive(a, timeout=0.2)
        b.close()
        with pytest.raises(wire.WireError):
            wire.receive(a, timeout=1)
