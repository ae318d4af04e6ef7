"""Independent oracles and seeded inputs for the seq2seq checks: a character scanner for the
tokens, a scan for the vocabulary, brute force over positions for the skip-gram pairs."""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import torch

from grader.facets import CheckFailure
from grader.plain import summarize

RESERVED = ("<pad>", "<sos>", "<unk>", "xxxx")


# -- tokens and the vocabulary --------------------------------------------------------------


def words(text: str) -> list[str]:
    """Lower-case runs of letters and digits, an apostrophe between two of them kept: one pass
    over the characters."""
    low = text.lower()
    tokens, word = [], ""
    for i, ch in enumerate(low):
        inner_apostrophe = ch == "'" and word and i + 1 < len(low) and low[i + 1].isalnum()
        if ch.isalnum() or inner_apostrophe:
            word += ch
            continue
        if word:
            tokens.append(word)
        word = ""
    return tokens + [word] if word else tokens


_WORDS = ("the", "Origin", "of", "SPECIES", "by", "Means", "natural", "selection", "it's", "o'clock", "Darwin's",
          "1859", "x2", "a", "I", "don't", "rock'n'roll", "Variation", "under", "DOMESTICATION")
_GAPS = (" ", "  ", ", ", ". ", "; ", ": ", "! ", "? ", " (", ") ", "\n", "\t", " -- ", "-", '"', " \"", "... ")


def texts(seed: int, count: int) -> list[str]:
    """Random texts of plain words, digits, inner apostrophes and punctuation."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = int(rng.integers(0, 12))
        parts = [str(rng.choice(_GAPS)) if rng.random() < 0.3 else ""]
        for _ in range(n):
            parts += [str(rng.choice(_WORDS)), str(rng.choice(_GAPS))]
        out.append("".join(parts))
    return out


def vocabulary(tokens: list[str]) -> dict[str, int]:
    """Reserved ids 0-3, then ids in order of first appearance, by a scan that counts as it goes."""
    vocab: dict[str, int] = {}
    for token in [*RESERVED, *tokens]:
        if token not in vocab:
            vocab[token] = len(vocab)
    return vocab


def as_tokens(target: str, value: Any, call: str) -> list[str]:
    if type(value) not in (list, tuple) or not all(type(v) is str for v in value):
        raise CheckFailure(f"{target}: returned {summarize(value)}, expected a list of str\n  call: {call}")
    return list(value)


def _integer(value: Any) -> int | None:
    if type(value) is int:
        return value
    if type(value) is torch.Tensor and value.numel() == 1 and not value.is_floating_point():
        return int(value)
    return None


def as_vocab(target: str, value: Any, call: str) -> dict[str, int]:
    ids = {k: _integer(v) for k, v in value.items()} if type(value) is dict else None
    if ids is None or None in ids.values():
        raise CheckFailure(f"{target}: returned {summarize(value)}, expected a dict token -> int id\n  call: {call}")
    return ids


# -- skip-gram pairs ---------------------------------------------------------------------------


def window_pairs(ids: list[int], context_size: int) -> Counter:
    """(centre, context) over every pair of positions 1 <= |i - j| <= context_size: all pairs, filtered."""
    n = len(ids)
    return Counter((ids[i], ids[j]) for i in range(n) for j in range(n) if 1 <= abs(i - j) <= context_size)


def as_pairs(target: str, value: Any, call: str) -> Counter:
    """The returned pairs as a multiset: a list of pairs, or an (N, 2) integer tensor or array."""
    rows = value.tolist() if type(value) in (torch.Tensor, np.ndarray) and value.ndim == 2 and value.shape[1] == 2 else value
    if type(rows) in (list, tuple) and all(type(r) in (list, tuple) and len(r) == 2 for r in rows):
        pairs = [(_integer(a), _integer(b)) for a, b in rows]
        if all(a is not None and b is not None for a, b in pairs):
            return Counter(pairs)
    raise CheckFailure(f"{target}: returned {summarize(value)}, expected a list of (centre, context) int pairs\n"
                       f"  call: {call}")


def pair_difference(want: Counter, got: Counter) -> str:
    missing, extra = want - got, got - want
    return (f"missing {sorted(missing.elements())[:6]}{' ...' if sum(missing.values()) > 6 else ''}, "
            f"unexpected {sorted(extra.elements())[:6]}{' ...' if sum(extra.values()) > 6 else ''}")
