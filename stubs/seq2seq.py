# Generated from course/solutions/seq2seq.py by `grader stubs`; do not edit by hand.
r"""Word vectors and a sentence autoencoder: tokens, a vocabulary, skip-gram, an LSTM seq2seq.

Handout: CPSC 663 Exercise III (2022), problem 2. Word2vec (skip-gram) embeddings are learnt on
*On the Origin of Species*; an LSTM encoder squeezes a sentence into one vector, and a decoder
rebuilds the sentence from it, then fills in masked words.

Conventions for every function here:
- reserved tokens and their ids: ``<pad>`` 0, ``<sos>`` 1 (start of sentence), ``<unk>`` 2
  (unknown word), ``xxxx`` 3 (the mask); every other token gets an id from 4 on;
- ids are int64 tensors; B is the batch size, T the number of tokens per sentence, V the size of
  the vocabulary, E the embedding dimension, H the LSTM's hidden size.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "RESERVED",
    "tokenize",
    "build_vocab",
    "skipgram_pairs",
    "SkipGram",
    "Seq2Seq",
    "mask_tokens",
    "to_ids",
    "TrainConfig",
    "QUICK",
    "FULL",
]

RESERVED = ("<pad>", "<sos>", "<unk>", "xxxx")  # ids 0, 1, 2, 3
SOS_ID, UNK_ID = 1, 2


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of a text.

    A token is a run of letters and digits; an apostrophe between two such characters stays in
    the word (``it's``, ``o'clock``). Everything else (spaces, punctuation, an apostrophe at a
    word's edge) separates tokens and is dropped.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    list of str
        The tokens in order of appearance.

    Examples
    --------
    >>> tokenize("It's 1859: Darwin's ORIGIN!")
    ["it's", '1859', "darwin's", 'origin']
    """
    raise NotImplementedError("tokenize: replace this line with your implementation")


def build_vocab(tokens: Iterable[str]) -> dict[str, int]:
    """The vocabulary: each distinct token's id.

    ``<pad>``, ``<sos>``, ``<unk>``, ``xxxx`` take ids 0, 1, 2, 3; then every token not seen
    before gets the next id, in order of first appearance, so the ids are 0 .. V-1. A token that
    is already in the vocabulary (a repeat, or ``xxxx`` in the text) gets no new id.

    Parameters
    ----------
    tokens : iterable of str
        Tokens, e.g. from :func:`tokenize`.

    Returns
    -------
    dict
        token -> id (int).
    """
    raise NotImplementedError("build_vocab: replace this line with your implementation")


def skipgram_pairs(token_ids: Sequence[int], context_size: int) -> list[tuple[int, int]]:
    """Every (centre, context) pair of a skip-gram window.

    pairs = {(w_i, w_j) : 1 <= |i - j| <= context_size}

    where w_i is the id at position i. Windows are cut at the sequence's ends; a word is never
    its own context, but a repeated word at another position is.

    Parameters
    ----------
    token_ids : sequence of int
        Ids of one text, in order (a list, or a 1-D int64 tensor).
    context_size : int
        How many positions on each side belong to a word's context.

    Returns
    -------
    list of (int, int)
        One (centre id, context id) pair per pair of positions, in any order.

    Shapes
    ------
    token_ids : (N,)
    returns : about 2 * context_size * N pairs
    """
    raise NotImplementedError("skipgram_pairs: replace this line with your implementation")


class SkipGram(nn.Module):
    """Word2vec's skip-gram with a full softmax: predict a context word from the centre word.

    p(context = o | centre = c) = softmax_o(U v_c)

    where v_c is the centre word's row of the input table (the word embeddings) and U the
    output table.

    Parameters
    ----------
    vocab_size : int
        V.
    embedding_dim : int
        E.

    Shapes
    ------
    forward : centre (B,) int64 -> logits (B, V)
    embeddings : (V, E), the input table
    """

    def __init__(self, vocab_size: int, embedding_dim: int):
        super().__init__()
        raise NotImplementedError("__init__: replace this line with your implementation")

    @property
    def embeddings(self) -> torch.Tensor:
        """The input table: one word vector per id, (V, E)."""
        raise NotImplementedError("embeddings: replace this line with your implementation")

    def forward(self, centre: torch.Tensor) -> torch.Tensor:
        """Logits over the vocabulary of the context word, (B,) -> (B, V)."""
        raise NotImplementedError("forward: replace this line with your implementation")


class Seq2Seq(nn.Module):
    """A sentence autoencoder: an LSTM encoder, and an LSTM decoder that rebuilds the sentence.

    The encoder reads the whole sentence; its final state (h, c) is the sentence embedding and
    the decoder's initial state. Decoding step 0 reads ``<sos>``; step t > 0 reads
    ``teacher[:, t-1]`` when a teacher is given (teacher forcing), else the argmax of step
    t - 1 (the decoder's own prediction).

    Parameters
    ----------
    vocab_size : int
        V.
    embedding_dim : int
        E, of the token embeddings (shared by encoder and decoder).
    hidden : int
        H, of both LSTMs; the sentence embedding is their (h, c).

    Shapes
    ------
    forward : src (B, T) int64, teacher (B, T) int64 or None -> logits (B, T, V)
    reconstruct : src (B, T) int64 -> ids (B, T) int64
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden: int):
        super().__init__()
        raise NotImplementedError("__init__: replace this line with your implementation")

    def forward(self, src: torch.Tensor, teacher: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of every decoding step: (B, T) ids -> (B, T, V)."""
        raise NotImplementedError("forward: replace this line with your implementation")

    def reconstruct(self, src: torch.Tensor) -> torch.Tensor:
        """Greedy decoding without a teacher: (B, T) ids -> (B, T) int64 ids."""
        raise NotImplementedError("reconstruct: replace this line with your implementation")


def mask_tokens(ids: torch.Tensor, prob: float, mask_id: int) -> torch.Tensor:
    """A masked copy of ``ids``, for training the decoder to fill in words.

    Each position is replaced by ``mask_id`` independently with probability ``prob``, except
    positions holding a reserved id (0-3: ``<pad>``, ``<sos>``, ``<unk>``, ``xxxx``), which are
    never masked. ``ids`` itself is left unchanged; every call draws new positions.

    Parameters
    ----------
    ids : torch.Tensor
        Token ids (int64).
    prob : float
        Probability in [0, 1] that a position is masked.
    mask_id : int
        The id that replaces a masked token (3, ``xxxx``, with :func:`build_vocab`).

    Returns
    -------
    torch.Tensor
        The masked copy, int64, on ``ids``'s device.

    Shapes
    ------
    ids : any, e.g. (B, T)
    returns : like ids
    """
    raise NotImplementedError("mask_tokens: replace this line with your implementation")


# ---------------------------------------------------------------------------------------------
# Provided code (not graded): ids of tokens and the training settings.


def to_ids(tokens: Iterable[str], vocab: dict[str, int]) -> torch.Tensor:
    """Ids of ``tokens`` (``<unk>`` for a token not in ``vocab``), int64 (N,)."""
    return torch.tensor([vocab.get(token, UNK_ID) for token in tokens], dtype=torch.long)


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of the word vectors and the sentence autoencoder (handout values in ``FULL``)."""

    edition: int = 1  # of On the Origin of Species (Gutenberg 1228)
    context_size: int = 2  # skip-gram window on each side
    skipgram_dim: int = 64  # E of the word vectors
    skipgram_epochs: int = 5
    seq_len: int = 10  # tokens per training sentence
    embedding_dim: int = 64  # E of the autoencoder
    hidden: int = 256  # H of both LSTMs
    mask_prob: float = 0.15  # fill-in training
    lr: float = 1e-3  # Adam
    batch_size: int = 64
    epochs: int = 20
    seed: int = 0


FULL = TrainConfig()
QUICK = TrainConfig(skipgram_epochs=1, hidden=128, epochs=2)
