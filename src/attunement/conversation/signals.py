"""Signals of the intimacy process in each message (Reis & Shaver, 1988; Laurenceau et al., 1998).

For every text or media message (system lines are skipped) :func:`message_signals` yields a
:class:`MessageSignals` record. All rules use the project's own lexicons (``lexicons/``,
Apache-2.0); none is a validated instrument, and their measured precision and recall are in
``docs/conversation.md``. Rules, applied to lower-case tokens (``'`` straightened):

* **Self-disclosure** (Laurenceau et al., 1998 distinguish disclosure of facts from disclosure
  of feelings). *Emotional*: an emotion term that is the writer's own: it does not follow a
  second- or third-person pronoun or an attribution ("I know how *you* feel", "that *sounds*
  lonely" are not the writer's feeling; "you make *me* happy" is), is not aimed at the other or an
  occasion ("proud of you", "happy birthday") and not hypothetical ("I'd be furious"); or "miss"
  in a message without "you". The writer must refer to themself (a first-person singular
  pronoun, or a message that starts with a feeling word, as in "so tired today"), and the message
  must not be a question to the other. *Informational*: otherwise, a first-person singular
  statement of at least 5 tokens with a self-fact cue (family, work, health, history, habits,
  beliefs), not a question and not logistics ("on my way", "let me check").
* **Responsiveness** (the three facets of perceived partner responsiveness): *understanding*, a
  reflecting phrase ("sounds like", "you must be", "I can imagine") or reflecting back (at least
  two content words, 4+ letters, of the other's previous turn, in a message addressed to "you");
  *validation*, a legitimising or normalising phrase ("makes sense", "anyone would", "it's okay
  to", "that's normal", "you didn't deserve"); *caring*, support, sympathy, reassurance, praise,
  well-wishing, thanks for trusting, offers of help or affection (phrases or heart emoji).
* **Exploring question**: in a message with "?", an exploring phrase ("what happened", "how did
  that feel") or a sentence ending in "?" with an open question word (how/what/why) and no
  logistics, small-talk or accusing phrase ("what time", "how are you", "why do you always");
  without "?", an exploring phrase that opens the message ("tell me more").
* **We-language**: count of first-person plural tokens (``we_words``); ``i_words`` likewise.
* **Turns and latency**: a turn is a run of messages by one sender; ``reply_latency_s`` is the
  time from the other's last message to the first message of a new turn (``None`` at the start,
  without timestamps, or when the clock runs backwards).
* ``responds_to_disclosure``: the message belongs to the turn right after another person's turn
  that held a disclosure; responsiveness and reciprocity are read in those turns.
* ``function_words``: counts of the nine function-word categories used for language style
  matching (:mod:`attunement.conversation.trajectories`).
* ``sentiment``: VADER compound score (Hutto & Gilbert, 2014; MIT) when asked for, else ``None``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Final, Literal, NamedTuple

import pandas as pd

from attunement.conversation.lexicon import (
    FUNCTION_WORD_CATEGORIES,
    Bits,
    Lexicon,
    load_lexicon,
    tokenize,
)
from attunement.conversation.messages import Message
from attunement.datafile import writing_to

__all__ = [
    "DISCLOSURE_LEVELS",
    "SIGNAL_COLUMNS",
    "Disclosure",
    "MessageSignals",
    "TextSignals",
    "message_signals",
    "signals_frame",
    "text_signals",
    "write_signals_csv",
]

Disclosure = Literal["none", "informational", "emotional"]
DISCLOSURE_LEVELS: Final[tuple[Disclosure, ...]] = ("none", "informational", "emotional")

_SENTENCE_END = re.compile(r"[.!\n]")
_PRO_DROP = frozenset(
    ["feel", "feeling", "felt", "so", "sooo", "been", "kinda", "bit", "really", "just", "super",
     "totally", "still", "getting", "got", "am", "having", "not", "honestly"]
)  # fmt: skip
_SUBJECTS: Final = (
    Bits.FIRST_SINGULAR | Bits.FIRST_PLURAL | Bits.SECOND | Bits.THIRD | Bits.ATTRIBUTION
)
_TURN_TOKENS_CAP: Final = 400  # tokens kept per turn for reflecting back


class TextSignals(NamedTuple):
    """The text signals of one message (see the module docstring for the rules)."""

    words: int
    disclosure: Disclosure
    understanding: bool
    validation: bool
    caring: bool
    exploring_question: bool
    we_words: int
    i_words: int
    function_words: tuple[int, ...]
    content: tuple[str, ...]


class MessageSignals(NamedTuple):
    """One row of per-message signals; the columns of ``attunement chat signals``."""

    line: int
    timestamp: datetime | None
    sender: str
    kind: str
    turn: int
    turn_start: bool
    reply_latency_s: float | None
    words: int
    disclosure: Disclosure
    understanding: bool
    validation: bool
    caring: bool
    exploring_question: bool
    we_words: int
    i_words: int
    responds_to_disclosure: bool
    sentiment: float | None
    function_words: tuple[int, ...]


SIGNAL_COLUMNS: Final[tuple[str, ...]] = (
    *MessageSignals._fields[:-1],
    *(f"fw_{category}" for category in FUNCTION_WORD_CATEGORIES),
)

_EMPTY: Final[_Analysis] = (0, "none", False, False, False, False, 0, 0, (0,) * 9, [])


def _exploring(text: str, bits: int, lexicon: Lexicon) -> bool:
    """For a message with "?": an exploring phrase, or an open question sentence."""
    if bits & Bits.EXPLORING:
        return True
    if not bits & Bits.OPEN_QUESTION:
        return False
    for part in text.split("?")[:-1]:
        sentence = _SENTENCE_END.split(part)[-1]
        sentence_bits = lexicon.bits_of(tokenize(sentence))
        if sentence_bits & Bits.OPEN_QUESTION and not sentence_bits & Bits.CLOSED_QUESTION:
            return True
    return False


def text_signals(
    text: str, *, partner_content: frozenset[str] = frozenset(), lexicon: Lexicon | None = None
) -> TextSignals:
    """The signals of one message's text; ``partner_content`` = content words of the turn
    it answers (for reflecting back)."""
    lex = lexicon or load_lexicon()
    found = _analyse(text, _Partner.of_content(partner_content), lex)
    return TextSignals(*found[:9], tuple(dict.fromkeys(_content(found[9], lex))))


def _content(tokens: Iterable[str], lex: Lexicon) -> set[str]:
    """Content words: 4+ letters and not a function word."""
    function_words = lex.function_words
    return {t for t in tokens if len(t) > 3 and t not in function_words}


class _Partner:
    """The turn a message answers: its tokens, and its content words once someone asks."""

    __slots__ = ("_content", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self._content: frozenset[str] | None = None

    @classmethod
    def of_content(cls, content: frozenset[str]) -> _Partner:
        partner = cls([])
        partner._content = content
        return partner

    def content(self, lex: Lexicon) -> frozenset[str]:
        if self._content is None:
            self._content = frozenset(_content(self.tokens, lex))
        return self._content


_NO_PARTNER: Final = _Partner.of_content(frozenset())


_Analysis = tuple[int, Disclosure, bool, bool, bool, bool, int, int, tuple[int, ...], list[str]]


def _analyse(text: str, partner: _Partner, lex: Lexicon) -> _Analysis:
    """The signals of a text as a plain tuple (the last item: its tokens)."""
    tokens = tokenize(text)
    if not tokens and not text:
        return _EMPTY
    get = lex.entries.get
    bigrams = lex.bigrams
    count = len(tokens)
    bits = we = me = 0
    subject = own_emotion = 0  # last pronoun seen: 0 none, 1 first singular, 2 other
    opens_exploring = False  # an exploring phrase starts the message
    fw = [0] * 9
    for index, token in enumerate(tokens):
        entry = get(token)
        if entry is None:
            continue
        token_bits, category, starts = entry
        if starts:
            phrase_bits = 0
            if starts & 1 and index + 1 < count:
                for rest, found in bigrams.get(token + " " + tokens[index + 1], ()):
                    if not rest or tokens[index + 2 : index + 2 + len(rest)] == rest:
                        phrase_bits |= found
            if starts & 2:
                phrase_bits |= lex.phrase_bits(tokens, index)
            if phrase_bits:
                if phrase_bits & (Bits.OTHER_DIRECTED | Bits.HYPOTHETICAL):
                    token_bits &= ~Bits.EMOTION  # "proud of you", "I'd be furious"
                    if phrase_bits & Bits.HYPOTHETICAL:
                        subject = 2
                elif phrase_bits & Bits.EMOTION and subject < 2:
                    own_emotion = 1
                if phrase_bits & Bits.EXPLORING and index == 0:
                    opens_exploring = True
                token_bits |= phrase_bits
        if category >= 0:
            fw[category] += 1
        if token_bits:
            bits |= token_bits
            if token_bits & _SUBJECTS:
                if token_bits & Bits.FIRST_PLURAL:
                    we += 1
                elif token_bits & Bits.FIRST_SINGULAR:
                    me += 1
                    subject = 1
                if token_bits & (Bits.SECOND | Bits.THIRD | Bits.ATTRIBUTION):
                    subject = 2
            if token_bits & Bits.EMOTION and subject < 2:
                own_emotion = 1
    second = bits & Bits.SECOND
    tail = text.rstrip()[-3:]
    question = "?" in tail
    emotion = own_emotion or (bits & Bits.AFFECTION and not second)
    disclosure: Disclosure = "none"
    if emotion and not (question and second):
        first = tokens[0] if tokens else ""
        starts_with_feeling = first in _PRO_DROP or get(first, (0,))[0] & Bits.EMOTION
        if bits & Bits.FIRST_SINGULAR or (not second and starts_with_feeling):
            disclosure = "emotional"
    if (
        disclosure == "none"
        and bits & Bits.FIRST_SINGULAR
        and bits & Bits.SELF_FACT
        and not bits & Bits.LOGISTICS
        and len(tokens) >= 5
        and not question
    ):
        disclosure = "informational"
    reflects = False
    if second and (partner.tokens or partner._content):
        reflects = len(partner.content(lex).intersection(_content(tokens, lex))) >= 2
    caring = bool(bits & Bits.CARING)
    if not caring and not text.isascii():
        caring = any(mark in text for mark in lex.caring_emoji)
    elif not caring and "<3" in text:
        caring = True
    return (
        len(tokens),
        disclosure,
        bool(bits & Bits.UNDERSTANDING) or reflects,
        bool(bits & Bits.VALIDATION),
        caring,
        ("?" in text and _exploring(text, bits, lex)) or opens_exploring,
        we,
        me,
        tuple(fw),
        tokens,
    )


def _vader() -> Callable[[str], float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def score(text: str) -> float:
        return float(analyzer.polarity_scores(text)["compound"])

    return score


def message_signals(
    messages: Iterable[Message], *, sentiment: bool = False, lexicon: Lexicon | None = None
) -> Iterator[MessageSignals]:
    """Yield the signals of each text or media message, in order, holding O(1) state.

    ``sentiment=True`` adds VADER's compound score for text messages (about 5x slower).
    """
    lex = lexicon or load_lexicon()
    score = _vader() if sentiment else None
    turn = 0
    previous_sender: str | None = None
    previous_time: datetime | None = None
    turn_disclosed = answered_disclosed = False
    turn_tokens: list[str] = []
    partner = _NO_PARTNER
    for message in messages:
        sender = message.sender
        if message.kind == "system" or sender is None:
            continue
        stamp = message.timestamp
        latency = None
        starts = sender != previous_sender
        if starts:
            if previous_sender is not None:
                answered_disclosed = turn_disclosed
                partner = _Partner(turn_tokens)
                if stamp is not None and previous_time is not None and stamp >= previous_time:
                    latency = (stamp - previous_time).total_seconds()
            turn += 1
            turn_disclosed = False
            turn_tokens = []
        if message.kind == "text":
            found = _analyse(message.text, partner, lex)
            if found[1] != "none":
                turn_disclosed = True
            if len(turn_tokens) < _TURN_TOKENS_CAP:
                turn_tokens.extend(found[9])
            polarity = score(message.text) if score is not None else None
        else:
            found, polarity = _EMPTY, None
        words, disclosure, understanding, validation, caring, exploring, we, me, fw, _ = found
        yield MessageSignals(
            message.line,
            stamp,
            sender,
            message.kind,
            turn,
            starts,
            latency,
            words,
            disclosure,
            understanding,
            validation,
            caring,
            exploring,
            we,
            me,
            answered_disclosed and turn > 1,
            polarity,
            fw,
        )
        previous_sender, previous_time = sender, stamp


def _row(signals: MessageSignals) -> tuple[object, ...]:
    return (*signals[:-1], *signals.function_words)


def signals_frame(signals: Iterable[MessageSignals]) -> pd.DataFrame:
    """The per-message signals as a tidy DataFrame with ``SIGNAL_COLUMNS``."""
    frame = pd.DataFrame([_row(s) for s in signals], columns=list(SIGNAL_COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def write_signals_csv(signals: Iterable[MessageSignals], path: str | Path) -> int:
    """Stream per-message signals to a CSV file (``SIGNAL_COLUMNS``); return the row count."""
    count = 0
    with writing_to(path) as file, file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SIGNAL_COLUMNS)
        for record in signals:
            row = _row(record)
            stamp = record.timestamp
            writer.writerow((row[0], stamp.isoformat() if stamp else "", *row[2:]))
            count += 1
    return count
