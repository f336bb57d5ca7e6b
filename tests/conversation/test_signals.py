"""Signals per message, weekly trajectories and language style matching, checked by hand."""

from __future__ import annotations

import csv
import math
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attunement.conversation import (
    FUNCTION_WORD_CATEGORIES,
    SIGNAL_COLUMNS,
    WEEKLY_COLUMNS,
    Message,
    language_style_matching,
    load_lexicon,
    message_signals,
    pseudonym,
    pseudonymize,
    signals_frame,
    text_signals,
    weekly_signals,
    write_signals_csv,
)

LEXICONS = Path(__file__).parents[2] / "src" / "attunement" / "conversation" / "lexicons"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I had a rough day and I feel so humiliated", "emotional"),
        ("so tired today", "emotional"),
        ("you make me so happy", "emotional"),
        ("I miss home", "emotional"),
        ("I know how you feel", "none"),  # the feeling is the other's
        ("I think she is sad", "none"),
        ("I miss you", "none"),  # affection towards the other: caring, not disclosure
        ("do you feel like I'm ignoring you?", "none"),  # a question to the other
        ("I grew up in a small town near Porto with my grandma", "informational"),
        ("I'm on my way, be there at 5", "none"),  # logistics
        ("my sister works there", "none"),  # no first-person singular subject, too short
        ("did I tell you I moved flats?", "none"),  # a question
    ],
)
def test_disclosure(text: str, expected: str) -> None:
    assert text_signals(text).disclosure == expected


@pytest.mark.parametrize(
    ("text", "understanding", "validation", "caring"),
    [
        ("That sounds exhausting", True, False, False),
        ("you must be so relieved", True, False, False),
        ("It makes total sense that you're upset", False, True, False),
        ("anyone would be nervous before that", False, True, False),
        ("I'm so sorry ❤️", False, False, True),
        ("love you <3", False, False, True),
        ("ok", False, False, False),
        ("I love pizza", False, False, False),
    ],
)
def test_responsiveness(text: str, understanding: bool, validation: bool, caring: bool) -> None:
    found = text_signals(text)
    assert (found.understanding, found.validation, found.caring) == (
        understanding,
        validation,
        caring,
    )


def test_reflecting_back_needs_two_shared_content_words_and_you() -> None:
    partner = frozenset(
        text_signals("my manager criticised the presentation in front of everyone").content
    )
    assert text_signals(
        "your manager criticised your presentation publicly?", partner_content=partner
    ).understanding
    assert not text_signals(
        "the manager criticised the presentation", partner_content=partner
    ).understanding  # no "you"
    assert not text_signals("your manager is annoying", partner_content=partner).understanding


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What happened?", True),
        ("tell me more", True),
        ("why do you think she said that?", True),
        ("how are you feeling about it?", True),
        ("what part worries you most?", True),
        ("what time is dinner?", False),
        ("how are you?", False),
        ("are you coming tonight?", False),  # closed
        ("I wonder what she meant.", False),  # no question mark, no exploring phrase
        ("ok. what did the doctor say? call me", True),
    ],
)
def test_exploring_questions(text: str, expected: bool) -> None:
    assert text_signals(text).exploring_question is expected


def test_we_and_function_words() -> None:
    found = text_signals("We should call our parents, and I will not forget the cake")
    assert (found.we_words, found.i_words, found.words) == (2, 1, 12)
    counts = dict(zip(FUNCTION_WORD_CATEGORIES, found.function_words, strict=True))
    # we, our, I | the | should, will | and | not
    assert counts == {
        "personal_pronouns": 3,
        "impersonal_pronouns": 0,
        "articles": 1,
        "auxiliary_verbs": 2,
        "prepositions": 0,
        "adverbs": 0,
        "conjunctions": 1,
        "negations": 1,
        "quantifiers": 0,
    }


def test_function_word_categories_are_disjoint_and_files_are_licensed() -> None:
    lexicon = load_lexicon()
    seen: dict[str, str] = {}
    data = lexicon.files["function_words"]
    for category in FUNCTION_WORD_CATEGORIES:
        for word in data[category]["words"]:
            assert word not in seen, (word, seen.get(word), category)
            seen[word] = category
    for path in LEXICONS.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# SPDX-License-Identifier: Apache-2.0"), path.name
        assert tomllib.loads(text)["meta"]["name"] == path.stem
    assert (LEXICONS / "README.md").is_file()


T0 = datetime(2024, 5, 6, 20, 0)  # a Monday


def chat(*rows: tuple[int, str, str]) -> list[Message]:
    """Messages from (minutes after T0, sender, text)."""
    return [
        Message(T0 + timedelta(minutes=m), s, t, "media" if t == "<Media omitted>" else "text", i)
        for i, (m, s, t) in enumerate(rows, 1)
    ]


CHAT = chat(
    (0, "A", "hey"),
    (2, "A", "I feel so anxious about the exam tomorrow"),
    (10, "B", "that sounds stressful, I'm sorry"),
    (11, "B", "what are you most worried about?"),
    (30, "A", "<Media omitted>"),
    (40, "B", "we could study together tonight"),
    (45, "A", "I honestly get scared when I have to talk in front of people"),
    (50, "B", "that makes sense. I used to be terrified of presentations in school"),
)


def test_message_signals_turns_latency_and_replies() -> None:
    rows = list(message_signals([*CHAT[:2], Message(T0, None, "X added Y", "system", 99),
                                 *CHAT[2:]]))  # fmt: skip
    assert [r.line for r in rows] == list(range(1, 9))  # the system line is skipped
    assert [r.turn for r in rows] == [1, 1, 2, 2, 3, 4, 5, 6]
    assert [r.reply_latency_s for r in rows] == [None, None, 480.0, None, 1140.0, 600.0,
                                                 300.0, 300.0]  # fmt: skip
    assert [r.disclosure for r in rows] == ["none", "emotional", "none", "none", "none", "none",
                                            "emotional", "emotional"]  # fmt: skip
    assert [r.responds_to_disclosure for r in rows] == [False, False, True, True, False, False,
                                                        False, True]  # fmt: skip
    assert rows[2].understanding
    assert rows[2].caring
    assert not rows[2].validation
    assert rows[3].exploring_question
    assert rows[4].kind == "media"
    assert rows[4].words == 0
    assert rows[5].we_words == 1
    assert rows[7].validation


def test_weekly_signals_by_hand() -> None:
    week2 = [m._replace(timestamp=m.timestamp + timedelta(days=7)) for m in CHAT[:3]]  # type: ignore[operator]
    frame = weekly_signals(message_signals(CHAT + week2))
    assert list(frame.columns) == list(WEEKLY_COLUMNS)
    first = frame[frame["week"] == "2024-05-06"].set_index("person")
    a, b = first.loc["A"], first.loc["B"]
    assert (a["messages"], b["messages"]) == (4, 4)
    assert (a["turns"], b["turns"]) == (3, 3)
    assert a["turn_share"] == 0.5
    assert (a["emotional_disclosures"], b["emotional_disclosures"]) == (2, 1)
    assert a["informational_disclosures"] + b["informational_disclosures"] == 0
    assert a["disclosure_rate"] == pytest.approx(2 / 3)  # 3 text messages, media excluded
    # B answers A's disclosing turns 1 and 5 (turns 2 and 6): understanding+caring, validation.
    assert b["responding_turns"] == 2
    assert (b["understanding_rate"], b["validation_rate"], b["caring_rate"]) == (0.5, 0.5, 0.5)
    assert b["responsiveness_rate"] == 1.0
    assert b["reciprocity"] == 0.5  # turn 6 discloses in return
    assert a["responding_turns"] == 0  # B disclosed only in the last turn
    assert b["exploring_questions"] == 1
    assert a["median_reply_latency_s"] == 720.0  # median of 1140 and 300 (turn 1 has none)
    assert b["median_reply_latency_s"] == 480.0  # 480, 600, 300
    assert b["we_per_100_words"] == pytest.approx(100 * 1 / b["words"])
    assert 0 < a["lsm"] < 1
    assert a["lsm"] == b["lsm"]
    second = frame[frame["week"] == "2024-05-13"]
    assert list(second["person"]) == ["A", "B"]
    assert math.isnan(second.iloc[0]["sentiment"])


def test_language_style_matching_formula() -> None:
    # One category differs (10 % vs 5 %); the other eight are absent on both sides (1 each).
    a = [10, 0, 0, 0, 0, 0, 0, 0, 0]
    b = [5, 0, 0, 0, 0, 0, 0, 0, 0]
    expected = (1 - 5 / 15.0001 + 8) / 9
    assert language_style_matching(a, 100, b, 100) == pytest.approx(expected, rel=1e-12)
    assert language_style_matching(a, 100, a, 100) == pytest.approx(1.0)
    assert math.isnan(language_style_matching(a, 0, b, 100))


def test_signals_frame_and_csv(tmp_path: Path) -> None:
    frame = signals_frame(message_signals(CHAT))
    assert list(frame.columns) == list(SIGNAL_COLUMNS)
    assert len(frame) == 8
    path = tmp_path / "s.csv"
    assert write_signals_csv(message_signals(CHAT), path) == 8
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[1]["disclosure"] == "emotional"
    assert rows[1]["timestamp"] == "2024-05-06T20:02:00"
    assert rows[1]["fw_articles"] == "1"


def test_sentiment_is_vader_compound() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    rows = list(message_signals(CHAT[:3], sentiment=True))
    expected = SentimentIntensityAnalyzer().polarity_scores(CHAT[2].text)["compound"]
    assert rows[2].sentiment == expected
    assert rows[0].sentiment is not None


def test_pseudonyms() -> None:
    assert [pseudonym(i) for i in (0, 1, 25, 26, 27)] == [
        "Person A", "Person B", "Person Z", "Person AA", "Person AB",
    ]  # fmt: skip
    messages = [
        Message(T0, "Maya Schmidt", "hi", "text", 1),
        Message(T0, "Jonas", "hi Maya! Maya Schmidt, Mayan ruins", "text", 2),
        Message(T0, "Maya Schmidt", "Jonas :)", "text", 3),
    ]
    out = list(pseudonymize(messages))
    assert [m.sender for m in out] == ["Person A", "Person B", "Person A"]
    assert out[1].text == "hi Person A! Person A, Mayan ruins"
    assert out[2].text == "Person B :)"


senders = st.sampled_from(["A", "B", "C"])


@given(st.lists(st.tuples(senders, st.integers(0, 600), st.text(max_size=30)), max_size=40))
def test_turn_and_latency_invariants(rows: list[tuple[str, int, str]]) -> None:
    stamp, messages = T0, []
    for i, (sender, gap, text) in enumerate(rows):
        stamp += timedelta(seconds=gap)
        messages.append(Message(stamp, sender, text, "text", i + 1))
    signals = list(message_signals(messages))
    changes = sum(1 for i, m in enumerate(messages) if i == 0 or m.sender != messages[i - 1].sender)
    assert (signals[-1].turn if signals else 0) == changes
    for row, message, before in zip(signals, messages, [None, *messages], strict=False):
        if row.turn_start and before is not None:
            assert row.reply_latency_s == (message.timestamp - before.timestamp).total_seconds()  # type: ignore[operator]
        else:
            assert row.reply_latency_s is None
    frame = weekly_signals(signals)
    if len(frame):
        assert frame.groupby("week")["turn_share"].sum().round(12).eq(1).all()
        assert frame["messages"].sum() == len(messages)


@given(st.lists(st.tuples(st.sampled_from(["Ann", "Bo", "Cy Li"]), st.text(max_size=20))))
def test_pseudonyms_are_consistent_and_hide_names(rows: list[tuple[str, str]]) -> None:
    messages = [Message(T0, sender, text, "text", i) for i, (sender, text) in enumerate(rows)]
    out = list(pseudonymize(messages))
    mapping: dict[str, str] = {}
    for before, after in zip(messages, out, strict=True):
        assert after.sender is not None
        assert mapping.setdefault(before.sender or "", after.sender) == after.sender
        assert after.sender.startswith("Person ")
    assert len(set(mapping.values())) == len(mapping)  # one pseudonym per person
