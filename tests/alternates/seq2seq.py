"""Correct seq2seq.py functions and classes in other styles: other regexes, tensors of pairs,
negative-sampling tables, other decoder wirings, other random generators."""
from __future__ import annotations

import random
import re
import string

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tests.alternates import alternate

RESERVED = ("<pad>", "<sos>", "<unk>", "xxxx")


@alternate("seq2seq.tokenize", "word_boundaries")
def _(text):
    return re.findall(r"\b[a-z0-9]+(?:'[a-z0-9]+)*\b", text.lower())


@alternate("seq2seq.tokenize", "translate_then_strip")
def _(text):
    # loses only the edge clause: a doubled apostrophe inside a word survives the strip
    kept = text.lower().translate(str.maketrans({c: " " for c in string.punctuation.replace("'", "")}))
    return [w.strip("'") for w in kept.split() if w.strip("'")]


@alternate("seq2seq.tokenize", "character_loop")
def _(text):
    tokens, word, low = [], [], text.lower()
    for i, ch in enumerate(low):
        if ch.isalnum() or (ch == "'" and word and low[i + 1:i + 2].isalnum()):
            word.append(ch)
        elif word:
            tokens.append("".join(word))
            word = []
    return tokens + (["".join(word)] if word else [])


@alternate("seq2seq.build_vocab", "dict_fromkeys")
def _(tokens):
    return {t: i for i, t in enumerate(dict.fromkeys([*RESERVED, *tokens]))}


@alternate("seq2seq.build_vocab", "membership_loop")
def _(tokens):
    vocab = dict(zip(RESERVED, range(4)))
    for t in tokens:
        if t not in vocab:
            vocab[t] = len(vocab)
    return vocab


@alternate("seq2seq.build_vocab", "numpy_ids")
def _(tokens):
    order = list(dict.fromkeys([*RESERVED, *tokens]))
    return dict(zip(order, np.arange(len(order))))


@alternate("seq2seq.skipgram_pairs", "offsets_as_tensor")
def _(token_ids, context_size):
    ids = torch.as_tensor(token_ids, dtype=torch.long).reshape(-1)
    parts = [torch.zeros(0, 2, dtype=torch.long)]
    for d in range(1, context_size + 1):
        parts += [torch.stack([ids[:-d], ids[d:]], 1), torch.stack([ids[d:], ids[:-d]], 1)]
    return torch.cat(parts)


@alternate("seq2seq.skipgram_pairs", "numpy_array")
def _(token_ids, context_size):
    ids = np.asarray([int(i) for i in token_ids], dtype=np.int64)
    i, j = np.meshgrid(np.arange(len(ids)), np.arange(len(ids)), indexing="ij")
    keep = (np.abs(i - j) >= 1) & (np.abs(i - j) <= context_size)
    return np.stack([ids[i[keep]], ids[j[keep]]], 1).reshape(-1, 2)


@alternate("seq2seq.skipgram_pairs", "tensor_elements")
def _(token_ids, context_size):
    ids = torch.as_tensor(token_ids).reshape(-1)
    return [(ids[i], ids[j]) for i in range(len(ids)) for j in range(len(ids)) if 0 < abs(i - j) <= context_size]


@alternate("seq2seq.SkipGram", "two_tables_negative_sampling_style")
class _(nn.Module):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.inputs = nn.Embedding(vocab_size, embedding_dim)
        self.outputs = nn.Embedding(vocab_size, embedding_dim)

    @property
    def embeddings(self):
        return self.inputs.weight

    def forward(self, centre):
        return self.inputs(centre) @ self.outputs.weight.T


@alternate("seq2seq.SkipGram", "embedding_module_attribute")
class _(nn.Module):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)  # the table itself, not a property
        self.linear = nn.Linear(embedding_dim, vocab_size)

    def forward(self, centre):
        return self.linear(self.embeddings(centre))


@alternate("seq2seq.SkipGram", "log_softmax_and_method")
class _(nn.Module):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.table = nn.Parameter(torch.randn(vocab_size, embedding_dim))
        self.out = nn.Linear(embedding_dim, vocab_size, bias=False)

    def embeddings(self):
        return self.table

    def forward(self, centre):
        return F.log_softmax(self.out(self.table[centre]), dim=-1)


class _Base(nn.Module):
    """Separate tables for encoder and decoder; subclasses choose how the sentence reaches the decoder."""

    def __init__(self, vocab_size, embedding_dim, hidden):
        super().__init__()
        self.src_embed, self.tgt_embed = nn.Embedding(vocab_size, embedding_dim), nn.Embedding(vocab_size, embedding_dim)
        self.encoder = nn.LSTM(embedding_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def reconstruct(self, src):
        with torch.no_grad():
            return torch.argmax(self(src), dim=2)


@alternate("seq2seq.Seq2Seq", "teacher_in_one_lstm_call")
class _(_Base):
    def __init__(self, vocab_size, embedding_dim, hidden):
        super().__init__(vocab_size, embedding_dim, hidden)
        self.decoder = nn.LSTM(embedding_dim, hidden, batch_first=True)

    def forward(self, src, teacher=None):
        _, state = self.encoder(self.src_embed(src))
        sos = torch.ones(src.shape[0], 1, dtype=torch.long)
        if teacher is not None:  # all steps at once: inputs are <sos> then the teacher shifted right
            out, _ = self.decoder(self.tgt_embed(torch.cat([sos, teacher[:, :-1]], 1)), state)
            return self.head(out)
        token, steps = sos, []
        for _ in range(src.shape[1]):
            out, state = self.decoder(self.tgt_embed(token), state)
            steps.append(self.head(out))
            token = steps[-1].argmax(-1)
        return torch.cat(steps, 1)


@alternate("seq2seq.Seq2Seq", "context_concatenated_to_inputs")
class _(_Base):
    def __init__(self, vocab_size, embedding_dim, hidden):
        super().__init__(vocab_size, embedding_dim, hidden)
        self.decoder = nn.LSTMCell(embedding_dim + hidden, hidden)

    def forward(self, src, teacher=None):
        _, (h_n, _) = self.encoder(self.src_embed(src))
        context = h_n[-1]  # (B, H): the sentence embedding, fed at every step
        h, c = torch.zeros_like(context), torch.zeros_like(context)
        token, steps = torch.full((src.shape[0],), 1, dtype=torch.long), []
        for t in range(src.shape[1]):
            h, c = self.decoder(torch.cat([self.tgt_embed(token), context], 1), (h, c))
            steps.append(self.head(h))
            token = teacher[:, t] if teacher is not None else steps[-1].argmax(1)
        return torch.stack(steps, 1)


@alternate("seq2seq.Seq2Seq", "projected_initial_state")
class _(_Base):
    def __init__(self, vocab_size, embedding_dim, hidden):
        super().__init__(vocab_size, embedding_dim, hidden)
        self.bridge = nn.Linear(2 * hidden, 2 * hidden)
        self.decoder = nn.LSTMCell(embedding_dim, hidden)

    def forward(self, src, teacher=None):
        _, (h_n, c_n) = self.encoder(self.src_embed(src))
        h, c = torch.tanh(self.bridge(torch.cat([h_n[0], c_n[0]], 1))).chunk(2, dim=1)
        token, steps = src.new_ones(src.shape[0]), []
        for t in range(src.shape[1]):
            h, c = self.decoder(self.tgt_embed(token), (h, c))
            logits = F.log_softmax(self.head(h), -1)  # log-probabilities are logits too
            steps.append(logits)
            token = logits.argmax(-1) if teacher is None else teacher[:, t]
        return torch.stack(steps, 1)


@alternate("seq2seq.mask_tokens", "bernoulli_masked_fill")
def _(ids, prob, mask_id):
    chosen = torch.bernoulli(torch.full(ids.shape, float(prob))).bool() & ~torch.isin(ids, torch.arange(4))
    return ids.masked_fill(chosen, mask_id)


@alternate("seq2seq.mask_tokens", "numpy_generator")
def _(ids, prob, mask_id):
    out = ids.numpy().copy()
    out[(np.random.random(out.shape) < prob) & (out > 3)] = mask_id
    return torch.from_numpy(out)


@alternate("seq2seq.mask_tokens", "python_random_loop")
def _(ids, prob, mask_id):
    flat = ids.reshape(-1).tolist()
    masked = [mask_id if i >= 4 and random.random() < prob else i for i in flat]
    return torch.tensor(masked, dtype=torch.long).reshape(ids.shape)
