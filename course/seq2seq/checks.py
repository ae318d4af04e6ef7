"""Graded checks for ``seq2seq.py``: a character scanner and brute force for the text functions,
a corpus with known neighbours for the word vectors, black-box decoding properties for the
autoencoder with the grader's weights, and binomial statistics for the masking."""
from __future__ import annotations

import itertools

import numpy as np
import torch

from course.seq2seq import oracles
from course.stats import P_AT_LEAST, binomial_p, dispersion_p
from grader.check import Check, Claim, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize

_EXACT = Tol(atol=0.0, rtol=0.0)
_FLOAT = Tol(atol=1e-5, rtol=1e-4)  # float32 logits computed along two code paths


def _expect_tokens(f, text: str, hint: str = "") -> None:
    got = oracles.as_tokens(f.target, f(text=text), f"tokenize({text!r})")
    if got != oracles.words(text):
        raise CheckFailure(f"tokenize({text!r}) returned {got}, expected {oracles.words(text)}{hint}")


def _tokens_of_texts(f) -> None:
    for text in ("Hello, World!", "It's 1859: Darwin's ORIGIN of Species.", "", *oracles.texts(seed=1, count=40)):
        _expect_tokens(f, text)


def _edge_apostrophes(f) -> None:
    for text in ("'Tis the dogs' bones, 'quoted' words", "rock'n'roll isn't o''clock'"):
        _expect_tokens(f, text, " (an apostrophe is kept only between two letters or digits)")


tokenize = Check(
    "seq2seq.tokenize", points=0.5,
    claims=(Claim("words_of_plain_text", _tokens_of_texts),
            Claim("apostrophes_at_word_edges", _edge_apostrophes, core=False, weight=0.1)),
    reference=False,
    kills=("keeps_case", "split_on_whitespace", "splits_apostrophes", "drops_digits", "punctuation_tokens"),
)


def _token_lists(seed: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    pool = ["the", "species", "of", "origin", "natural", "a", "1859", "it's"]
    return [[], ["b", "a"]] + [[str(rng.choice(pool)) for _ in range(rng.integers(1, 15))] for _ in range(12)]


def _expect_vocab(f, tokens: list[str], what: str) -> None:
    got = oracles.as_vocab(f.target, f(tokens=tokens), f"build_vocab({tokens})")
    want = oracles.vocabulary(tokens)
    if got != want:
        wrong = [f"{k}: {got.get(k)} (expected {want.get(k)})" for k in sorted(set(got) | set(want), key=str)
                 if got.get(k) != want.get(k)]
        raise CheckFailure(f"build_vocab({tokens}) {what}: {', '.join(wrong[:6])}")


def _vocab_order(f) -> None:
    for tokens in _token_lists(seed=2):
        _expect_vocab(f, tokens, "gives other ids (<pad>, <sos>, <unk>, xxxx are 0-3, then first appearance)")


def _mask_word_in_text(f) -> None:
    _expect_vocab(f, ["the", "xxxx", "origin", "xxxx", "the"], "gives the mask word xxxx a second id")


build_vocab = Check(
    "seq2seq.build_vocab", points=0.5,
    claims=(Claim("reserved_then_first_appearance", _vocab_order),
            Claim("mask_word_in_text", _mask_word_in_text, core=False, weight=0.1)),
    reference=False,
    kills=("sorted_alphabetically", "no_mask_token", "reserved_swapped", "ids_skip_repeats", "counts_not_ids"),
)


def _id_lists(seed: int) -> list[tuple[list[int], int]]:
    rng = np.random.default_rng(seed)
    drawn = [([int(i) for i in rng.integers(0, 6, rng.integers(0, 13))], int(rng.integers(1, 5))) for _ in range(25)]
    return [([7, 8, 9, 10, 11], 2), ([4, 4, 4], 1), ([5], 3), ([9, 3, 9, 2], 6), *drawn]


def _expect_pairs(f, token_ids, context_size: int) -> None:
    call = f"skipgram_pairs(token_ids={summarize(token_ids)}, context_size={context_size})"
    got = oracles.as_pairs(f.target, f(token_ids=token_ids, context_size=context_size), call)
    want = oracles.window_pairs([int(i) for i in token_ids], context_size)
    if got != want:
        raise CheckFailure(f"{call} with ids {[int(i) for i in token_ids]}: {oracles.pair_difference(want, got)}")


def _pairs_in_window(f) -> None:
    for ids, size in _id_lists(seed=3):
        _expect_pairs(f, ids, size)


def _pairs_of_tensor(f) -> None:
    _expect_pairs(f, torch.tensor([6, 4, 9, 4, 5, 7]), 2)


skipgram_pairs = Check(
    "seq2seq.skipgram_pairs", points=1,
    claims=(Claim("all_pairs_in_window", _pairs_in_window),
            Claim("tensor_of_ids", _pairs_of_tensor, core=False, weight=0.1)),
    reference=False,
    kills=("centre_with_itself", "window_one_short", "right_context_only", "full_windows_only", "deduplicated",
           "positions_not_ids"),
)

# -- word vectors: a corpus whose neighbours are known ------------------------------------------

_CORPUS_WORDS = ("the", "big", "small", "red", "blue", "cat", "dog", "runs", "walks", "home")
_PARTNERS = (("big", "small"), ("red", "blue"), ("cat", "dog"), ("runs", "walks"))  # same contexts, always


def _corpus() -> tuple[torch.Tensor, torch.Tensor]:
    """Every sentence 'the {big|small} {red|blue} {cat|dog} {runs|walks} home' once, window 2."""
    index = {w: i for i, w in enumerate(_CORPUS_WORDS)}
    pairs: list[tuple[int, int]] = []
    for choice in itertools.product(*_PARTNERS):
        pairs += oracles.window_pairs([index[w] for w in ("the", *choice, "home")], 2).elements()
    centres, contexts = torch.tensor(pairs).T
    return centres, contexts


def _learns_neighbours(f) -> None:
    centres, contexts = _corpus()
    V, E = len(_CORPUS_WORDS), 6
    out = f.scenario("skipgram_train", vocab_size=V, embedding_dim=E, centres=centres, contexts=contexts, steps=200,
                     lr=0.5, weight_decay=3e-3, seed=11)
    table, logits = out["embeddings"], out["logits"]
    for name, value, shape in (("embeddings", table, (V, E)), ("forward(all ids)", logits, (V, V))):
        if type(value) is not torch.Tensor or tuple(value.shape) != shape:
            raise CheckFailure(f"{f.target}: {name} is {summarize(value)}, expected shape {shape} (V={V}, E={E})")
    unit = table.double() / table.double().norm(dim=1, keepdim=True).clamp_min(1e-12)
    cosine = (unit @ unit.T).fill_diagonal_(-2.0)
    index = {w: i for i, w in enumerate(_CORPUS_WORDS)}
    for a, b in (*_PARTNERS, *((b, a) for a, b in _PARTNERS)):
        nearest = _CORPUS_WORDS[int(cosine[index[a]].argmax())]
        if nearest != b:
            raise CheckFailure(
                f"{f.target}: after training with the grader's loop (cross-entropy of forward's logits, 200 full-batch "
                f"SGD steps) on sentences where {a!r} and {b!r} always share their contexts, the nearest embedding of "
                f"{a!r} (cosine) is {nearest!r}; is embeddings the table that forward looks the centre word up in?")
    seen = torch.zeros(V, V, dtype=torch.bool)
    seen[centres, contexts] = True
    mass = (torch.softmax(logits.double(), dim=1) * seen).sum(1).min()
    if not mass > 0.8:
        raise CheckFailure(f"{f.target}: after training, softmax(forward(centre)) puts only {float(mass):.2f} of its mass on "
                           "words that ever appear in the centre's window (expected > 0.8): does forward return logits?")


def _embeddings_are_input_table(f) -> None:
    V, E = 7, 3
    centres, contexts = torch.tensor([2, 5, 2]), torch.tensor([1, 6, 0])
    out = f.scenario("skipgram_step", vocab_size=V, embedding_dim=E, centres=centres, contexts=contexts, seed=5)
    if out["logits_shape"] != [3, V] or tuple(out["before"].shape) != (V, E):
        raise CheckFailure(f"{f.target}(vocab_size={V}, embedding_dim={E}): forward gave logits of shape "
                           f"{tuple(out['logits_shape'])} for 3 centres and embeddings {tuple(out['before'].shape)}; "
                           f"expected (3, {V}) and ({V}, {E})")
    moved = (out["after"] - out["before"]).abs().sum(1) > 0
    if moved.tolist() != [i in (2, 5) for i in range(V)]:
        raise CheckFailure(f"{f.target}: one SGD step on centre words 2 and 5 changed rows "
                           f"{torch.nonzero(moved).flatten().tolist()} of embeddings; the input table changes only the "
                           "rows of the centre words (is embeddings the output table?)")


SkipGram = Check(
    "seq2seq.SkipGram", points=1,
    claims=(Claim("learns_words_that_share_contexts", _learns_neighbours),
            Claim("embeddings_are_the_input_table", _embeddings_are_input_table, core=False, weight=0.15)),
    reference=False,
    kills=("embeddings_output_table", "ignores_centre", "returns_probabilities", "stale_embeddings", "hidden_dim_fixed"),
)

# -- the sentence autoencoder, with the grader's weights ---------------------------------------

_SIZES = [9, 5, 7]  # vocab_size, embedding_dim, hidden
_B, _T = 3, 6


def _ids(seed: int, shape=(_B, _T)) -> torch.Tensor:
    return torch.randint(4, _SIZES[0], shape, generator=torch.Generator().manual_seed(seed))  # never <pad>, <sos>


def _decode(f, calls: list[dict], seed: int = 0) -> dict:
    return f.scenario("seq2seq_decode", sizes=_SIZES, seed=seed, scale=0.7, calls=calls)


def _logits(f, value, what: str, shape=(_B, _T, _SIZES[0])) -> torch.Tensor:
    if type(value) is not torch.Tensor or tuple(value.shape) != shape:
        raise CheckFailure(f"{f.target}: {what} returned {summarize(value)}, expected logits of shape {shape} (B, T, V)")
    return value


def _same(f, a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    expect_close(f.target, a, b.double().numpy(), {"logits": b}, tol=_FLOAT, what=what)


def _differ(f, a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    if torch.allclose(a.double(), b.double(), atol=1e-3, rtol=0):
        raise CheckFailure(f"{f.target}: {what}")


def _own_argmax(f) -> None:
    for seed in (0, 1):
        src = _ids(seed)
        free = _logits(f, _decode(f, [{"src": src, "teacher": None}], seed)["outputs"][0], "forward(src)")
        forced = _decode(f, [{"src": src, "teacher": free.argmax(-1)}], seed)["outputs"][0]
        _same(f, _logits(f, forced, "forward(src, teacher)"), free,
              "forward(src) must equal forward(src, teacher=its own argmax): without a teacher, step t > 0 reads the "
              "argmax of step t-1")


def _teacher_shift(f) -> None:
    src, teacher, other = _ids(2), _ids(3), _ids(4)
    calls = [{"src": src, "teacher": teacher}, {"src": src, "teacher": other}]
    for k in (1, 3):
        changed = teacher.clone()
        changed[:, k] = torch.where(teacher[:, k] == 4, 5, 4)
        calls.append({"src": src, "teacher": changed})
    base, swapped, *moved = (_logits(f, o, "forward(src, teacher)") for o in _decode(f, calls)["outputs"])
    _same(f, swapped[:, 0], base[:, 0], "step 0 reads <sos>, whatever the teacher")
    for k, out in zip((1, 3), moved):
        _same(f, out[:, :k + 1], base[:, :k + 1], f"changing teacher[:, {k}] must leave steps 0..{k} unchanged "
                                                  f"(step t reads teacher[:, t-1])")
        _differ(f, out[:, k + 1], base[:, k + 1], f"changing teacher[:, {k}] left step {k + 1} unchanged; step t "
                                                  "reads teacher[:, t-1] when a teacher is given")


def _greedy_reconstruct(f) -> None:
    src = _ids(5)
    free, rebuilt = _decode(f, [{"src": src, "teacher": None}, {"src": src, "reconstruct": True}])["outputs"]
    want = _logits(f, free, "forward(src)").argmax(-1)
    if type(rebuilt) is not torch.Tensor or rebuilt.dtype != torch.int64 or not torch.equal(rebuilt, want):
        raise CheckFailure(f"{f.target}: reconstruct(src) returned {summarize(rebuilt)} {rebuilt!r}; expected the int64 "
                           f"argmax of forward(src) without a teacher: {want.tolist()}")


def _reads_whole_source(f) -> None:
    src, teacher = _ids(6), _ids(7)
    first, last = src.clone(), src.clone()
    first[:, 0] = torch.where(src[:, 0] == 4, 5, 4)
    last[:, -1] = torch.where(src[:, -1] == 4, 5, 4)
    base, a, b = (_logits(f, o, "forward(src, teacher)") for o in
                  _decode(f, [{"src": s, "teacher": teacher} for s in (src, first, last)])["outputs"])
    _differ(f, a[:, 0], base[:, 0], "changing the first source token left decoding step 0 unchanged: the decoder must "
                                    "start from the encoder's sentence embedding")
    _differ(f, b[:, 0], base[:, 0], "changing the last source token left decoding step 0 unchanged: the sentence "
                                    "embedding must come from the encoder's whole pass over src")


def _independent_examples(f) -> None:
    src, teacher = _ids(8), _ids(9)
    calls = [{"src": src, "teacher": teacher}] + [{"src": src[i:i + 1], "teacher": teacher[i:i + 1]} for i in range(_B)]
    batch, *rows = _decode(f, calls)["outputs"]
    batch = _logits(f, batch, "forward(src, teacher)")
    for i, row in enumerate(rows):
        _same(f, _logits(f, row, "forward on one sentence", (1, _T, _SIZES[0]))[0], batch[i],
              f"sentence {i} decoded alone must give its row of the batch (src is (B, T): batch first)")


def _starts_from_sos(f) -> None:
    src, teacher = _ids(10), _ids(11)
    out = _decode(f, [{"src": src, "teacher": teacher}, {"src": src, "teacher": teacher, "perturb_row": 1},
                      {"src": src, "teacher": teacher, "perturb_row": 0}])
    if not out["tables"]:
        raise CheckFailure(f"{f.target}: found no nn.Embedding with vocab_size={_SIZES[0]} rows to read <sos> from")
    base, sos, pad = (_logits(f, o, "forward(src, teacher)") for o in out["outputs"])
    _differ(f, sos[:, 0], base[:, 0], "changing the embedding of <sos> (id 1) left step 0 unchanged: step 0 reads <sos>")
    _same(f, pad[:, 0], base[:, 0], "step 0 reads <sos> (id 1), not <pad> (id 0)")


Seq2Seq = Check(
    "seq2seq.Seq2Seq", points=2,
    claims=(Claim("feeds_back_its_own_argmax", _own_argmax),
            Claim("teacher_forcing_reads_the_previous_token", _teacher_shift),
            Claim("reconstruct_is_the_greedy_argmax", _greedy_reconstruct),
            Claim("sentence_embedding_reads_the_whole_source", _reads_whole_source),
            Claim("sentences_decoded_independently", _independent_examples),
            Claim("starts_from_sos", _starts_from_sos, core=False, weight=0.1)),
    reference=False,
    kills=("feeds_back_source", "feeds_sos_every_step", "teacher_not_shifted", "ignores_teacher", "decoder_ignores_encoder",
           "encoder_reads_first_token", "time_major_lstm", "starts_from_pad", "reconstruct_samples", "stale_decoder_state"),
)

# -- masking ------------------------------------------------------------------------------------

_WORDS_ONLY = torch.randint(4, 50, (200, 40), generator=torch.Generator().manual_seed(12))  # no reserved id
_MIXED = torch.randint(0, 10, (100, 40), generator=torch.Generator().manual_seed(13))  # 40 % reserved ids 0-3
_SMALL = torch.randint(0, 12, (20, 10), generator=torch.Generator().manual_seed(14))
_MASK_CALLS = [{"ids": _WORDS_ONLY, "prob": 0.15, "mask_id": 3}, {"ids": _WORDS_ONLY, "prob": 0.5, "mask_id": 3},
               {"ids": _WORDS_ONLY, "prob": 0.5, "mask_id": 3}, {"ids": _WORDS_ONLY, "prob": 0.85, "mask_id": 50},
               {"ids": _MIXED, "prob": 0.5, "mask_id": 3}, {"ids": _SMALL, "prob": 0.0, "mask_id": 3},
               {"ids": _SMALL, "prob": 1.0, "mask_id": 3}]


def _draws(f) -> list[dict]:
    return f.scenario("mask_draws", calls=_MASK_CALLS, seed=21)


def _masked(f, draws: list[dict], i: int) -> tuple[torch.Tensor, dict]:
    """Which positions call ``i`` masked; every position must hold its id or ``mask_id``."""
    call, result = _MASK_CALLS[i], draws[i]["result"]
    ids, what = call["ids"], f"mask_tokens(ids={summarize(call['ids'])}, prob={call['prob']}, mask_id={call['mask_id']})"
    if type(result) is not torch.Tensor or result.shape != ids.shape:
        raise CheckFailure(f"{what} returned {summarize(result)}, expected a tensor shaped like ids")
    masked = result == call["mask_id"]
    if not torch.equal(torch.where(masked, ids, result).long(), ids):
        raise CheckFailure(f"{what}: positions hold neither their id nor mask_id; a masked position becomes mask_id, "
                           "every other keeps its id")
    return masked & (ids != call["mask_id"]), {**call, "what": what}


def _rate(f, masked: torch.Tensor, call: dict, eligible: torch.Tensor) -> None:
    k, n = int(masked[eligible].sum()), int(eligible.sum())
    p = binomial_p(k, n, call["prob"])
    if p < P_AT_LEAST:
        raise CheckFailure(f"{call['what']} masked {k} of {n} maskable positions ({k / n:.3f}); at rate {call['prob']} "
                           f"that many is unlikely (binomial p = {p:.2g} < {P_AT_LEAST:g})")


def _stated_rate(f) -> None:
    draws = _draws(f)
    for i in (0, 1, 3):
        masked, call = _masked(f, draws, i)
        _rate(f, masked, call, torch.ones_like(masked))


def _independent_positions(f) -> None:
    draws = _draws(f)
    (first, call), (second, _) = _masked(f, draws, 1), _masked(f, draws, 2)
    if torch.equal(first, second):
        raise CheckFailure(f"{call['what']} masked the same positions twice in a row: draw new positions every call")
    for masked in (first, second):
        for axis, name in ((1, "sentence"), (0, "position")):
            counts, trials = masked.sum(axis).numpy(), masked.shape[axis]
            p = dispersion_p(counts, trials, 0.5)
            if p < P_AT_LEAST:
                raise CheckFailure(
                    f"{call['what']}: the masked counts per {name} spread like independent draws would not (variance "
                    f"{counts.var():.2f}, binomial {trials * 0.25:.2f}, p = {p:.2g}); mask each position independently")


def _never_reserved(f) -> None:
    draws = _draws(f)
    masked, call = _masked(f, draws, 4)
    reserved = call["ids"] < 4
    if (draws[4]["result"] != call["ids"])[reserved].any():
        raise CheckFailure(f"{call['what']} changed positions holding reserved ids 0-3 (<pad>, <sos>, <unk>, xxxx)")
    _rate(f, masked, call, ~reserved)


def _input_untouched(f) -> None:
    if any(out["input_changed"] for out in _draws(f)):
        raise CheckFailure(f"{f.target} changed the ids it was given; return a masked copy")


def _extreme_rates(f) -> None:
    draws = _draws(f)
    for i, everything in ((5, False), (6, True)):
        masked, call = _masked(f, draws, i)
        if not torch.equal(masked, (call["ids"] >= 4) & everything):
            raise CheckFailure(f"{call['what']} must mask {'every non-reserved' if everything else 'no'} position")


def _int64(f) -> None:
    result = _draws(f)[1]["result"]
    if type(result) is not torch.Tensor or result.dtype != torch.int64:
        raise CheckFailure(f"{f.target} returned {summarize(result)}, expected int64 ids")


mask_tokens = Check(
    "seq2seq.mask_tokens", points=1,
    claims=(Claim("masks_at_the_stated_rate", _stated_rate),
            Claim("masks_positions_independently", _independent_positions),
            Claim("never_masks_reserved_ids", _never_reserved),
            Claim("leaves_its_input_unchanged", _input_untouched, core=False, weight=0.1),
            Claim("rates_zero_and_one", _extreme_rates, core=False),
            Claim("returns_int64", _int64, core=False)),
    reference=False,
    kills=("masks_reserved", "inverted_rate", "fixed_count_per_sentence", "same_positions_every_sentence",
           "random_replacement", "ignores_mask_id", "in_place", "reseeds_every_call"),
)
