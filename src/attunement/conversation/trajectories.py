"""Per-person weekly trajectories of the signals, and language style matching.

:func:`weekly_signals` folds a stream of :class:`MessageSignals` into one row per person and
week (weeks start on Monday; messages without a timestamp are not counted), holding counts per
person-week plus one float per reply latency. Columns (fixed; a rate is ``NaN`` when its
denominator is 0):

``week`` (date of the Monday), ``person``, ``messages``, ``words``, ``turns``,
``message_share`` / ``turn_share`` / ``word_share`` (the person's part of all that week's
messages, turns and words: balance), ``emotional_disclosures``, ``informational_disclosures``,
``disclosure_rate`` (disclosing text messages / text messages), ``responding_turns`` (turns
right after another person's disclosing turn), ``understanding_rate``, ``validation_rate``,
``caring_rate``, ``responsiveness_rate`` (shares of responding turns with understanding,
validation, caring, any of them), ``reciprocity`` (share of responding turns that disclose in
turn), ``exploring_questions``, ``we_per_100_words``, ``i_per_100_words``,
``median_reply_latency_s``, ``lsm`` (language style matching with everyone else that week),
``sentiment`` (mean VADER compound score, ``NaN`` unless computed).

**Language style matching** (Ireland & Pennebaker, 2010): for each function-word category c
with percentages p1 and p2 of all words, LSM_c = 1 - |p1 - p2| / (p1 + p2 + 0.0001); LSM is
the mean over the nine categories (``FUNCTION_WORD_CATEGORIES``), between 0 and 1. A person is
compared with the pooled words of everyone else in the chat that week. Ireland and Pennebaker
used LIWC's dictionaries; ours are our own lists, so values are not comparable with LIWC-based
studies.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from attunement.conversation.signals import MessageSignals

__all__ = ["WEEKLY_COLUMNS", "language_style_matching", "weekly_signals"]

WEEKLY_COLUMNS = (
    "week",
    "person",
    "messages",
    "words",
    "turns",
    "message_share",
    "turn_share",
    "word_share",
    "emotional_disclosures",
    "informational_disclosures",
    "disclosure_rate",
    "responding_turns",
    "understanding_rate",
    "validation_rate",
    "caring_rate",
    "responsiveness_rate",
    "reciprocity",
    "exploring_questions",
    "we_per_100_words",
    "i_per_100_words",
    "median_reply_latency_s",
    "lsm",
    "sentiment",
)


def language_style_matching(
    counts_a: Sequence[float], words_a: float, counts_b: Sequence[float], words_b: float
) -> float:
    """Ireland & Pennebaker (2010) LSM from function-word counts and total words of A and B.

    ``NaN`` when either side has no words. Example: one category, A 10 of 100 words (10 %),
    B 5 of 100 (5 %): 1 - 5 / 15.0001 = 0.6667.
    """
    if words_a <= 0 or words_b <= 0 or not counts_a:
        return math.nan
    total = 0.0
    for a, b in zip(counts_a, counts_b, strict=True):
        pa, pb = 100.0 * a / words_a, 100.0 * b / words_b
        total += 1.0 - abs(pa - pb) / (pa + pb + 0.0001)
    return total / len(counts_a)


@dataclass(slots=True)
class _Cell:
    messages: int = 0
    text_messages: int = 0
    words: int = 0
    turns: int = 0
    emotional: int = 0
    informational: int = 0
    responding: int = 0
    understanding: int = 0
    validation: int = 0
    caring: int = 0
    responsive: int = 0
    reciprocated: int = 0
    exploring: int = 0
    we: int = 0
    me: int = 0
    sentiment_sum: float = 0.0
    sentiment_n: int = 0
    function_words: list[int] = field(default_factory=lambda: [0] * 9)
    latencies: array[float] = field(default_factory=lambda: array("d"))


def _monday_ordinal(ordinal: int) -> int:
    """The ordinal of the Monday starting the week (day 1, 0001-01-01, was a Monday)."""
    return ordinal - (ordinal - 1) % 7


def weekly_signals(signals: Iterable[MessageSignals]) -> pd.DataFrame:
    """One row per person and week with the columns in ``WEEKLY_COLUMNS`` (see module doc)."""
    cells: dict[tuple[int, str], _Cell] = {}
    turn_key: tuple[int, str] | None = None
    turn_flags = [False, False, False, False, False]  # responds, und, val, car, disclosed

    def close_turn() -> None:
        if turn_key is None or not turn_flags[0]:
            return
        cell = cells[turn_key]
        cell.responding += 1
        cell.understanding += turn_flags[1]
        cell.validation += turn_flags[2]
        cell.caring += turn_flags[3]
        cell.responsive += turn_flags[1] or turn_flags[2] or turn_flags[3]
        cell.reciprocated += turn_flags[4]

    for row in signals:
        if row.timestamp is None:
            continue
        key = (_monday_ordinal(row.timestamp.toordinal()), row.sender)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _Cell()
        if row.turn_start:
            close_turn()
            turn_key = key
            turn_flags = [row.responds_to_disclosure, False, False, False, False]
            cell.turns += 1
            if row.reply_latency_s is not None:
                cell.latencies.append(row.reply_latency_s)
        turn_flags[1] |= row.understanding
        turn_flags[2] |= row.validation
        turn_flags[3] |= row.caring
        turn_flags[4] |= row.disclosure != "none"
        cell.messages += 1
        if row.kind == "text":
            cell.text_messages += 1
        cell.words += row.words
        cell.emotional += row.disclosure == "emotional"
        cell.informational += row.disclosure == "informational"
        cell.exploring += row.exploring_question
        cell.we += row.we_words
        cell.me += row.i_words
        if row.sentiment is not None:
            cell.sentiment_sum += row.sentiment
            cell.sentiment_n += 1
        counts = cell.function_words
        for index, count in enumerate(row.function_words):
            if count:
                counts[index] += count
    close_turn()
    return _frame(cells)


def _rate(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def _frame(cells: dict[tuple[int, str], _Cell]) -> pd.DataFrame:
    weeks: dict[int, list[str]] = {}
    for week, person in cells:
        weeks.setdefault(week, []).append(person)
    rows = []
    for week in sorted(weeks):
        people = sorted(weeks[week])
        group = [cells[(week, person)] for person in people]
        totals = [sum(c.messages for c in group), sum(c.turns for c in group),
                  sum(c.words for c in group)]  # fmt: skip
        all_fw = [sum(c.function_words[i] for c in group) for i in range(9)]
        for person, cell in zip(people, group, strict=True):
            others_fw = [
                total - own for total, own in zip(all_fw, cell.function_words, strict=True)
            ]
            lsm = language_style_matching(
                cell.function_words, cell.words, others_fw, totals[2] - cell.words
            )
            disclosed = cell.emotional + cell.informational
            rows.append(
                (
                    date.fromordinal(week),
                    person,
                    cell.messages,
                    cell.words,
                    cell.turns,
                    _rate(cell.messages, totals[0]),
                    _rate(cell.turns, totals[1]),
                    _rate(cell.words, totals[2]),
                    cell.emotional,
                    cell.informational,
                    _rate(disclosed, cell.text_messages),
                    cell.responding,
                    _rate(cell.understanding, cell.responding),
                    _rate(cell.validation, cell.responding),
                    _rate(cell.caring, cell.responding),
                    _rate(cell.responsive, cell.responding),
                    _rate(cell.reciprocated, cell.responding),
                    cell.exploring,
                    _rate(100.0 * cell.we, cell.words),
                    _rate(100.0 * cell.me, cell.words),
                    float(np.median(cell.latencies)) if len(cell.latencies) else math.nan,
                    lsm,
                    _rate(cell.sentiment_sum, cell.sentiment_n),
                )
            )
    frame = pd.DataFrame(rows, columns=list(WEEKLY_COLUMNS))
    frame["week"] = pd.to_datetime(frame["week"])
    return frame
