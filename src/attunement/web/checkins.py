"""Check-ins: any instrument of the bank as a form, scored on submit, explained in plain words.

Storing and scoring go through :func:`attunement.store.records.add_measurement` (which scores
with :func:`attunement.instruments.score`); reading back through
:func:`attunement.store.access.readable_measurements`. This module turns instruments into
forms and scores into sentences.

Instruments answered about one named person (the EIS, the IOS circles, the ECR-RS) ask which
person; the others are about oneself. Instruments shipped without their wording (the EIS: the
wording is copyrighted) show numbered items with the response scale, and say how to supply the
licensed wording (``ATTUNEMENT_INSTRUMENT_WORDING_DIR``): attunement never invents item text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from attunement.errors import InvalidInputError, Problem
from attunement.instruments import Instrument, list_instruments, load_instrument
from attunement.settings import Settings
from attunement.store.access import MeasurementView

__all__ = [
    "ABOUT_ONE_PERSON",
    "CHECKIN_DEFAULT",
    "DIARY_INSTRUMENT",
    "ScoreLine",
    "band_sentence",
    "checkin_instruments",
    "explain_scores",
    "load_checkin_instrument",
    "parse_answers",
    "trend_points",
    "wording_dir",
]

CHECKIN_DEFAULT = "eis"
DIARY_INSTRUMENT = "interaction"
ABOUT_ONE_PERSON = frozenset({"eis", "ios", "ecr_rs"})


def wording_dir(settings: Settings) -> str | None:
    """The folder of licensed item wording, if the server has one."""
    folder = settings.instrument_wording_dir
    return str(folder) if folder is not None else None


def checkin_instruments(settings: Settings) -> list[Instrument]:
    """Every instrument a person can check in with (the diary's record is on its own page)."""
    found = list_instruments(wording_dir=wording_dir(settings))
    found = [instrument for instrument in found if instrument.id != DIARY_INSTRUMENT]
    found.sort(key=lambda instrument: (instrument.id != CHECKIN_DEFAULT, instrument.name))
    return found


def load_checkin_instrument(settings: Settings, instrument_id: str) -> Instrument:
    """One instrument for a check-in (NotFoundError lists the known ids)."""
    return load_instrument(instrument_id, wording_dir=wording_dir(settings))


def parse_answers(instrument: Instrument, form: dict[str, str]) -> dict[str, int | None]:
    """The item answers from a submitted form (``<id>_<n>`` fields); unanswered items are None.

    Raises :class:`InvalidInputError` naming each field that is not a whole number on the
    scale (the store checks the scale again).
    """
    answers: dict[str, int | None] = {}
    problems = []
    allowed = f"whole numbers {instrument.scale.min} to {instrument.scale.max}"
    for item in instrument.items:
        raw = form.get(item.column, "").strip()
        if not raw:
            answers[item.column] = None
            continue
        try:
            value = int(raw)
        except ValueError:
            problems.append(
                Problem("not a number on the scale", column=item.column, allowed=allowed)
            )
            continue
        if not instrument.scale.min <= value <= instrument.scale.max:
            problems.append(
                Problem("outside the scale", column=item.column, value=value, allowed=allowed)
            )
            continue
        answers[item.column] = value
    if problems:
        raise InvalidInputError(
            "Some answers are not on the scale.",
            hint="Choose one of the points shown for each statement.",
            problems=problems,
        )
    if all(value is None for value in answers.values()):
        raise InvalidInputError(
            "No answers were given.",
            hint="Answer at least the statements you want to; a score needs most of them.",
            problems=[Problem("no answer", column=instrument.items[0].column)],
        )
    return answers


@dataclass(frozen=True)
class ScoreLine:
    """One score of a check-in in plain words."""

    name: str
    value: float | None
    low: float
    high: float
    method: str
    sentence: str


def _format(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _position(value: float, low: float, high: float) -> str:
    share = (value - low) / (high - low) if high > low else 0.5
    if share >= 0.8:
        return "near the top of the possible range"
    if share >= 0.6:
        return "in the upper part of the possible range"
    if share > 0.4:
        return "around the middle of the possible range"
    if share > 0.2:
        return "in the lower part of the possible range"
    return "near the bottom of the possible range"


def explain_scores(instrument: Instrument, scores: dict[str, object]) -> list[ScoreLine]:
    """Each score of ``scores`` (``<id>_total``, ``<id>_<subscale>``) with a sentence saying
    what it is and where it lies in its possible range."""
    names = {"total": "Total score"} if instrument.scoring.total else {}
    names.update({subscale.id: subscale.name for subscale in instrument.scoring.subscales})
    lines = []
    for key, name in names.items():
        raw = scores.get(f"{instrument.id}_{key}")
        low, high = instrument.score_range(key)
        method = instrument.scale_method(key)
        items = len(instrument.scale_items(key))
        how = (
            f"the sum of {items} answers"
            if method == "sum" and items > 1
            else f"the mean of {items} answers"
            if items > 1
            else "your answer"
        )
        if not isinstance(raw, (int, float)):
            sentence = (
                f"Not enough answers for a score: {how} needs at least "
                f"{instrument.scoring.required_answers(items)} of {items} answered."
            )
            lines.append(ScoreLine(name, None, low, high, method, sentence))
            continue
        value = float(raw)
        sentence = (
            f"{_format(value)} on a range of {_format(low)} to {_format(high)} ({how}), "
            f"{_position(value, low, high)}."
        )
        lines.append(ScoreLine(name, value, low, high, method, sentence))
    return lines


def band_sentence(instrument: Instrument, scores: dict[str, object]) -> str | None:
    """The interpretation band, with what kind of band it is, or None."""
    bands = instrument.bands
    label = scores.get(f"{instrument.id}_band")
    if bands is None or not isinstance(label, str):
        return None
    if bands.kind == "authors":
        return f"The scale's authors call this range \u201c{label}\u201d ({bands.source})."
    return (
        f"This range is often called \u201c{label}\u201d; that is a convention, not a "
        f"validated cut-off ({bands.source})."
    )


def trend_points(
    measurements: list[MeasurementView], score: str, *, about_person_id: int | None = None
) -> list[tuple[datetime, float]]:
    """``(taken_at, value)`` of one score over one's own check-ins, oldest first (about one
    person when given)."""
    points = []
    for measurement in measurements:
        if not measurement.is_own:
            continue
        if about_person_id is not None and measurement.about_person_id != about_person_id:
            continue
        value = measurement.scores.get(score)
        if isinstance(value, (int, float)):
            points.append((measurement.taken_at, float(value)))
    return points
