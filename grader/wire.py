"""The wire between the grader and a sandboxed worker: plain data that cannot run code when read.

A message is a JSON header plus one safetensors blob holding every tensor and array it carries.
Nothing here ever unpickles: JSON and safetensors parse into data, never into objects that run
code. In the header, containers other than lists are tagged one-key objects so that a reader
rebuilds exact types: ``{"t": [...]}`` a tuple, ``{"d": {...}}`` a dict, ``{"T": key}`` a tensor
and ``{"A": key}`` a NumPy array in the blob.

A frame is ``MAGIC``, the two lengths as unsigned 64-bit big-endian, the header, the blob.
"""
from __future__ import annotations

import json
import select
import socket
import struct
import time
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

MAGIC = b"GKW1"
_PREFIX = struct.Struct(">4sQQ")
MAX_HEADER = 16 << 20


class WireError(Exception):
    """A frame that is malformed, too large, late, or cut short."""


class WireTimeout(WireError):
    """No complete frame arrived before the deadline."""


def encode(value: Any) -> tuple[bytes, bytes]:
    """(header, blob) for a plain value (see :mod:`grader.plain`).

    Raises
    ------
    grader.plain.NotPlain
        For anything that is not plain data.
    """
    from grader.plain import NotPlain

    tensors: dict[str, torch.Tensor] = {}

    def tree(v: Any) -> Any:
        kind = type(v)
        if kind is torch.Tensor or kind is np.ndarray:
            key = str(len(tensors))
            try:
                t = torch.from_numpy(v.copy(order="C")) if kind is np.ndarray else v.detach().cpu()
                tensors[key] = t.contiguous().clone()
            except Exception as err:  # noqa: BLE001 - sparse, meta, object arrays, ...
                raise NotPlain(f"a {kind.__name__} that cannot be sent ({type(err).__name__}: {err})") from None
            return {"A" if kind is np.ndarray else "T": key}
        if kind in (bool, int, str, type(None)):
            return v
        if kind is float:
            return v  # JSON as Python writes it: NaN and Infinity survive the round trip
        if kind is list:
            return [tree(x) for x in v]
        if kind is tuple:
            return {"t": [tree(x) for x in v]}
        if kind is dict and all(type(k) is str for k in v):
            return {"d": {k: tree(x) for k, x in v.items()}}
        raise NotPlain(f"a value of type {kind.__module__}.{kind.__qualname__}")

    header = json.dumps(tree(value), separators=(",", ":")).encode()
    try:
        return header, save_tensors(tensors) if tensors else b""
    except Exception as err:  # noqa: BLE001 - e.g. complex dtypes, which safetensors does not store
        raise NotPlain(f"tensors that cannot be sent ({type(err).__name__}: {err})") from None


def decode(header: bytes, blob: bytes) -> Any:
    """The plain value of a frame; exact types only, whatever the sender intended.

    Raises
    ------
    WireError
        When the header or the blob is not what :func:`encode` writes.
    """
    try:
        doc = json.loads(header)
        tensors = load_tensors(blob) if blob else {}
    except Exception as err:  # noqa: BLE001 - any parse failure is a malformed frame
        raise WireError(f"unreadable frame ({type(err).__name__})") from None

    def tree(v: Any, depth: int = 0) -> Any:
        if depth > 64:
            raise WireError("frame nested too deeply")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is list:
            return [tree(x, depth + 1) for x in v]
        if type(v) is dict and len(v) == 1:
            (tag, inner), = v.items()
            if tag in ("T", "A") and type(inner) is str and inner in tensors:
                t = tensors[inner]
                return t.numpy() if tag == "A" else t
            if tag == "t" and type(inner) is list:
                return tuple(tree(x, depth + 1) for x in inner)
            if tag == "d" and type(inner) is dict:
                return {k: tree(x, depth + 1) for k, x in inner.items()}
        raise WireError("frame holds something that is not plain data")

    return tree(doc)


def frame(value: Any) -> bytes:
    """The bytes of one frame holding ``value``."""
    header, blob = encode(value)
    return _PREFIX.pack(MAGIC, len(header), len(blob)) + header + blob


def send(sock: socket.socket, value: Any) -> None:
    """Write one frame holding ``value``."""
    sock.sendall(frame(value))


def receive(sock: socket.socket, *, timeout: float | None = None, max_bytes: int = 1 << 30) -> Any:
    """Read one frame; ``timeout`` bounds the whole frame, not each read.

    Raises
    ------
    WireTimeout
        When the frame is not complete within ``timeout`` seconds.
    WireError
        When the peer closed the socket, or sent a malformed or oversized frame.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    magic, n_header, n_blob = _PREFIX.unpack(_read(sock, _PREFIX.size, deadline))
    if magic != MAGIC:
        raise WireError("frame does not start with the gradekit magic")
    if n_header > MAX_HEADER or n_header + n_blob > max_bytes:
        raise WireError(f"frame of {n_header + n_blob} bytes exceeds the {max_bytes}-byte limit")
    header = _read(sock, n_header, deadline)
    return decode(header, _read(sock, n_blob, deadline))


def _read(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([sock], [], [], wait)[0]:
                raise WireTimeout("no reply in time")
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise WireError("the peer closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
