"""Precision and recall of each conversation signal on the labelled evaluation set.

Run ``python -m attunement.conversation.evaluate`` (``--misses`` lists the disagreements). Two
sets of messages written for attunement, each message with the one it answers (``context``, empty
for an opening), labelled by hand following ``docs/conversation-labelling.md``:

* ``evaluation/labelled_messages.csv`` (340, the *development* set): written after the first
  version of the rules; the rules were later revised while looking at its disagreements, so its
  figures are optimistic.
* ``evaluation/heldout_messages.csv`` (159, the *held-out* set): written and committed before that
  revision and never used to change a rule; its figures are the honest estimate.
 Each row is scored as a two-message chat (context by one
person, the message by the other) through :func:`~attunement.conversation.message_signals`, the
same path as a real export.

Precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean; ``NaN`` when the
denominator is 0. Caveat: sets and lexicons were written by the same team, in English; expect
lower figures on other styles of writing, and none are meaningful for other languages.
"""

from __future__ import annotations

import argparse
import math
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import pandas as pd

from attunement.conversation.messages import Message
from attunement.conversation.signals import MessageSignals, message_signals
from attunement.errors import InvalidInputError, Problem

__all__ = [
    "EVALUATED_SIGNALS",
    "EVALUATION_SETS",
    "evaluate",
    "load_evaluation_set",
    "main",
    "predict",
]

EVALUATED_SIGNALS = (
    "emotional_disclosure",
    "informational_disclosure",
    "any_disclosure",
    "understanding",
    "validation",
    "caring",
    "exploring_question",
    "we_language",
)
EVALUATION_SETS = {"development": "labelled_messages.csv", "heldout": "heldout_messages.csv"}
_LABELS = ("understanding", "validation", "caring", "exploring_question", "we_language")
_START = datetime(2024, 1, 1, 12, 0)


def load_evaluation_set(path: str | Path | None = None) -> pd.DataFrame:
    """The labelled messages (one row each: ``id``, ``context``, ``text``, labels, ``note``).

    ``path`` is a CSV file or the name of a shipped set (``"development"``, the default, or
    ``"heldout"``).
    """
    name = EVALUATION_SETS.get(str(path or "development"))
    source = (
        resources.files("attunement.conversation").joinpath(f"evaluation/{name}")
        if name is not None
        else Path(str(path))
    )
    with source.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, keep_default_na=False, dtype={"context": str, "text": str})
    bad = [
        Problem("unknown disclosure label", line=i + 2, value=v)
        for i, v in enumerate(frame["disclosure"])
        if v not in ("none", "informational", "emotional")
    ]
    for column in _LABELS:
        bad += [
            Problem("label must be 0 or 1", line=i + 2, column=column, value=v)
            for i, v in enumerate(frame[column])
            if v not in (0, 1)
        ]
    if bad:
        raise InvalidInputError("The evaluation set has invalid labels", problems=bad)
    return frame


def _signals_of(context: str, text: str) -> MessageSignals:
    messages = []
    if context:
        messages.append(Message(_START, "A", context, "text", 1))
    messages.append(Message(_START + timedelta(minutes=1), "B", text, "text", 2))
    return list(message_signals(messages))[-1]


def predict(frame: pd.DataFrame) -> pd.DataFrame:
    """The signals' predictions for each labelled row, as 0/1 columns named like the labels."""
    rows = []
    for context, text in zip(frame["context"], frame["text"], strict=True):
        found = _signals_of(context, text)
        rows.append(
            {
                "disclosure": found.disclosure,
                "understanding": int(found.understanding),
                "validation": int(found.validation),
                "caring": int(found.caring),
                "exploring_question": int(found.exploring_question),
                "we_language": int(found.we_words > 0),
            }
        )
    return pd.DataFrame(rows, index=frame.index)


def _binary(frame: pd.DataFrame, signal: str) -> pd.Series:
    if signal == "emotional_disclosure":
        return frame["disclosure"] == "emotional"
    if signal == "informational_disclosure":
        return frame["disclosure"] == "informational"
    if signal == "any_disclosure":
        return frame["disclosure"] != "none"
    return frame[signal] == 1


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def evaluate(path: str | Path | None = None) -> pd.DataFrame:
    """Precision, recall and F1 per signal: columns ``signal``, ``n``, ``positives``,
    ``predicted``, ``true_positives``, ``precision``, ``recall``, ``f1``."""
    labelled = load_evaluation_set(path)
    predicted = predict(labelled)
    rows = []
    for signal in EVALUATED_SIGNALS:
        truth, guess = _binary(labelled, signal), _binary(predicted, signal)
        tp = int((truth & guess).sum())
        precision = _ratio(tp, int(guess.sum()))
        recall = _ratio(tp, int(truth.sum()))
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else math.nan
        rows.append(
            (signal, len(labelled), int(truth.sum()), int(guess.sum()), tp, precision, recall, f1)
        )
    return pd.DataFrame(
        rows,
        columns=[
            "signal", "n", "positives", "predicted", "true_positives", "precision", "recall", "f1",
        ],
    )  # fmt: skip


def _misses(path: str | Path | None) -> list[str]:
    labelled = load_evaluation_set(path)
    predicted = predict(labelled)
    lines = []
    for signal in EVALUATED_SIGNALS:
        truth, guess = _binary(labelled, signal), _binary(predicted, signal)
        for index in labelled.index[truth != guess]:
            kind = "missed" if truth[index] else "false alarm"
            row_id, text = str(labelled.at[index, "id"]), str(labelled.at[index, "text"])
            lines.append(f"{signal:25} {kind:11} #{row_id}: {text}")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print the precision and recall table (and optionally every disagreement)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--set",
        dest="path",
        default=None,
        help="'development', 'heldout' or a labelled CSV (default: both shipped sets)",
    )
    parser.add_argument("--misses", action="store_true", help="list every disagreement")
    args = parser.parse_args(argv)
    titles = {
        "development": "Development set (rules revised while looking at it: optimistic)",
        "heldout": "Held-out set (never used to change a rule: the honest estimate)",
    }
    for path in [args.path] if args.path else list(EVALUATION_SETS):
        table = evaluate(path)
        print(f"{titles.get(path, path)}: {int(table['n'].iloc[0])} labelled messages")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        if args.misses:
            print()
            print("\n".join(_misses(path)))
        print()


if __name__ == "__main__":
    main()
