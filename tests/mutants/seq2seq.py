"""Wrong versions of the seq2seq.py graded functions and classes."""
from __future__ import annotations

import re
from collections import Counter

import torch
from torch import nn

from course.solutions import seq2seq as solution
from tests.mutants import mutant

TOK, VOC, PAIRS = "seq2seq.tokenize", "seq2seq.build_vocab", "seq2seq.skipgram_pairs"
SG, S2S, MASK = "seq2seq.SkipGram", "seq2seq.Seq2Seq", "seq2seq.mask_tokens"
RESERVED = ("<pad>", "<sos>", "<unk>", "xxxx")


@mutant(TOK, "keeps_case")
def _(text):
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text)


@mutant(TOK, "split_on_whitespace")
def _(text):
    return text.lower().split()


@mutant(TOK, "splits_apostrophes")
def _(text):
    return re.findall(r"[a-z0-9]+", text.lower())


@mutant(TOK, "drops_digits")
def _(text):
    return re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower())


@mutant(TOK, "punctuation_tokens")
def _(text):
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]", text.lower())


@mutant(VOC, "sorted_alphabetically")
def _(tokens):
    return {t: i for i, t in enumerate([*RESERVED, *sorted(set(tokens) - set(RESERVED))])}


@mutant(VOC, "no_mask_token")
def _(tokens):
    vocab = {"<pad>": 0, "<sos>": 1, "<unk>": 2}
    for t in tokens:
        vocab.setdefault(t, len(vocab))
    return vocab


@mutant(VOC, "reserved_swapped")
def _(tokens):
    vocab = {"<sos>": 0, "<pad>": 1, "<unk>": 2, "xxxx": 3}
    for t in tokens:
        vocab.setdefault(t, len(vocab))
    return vocab


@mutant(VOC, "ids_skip_repeats")
def _(tokens):
    vocab = {t: i for i, t in enumerate(RESERVED)}
    for i, t in enumerate(tokens):
        vocab.setdefault(t, 4 + i)
    return vocab


@mutant(VOC, "counts_not_ids")
def _(tokens):
    return {**{t: i for i, t in enumerate(RESERVED)}, **Counter(tokens)}


def _pairs(ids, c, *, lo=1, hi=None, left=True, right=True):
    ids, hi = [int(i) for i in ids], c if hi is None else hi
    return [(ids[i], ids[j]) for i in range(len(ids)) for j in range(len(ids))
            if lo <= abs(i - j) <= hi and ((j < i and left) or (j >= i and right))]


@mutant(PAIRS, "centre_with_itself")
def _(token_ids, context_size):
    return _pairs(token_ids, context_size, lo=0)


@mutant(PAIRS, "window_one_short")
def _(token_ids, context_size):
    return _pairs(token_ids, context_size, hi=context_size - 1)


@mutant(PAIRS, "right_context_only")
def _(token_ids, context_size):
    return _pairs(token_ids, context_size, left=False)


@mutant(PAIRS, "full_windows_only")
def _(token_ids, context_size):
    ids = [int(i) for i in token_ids]
    return [(ids[i], ids[j]) for i in range(context_size, len(ids) - context_size)
            for j in range(i - context_size, i + context_size + 1) if j != i]


@mutant(PAIRS, "deduplicated")
def _(token_ids, context_size):
    return sorted(set(_pairs(token_ids, context_size)))


@mutant(PAIRS, "positions_not_ids")
def _(token_ids, context_size):
    return _pairs(range(len(token_ids)), context_size)


@mutant(SG, "embeddings_output_table")
class _(solution.SkipGram):
    @property
    def embeddings(self):
        return self.context.weight


@mutant(SG, "ignores_centre")
class _(solution.SkipGram):
    def forward(self, centre):
        return self.context(self.centre.weight.mean(0)).expand(centre.shape[0], -1)


@mutant(SG, "returns_probabilities")
class _(solution.SkipGram):
    def forward(self, centre):
        return torch.softmax(super().forward(centre), dim=-1)


@mutant(SG, "stale_embeddings")
class _(solution.SkipGram):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__(vocab_size, embedding_dim)
        self._copy = self.centre.weight.detach().clone()

    @property
    def embeddings(self):
        return self._copy


@mutant(SG, "hidden_dim_fixed")
class _(solution.SkipGram):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__(vocab_size, 10)


class _Decoder(solution.Seq2Seq):
    """The solution's model with one decoding rule changed by the subclass's flags."""

    feed = "argmax"  # what a free-running step t > 0 reads: argmax, source, sos
    shift = True  # teacher forcing reads teacher[:, t-1] (else teacher[:, t])
    use_teacher = True
    encode = "all"  # all, none, first
    start = solution.SOS_ID

    def forward(self, src, teacher=None):
        B, T = src.shape
        seen = {"all": src, "first": src[:, :1]}.get(self.encode)
        h = c = torch.zeros(B, self.decoder.hidden_size)
        if seen is not None:
            _, (h, c) = self.encoder(self.embed(seen))
            h, c = h[0], c[0]
        token, steps = torch.full((B,), self.start, dtype=torch.long), []
        for t in range(T):
            if teacher is not None and self.use_teacher and not self.shift:
                token = teacher[:, t]
            h, c = self.decoder(self.embed(token), (h, c))
            steps.append(self.out(h))
            if teacher is not None and self.use_teacher:
                token = teacher[:, t]
            else:
                token = {"argmax": steps[-1].argmax(-1), "source": src[:, t], "sos": torch.full_like(token, 1)}[self.feed]
        return torch.stack(steps, 1)


for _name, _flags in {"feeds_back_source": {"feed": "source"}, "feeds_sos_every_step": {"feed": "sos"},
                      "teacher_not_shifted": {"shift": False}, "ignores_teacher": {"use_teacher": False},
                      "decoder_ignores_encoder": {"encode": "none"}, "encoder_reads_first_token": {"encode": "first"},
                      "starts_from_pad": {"start": 0}}.items():
    mutant(S2S, _name)(type(_name, (_Decoder,), _flags))


@mutant(S2S, "stale_decoder_state")
class _(solution.Seq2Seq):
    def forward(self, src, teacher=None):  # the step's new state is never read: one word, T times
        _, (h, c) = self.encoder(self.embed(src))
        h, c = h[0], c[0]
        token, steps = torch.full((src.shape[0],), solution.SOS_ID, dtype=torch.long), []
        for t in range(src.shape[1]):
            self.decoder(self.embed(token), (h, c))  # the new (h, c) is dropped
            steps.append(self.out(h))
            token = teacher[:, t] if teacher is not None else steps[-1].argmax(-1)
        return torch.stack(steps, 1)


@mutant(S2S, "time_major_lstm")
class _(solution.Seq2Seq):
    def __init__(self, vocab_size, embedding_dim, hidden):
        super().__init__(vocab_size, embedding_dim, hidden)
        self.encoder = nn.LSTM(embedding_dim, hidden)  # reads (B, T, E) as (T, B, E)


@mutant(S2S, "reconstruct_samples")
class _(solution.Seq2Seq):
    def reconstruct(self, src):
        with torch.no_grad():
            logits = self.forward(src)
            return torch.distributions.Categorical(logits=logits).sample()


def _masked(ids, prob, mask_id, *, keep_reserved=True, draw=None, fill=None):
    draw = torch.rand(ids.shape) if draw is None else draw
    chosen = (draw < prob) & ((ids >= 4) if keep_reserved else torch.ones_like(ids, dtype=torch.bool))
    return torch.where(chosen, torch.full_like(ids, mask_id) if fill is None else fill, ids)


@mutant(MASK, "masks_reserved")
def _(ids, prob, mask_id):
    return _masked(ids, prob, mask_id, keep_reserved=False)


@mutant(MASK, "inverted_rate")
def _(ids, prob, mask_id):
    return _masked(ids, 1 - prob, mask_id)


@mutant(MASK, "fixed_count_per_sentence")
def _(ids, prob, mask_id):
    rank = torch.rand(ids.shape).argsort(-1).argsort(-1).float()  # a random permutation of 0..T-1 per row
    return _masked(ids, prob * ids.shape[-1], mask_id, draw=rank)


@mutant(MASK, "same_positions_every_sentence")
def _(ids, prob, mask_id):
    return _masked(ids, prob, mask_id, draw=torch.rand(ids.shape[-1]).expand(ids.shape))


@mutant(MASK, "random_replacement")
def _(ids, prob, mask_id):
    out = _masked(ids, prob, mask_id)
    swap = (out == mask_id) & (torch.rand(ids.shape) < 0.1)  # BERT's 10 % random words
    return torch.where(swap, torch.randint(4, 50, ids.shape), out)


@mutant(MASK, "ignores_mask_id")
def _(ids, prob, mask_id):
    return _masked(ids, prob, 3)


@mutant(MASK, "in_place")
def _(ids, prob, mask_id):
    ids[(torch.rand(ids.shape) < prob) & (ids >= 4)] = mask_id
    return ids


@mutant(MASK, "reseeds_every_call")
def _(ids, prob, mask_id):
    torch.manual_seed(0)
    return _masked(ids, prob, mask_id)
