"""The handout's sentence autoencoder on *On the Origin of Species*, with the implementation's pieces.

Runs next to the implementation (in the sandboxed worker) and returns plain data only: the
vocabulary, the ids it read and the ids decoded. The implementation's ``tokenize`` and
``build_vocab`` turn the training sentences into ids, its ``Seq2Seq`` is the model, its
``mask_tokens`` masks the inputs of the fill-in training. The loop is the grader's: Adam on the
cross-entropy of the teacher-forced decoder, reading a masked sentence and rebuilding it whole.

Decoding for the judged tasks is the grader's too: greedy, one teacher-forced pass per position
(step t reads only what was decoded before it), so that the trusted side judges every model by
the same rule. The model's own free-running decoding (``forward`` without a teacher) is returned
beside it: a correct one feeds back its own predictions and agrees.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.scenarios import Resolve

MASK = "xxxx"


def _ids(sentences: list[str], tokenize: object, vocab: dict[str, int], length: int) -> torch.Tensor:
    """``(len(sentences), length)`` int64 ids: each sentence's tokens, cut or padded (``<pad>``, 0)."""
    from stubs.seq2seq import to_ids  # the grader's copy of the provided code

    out = torch.zeros(len(sentences), length, dtype=torch.long)
    for row, sentence in enumerate(sentences):
        ids = to_ids(tokenize(sentence), vocab)[:length]
        out[row, : len(ids)] = ids
    return out


@torch.no_grad()
def greedy(model: torch.nn.Module, src: torch.Tensor, forced: torch.Tensor | None = None) -> torch.Tensor:
    """Greedy decoding through teacher-forced passes; ``forced`` ≥ 0 fixes a position's token."""
    decoded = torch.zeros_like(src)
    for t in range(src.shape[1]):
        step = model(src, decoded)[:, t].argmax(-1)
        decoded[:, t] = step if forced is None else torch.where(forced[:, t] >= 0, forced[:, t], step)
    return decoded


def train_seq2seq(resolve: Resolve, target: str, train: list[str], judged: dict[str, list[str]], seq_len: int,
                  embedding_dim: int, hidden: int, mask_prob: float, lr: float, batch_size: int, steps: int,
                  prefix: int, skipgram_steps: int, seed: int, device: str) -> dict[str, object]:
    """Build the vocabulary of ``train``, train the autoencoder ``steps`` Adam steps, decode ``judged``.

    ``judged`` holds sentences per task: ``reconstruct`` (whole), ``masked`` (some words written
    ``xxxx``), ``prefix`` (the first ``prefix`` words, then ``xxxx``; the decoding is forced to
    the given words). Returns the vocabulary, the ids read per task (``src_<task>``), the ids
    decoded per task (``decoded_<task>``), the free-running decoding of ``reconstruct``
    (``free_reconstruct``), the loss curve, and the word vectors of a ``SkipGram`` trained on the
    same ids (``embeddings``, for the figure).
    """
    tokenize, mask_tokens = resolve("seq2seq.tokenize"), resolve("seq2seq.mask_tokens")
    vocab = resolve("seq2seq.build_vocab")([token for sentence in train for token in tokenize(sentence)])
    data = _ids(train, tokenize, vocab, seq_len)
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    model = resolve("seq2seq.Seq2Seq")(len(vocab), embedding_dim, hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    mask_id = vocab.get(MASK, 3)
    losses, batches = torch.empty(steps), torch.empty(0, dtype=torch.long)
    model.train()
    for step in range(steps):
        if len(batches) < batch_size:  # epochs of a fresh permutation
            batches = torch.cat([batches, torch.randperm(len(data), generator=order)])
        index, batches = batches[:batch_size], batches[batch_size:]
        target_ids = data[index].to(device)
        logits = model(mask_tokens(target_ids, mask_prob, mask_id), target_ids)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target_ids.reshape(-1), ignore_index=0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses[step] = loss.detach()
    model.eval()
    out: dict[str, object] = {"vocab": dict(vocab), "losses": losses,
                              "embeddings": train_skipgram(resolve, vocab, data, 2, embedding_dim, skipgram_steps,
                                                           512, 1e-2, seed, device)}
    for task, sentences in judged.items():
        src = _ids(sentences, tokenize, vocab, seq_len).to(device)
        forced = None
        if task == "prefix":
            forced = torch.full_like(src, -1)
            forced[:, :prefix] = src[:, :prefix]
        out[f"src_{task}"] = src.cpu()
        out[f"decoded_{task}"] = greedy(model, src, forced).cpu()
        if task == "reconstruct":
            with torch.no_grad():
                out["free_reconstruct"] = model(src).argmax(-1).cpu()
    return out


def train_skipgram(resolve: Resolve, vocab: dict[str, int], data: torch.Tensor, context_size: int,
                   embedding_dim: int, steps: int, batch_size: int, lr: float, seed: int,
                   device: str) -> torch.Tensor:
    """The implementation's ``SkipGram`` on the pairs of its ``skipgram_pairs``; its ``embeddings``."""
    pairs = torch.tensor(resolve("seq2seq.skipgram_pairs")(data.reshape(-1).tolist(), context_size), dtype=torch.long)
    torch.manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    model = resolve("seq2seq.SkipGram")(len(vocab), embedding_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        batch = pairs[torch.randint(len(pairs), (batch_size,), generator=order)].to(device)
        loss = F.cross_entropy(model(batch[:, 0]), batch[:, 1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.embeddings.detach().cpu().clone()
