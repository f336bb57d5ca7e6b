"""The schema of an instrument definition and of the 36 Questions protocol.

Definitions are TOML data files in ``attunement/instruments/definitions/``; each is validated
against these pydantic models when it is loaded (see :mod:`attunement.instruments.loader`). All
models are frozen, so a loaded instrument can be shared and cached safely.

Score rules (applied by :mod:`attunement.instruments.scoring`):

* a reverse-keyed answer ``x`` on a scale ``min..max`` becomes ``min + max - x``;
* a scale (the total or a subscale) of ``k`` items is scored when at least
  ``ceil(min_answered_share * k)`` of its items are answered: the mean of the answered items,
  multiplied by ``k`` for a sum score (prorating); otherwise the score is missing;
* a band is the last band whose lower bound the score reaches, so a prorated score that falls
  between two published ranges (20.5 on the SWLS, 2.95 on the MSPSS) takes the lower band.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

__all__ = [
    "Anchor",
    "Band",
    "Bands",
    "Instrument",
    "Item",
    "OptionalEnding",
    "Procedure",
    "Protocol",
    "Question",
    "QuestionSet",
    "ResponseScale",
    "Scoring",
    "Subscale",
]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Anchor(_Frozen):
    """A labelled point of a response scale, e.g. ``1 = "strongly disagree"``."""

    value: int
    label: str = Field(min_length=1)


class ResponseScale(_Frozen):
    """The answers an item accepts: whole numbers from ``min`` to ``max``; some are labelled."""

    min: int
    max: int
    anchors: tuple[Anchor, ...] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ResponseScale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        seen_values: set[int] = set()
        seen_labels: set[str] = set()
        for anchor in self.anchors:
            if not self.min <= anchor.value <= self.max:
                raise ValueError(
                    f"anchor {anchor.value} ({anchor.label!r}) lies outside {self.min}..{self.max}"
                )
            if anchor.value in seen_values:
                raise ValueError(f"anchor value {anchor.value} appears twice")
            key = anchor.label.strip().casefold()
            if key in seen_labels:
                raise ValueError(f"anchor label {anchor.label!r} appears twice")
            seen_values.add(anchor.value)
            seen_labels.add(key)
        return self

    def describe_allowed(self) -> str:
        """Plain words for what an answer may be, quoted in error messages."""
        labels = ", ".join(f"{a.value} = {a.label!r}" for a in self.anchors)
        return f"whole numbers {self.min} to {self.max} or a label ({labels})"


class Item(_Frozen):
    """One item. ``text`` is ``None`` where the wording may not be redistributed."""

    number: int = Field(ge=1)
    text: str | None = None
    reverse: bool = False
    instrument_id: str = Field("", exclude=True, repr=False)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def column(self) -> str:
        """The default column name of this item in a respondent table: ``<id>_<number>``."""
        return f"{self.instrument_id}_{self.number}"


class Subscale(_Frozen):
    """A named subset of items scored on its own (``<id>_<subscale id>`` in the output)."""

    id: str
    name: str
    items: tuple[int, ...] = Field(min_length=1)
    method: Literal["sum", "mean"] | None = None

    @field_validator("id")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _ID.match(value) or value in ("total", "band"):
            raise ValueError(f"subscale id {value!r} must be snake_case and not 'total' or 'band'")
        return value


class Scoring(_Frozen):
    """How scores are formed from the keyed items."""

    method: Literal["sum", "mean"]
    total: bool = True
    total_items: tuple[int, ...] | None = None
    subscales: tuple[Subscale, ...] = ()
    min_answered_share: float = Field(0.8, gt=0.0, le=1.0)
    note: str | None = None

    def required_answers(self, item_count: int) -> int:
        """How many of ``item_count`` items must be answered for a score."""
        return max(1, math.ceil(self.min_answered_share * item_count - 1e-9))


class Band(_Frozen):
    """One interpretation range: ``min <= score <= max`` (bounds as the authors print them)."""

    min: float
    max: float
    label: str = Field(min_length=1)


class Bands(_Frozen):
    """Interpretation bands for one score, with their source.

    ``kind`` is ``"authors"`` for bands the scale's authors published (interpretive benchmarks)
    and ``"convention"`` for ranges in common use that are not validated cut-offs.
    """

    score: str = "total"
    kind: Literal["authors", "convention"]
    source: str = Field(min_length=1)
    ranges: tuple[Band, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        labels = [band.label for band in self.ranges]
        if len(set(labels)) != len(labels):
            raise ValueError("band labels must be unique")
        for band in self.ranges:
            if band.max < band.min:
                raise ValueError(f"band {band.label!r} has max below min")
        for lower, upper in zip(self.ranges, self.ranges[1:], strict=False):
            if upper.min <= lower.max:
                raise ValueError(
                    f"bands {lower.label!r} and {upper.label!r} overlap or are not in "
                    "ascending order"
                )
        return self


class Instrument(_Frozen):
    """A questionnaire: its source, licence, items, response scale, scoring and bands."""

    id: str
    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    doi: str | None = None
    licence: str = Field(min_length=1)
    instructions: str = Field(min_length=1)
    measures: str = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    scale: ResponseScale
    scoring: Scoring
    bands: Bands | None = None
    unverified: tuple[str, ...] = ()
    wording_source: Literal["bundled", "project", "user", "none"] = "bundled"

    @field_validator("id")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"id {value!r} must be snake_case (a-z, 0-9, _)")
        return value

    @field_validator("doi")
    @classmethod
    def _doi(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("10."):
            raise ValueError(f"doi {value!r} must start with '10.' (no https://doi.org/ prefix)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _stamp_items(cls, data: object) -> object:
        """Give every item its instrument id, so ``Item.column`` is ``<id>_<number>``."""
        if isinstance(data, dict) and isinstance(data.get("items"), list | tuple):
            ident = data.get("id", "")
            items = []
            for raw in data["items"]:
                if isinstance(raw, dict):
                    raw = {**raw, "instrument_id": ident}
                elif isinstance(raw, Item):
                    raw = raw.model_copy(update={"instrument_id": ident})
                items.append(raw)
            data = {**data, "items": items}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        numbers = [item.number for item in self.items]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"items must be numbered 1..{len(numbers)} in order, got {numbers}")
        known = set(numbers)
        groups = {"total_items": self.scoring.total_items or ()}
        groups.update({f"subscale {s.id!r}": s.items for s in self.scoring.subscales})
        for where, members in groups.items():
            unknown = sorted(set(members) - known)
            if unknown:
                raise ValueError(f"{where} names unknown items {unknown}")
            if len(set(members)) != len(members):
                raise ValueError(f"{where} lists an item twice")
        ids = [s.id for s in self.scoring.subscales]
        if len(set(ids)) != len(ids):
            raise ValueError("two subscales share an id")
        if self.scoring.total_items is not None and not self.scoring.total:
            raise ValueError("total_items is set but total = false")
        if not self.scoring.total and not self.scoring.subscales:
            raise ValueError("scoring must produce a total or at least one subscale")
        if self.bands is not None:
            self._check_bands(self.bands)
        return self

    def _check_bands(self, bands: Bands) -> None:
        targets = {s.id for s in self.scoring.subscales}
        if self.scoring.total:
            targets.add("total")
        if bands.score not in targets:
            raise ValueError(f"bands.score {bands.score!r} is not one of {sorted(targets)}")
        low, high = self.score_range(bands.score)
        if not math.isclose(bands.ranges[0].min, low) or not math.isclose(
            bands.ranges[-1].max, high
        ):
            raise ValueError(
                f"bands must run from the lowest ({low:g}) to the highest ({high:g}) score"
            )

    # -- derived facts -------------------------------------------------------------------

    @property
    def columns(self) -> tuple[str, ...]:
        """The default item columns, ``<id>_1`` ... ``<id>_<k>``."""
        return tuple(item.column for item in self.items)

    @property
    def reverse_items(self) -> tuple[int, ...]:
        """Numbers of the reverse-keyed items."""
        return tuple(item.number for item in self.items if item.reverse)

    def scale_items(self, score: str) -> tuple[int, ...]:
        """The item numbers behind ``score`` (``"total"`` or a subscale id); KeyError if none."""
        if score == "total" and self.scoring.total:
            return self.scoring.total_items or tuple(item.number for item in self.items)
        for sub in self.scoring.subscales:
            if sub.id == score:
                return sub.items
        raise KeyError(score)

    def scale_method(self, score: str) -> Literal["sum", "mean"]:
        """``"sum"`` or ``"mean"`` for ``score``."""
        for sub in self.scoring.subscales:
            if sub.id == score and sub.method is not None:
                return sub.method
        return self.scoring.method

    def score_range(self, score: str = "total") -> tuple[float, float]:
        """The lowest and highest possible value of ``score``."""
        k = len(self.scale_items(score))
        factor = k if self.scale_method(score) == "sum" else 1
        return (float(self.scale.min * factor), float(self.scale.max * factor))

    def score_columns(self) -> tuple[str, ...]:
        """Output columns added by scoring, in order."""
        names = [f"{self.id}_total"] if self.scoring.total else []
        names += [f"{self.id}_{s.id}" for s in self.scoring.subscales]
        if self.bands is not None:
            names.append(f"{self.id}_band")
        return tuple(names)


# -- the 36 Questions protocol -------------------------------------------------------------


class Question(_Frozen):
    """One slip of the 36 Questions (a question or a small task), numbered 1..36 overall."""

    number: int = Field(ge=1)
    text: str = Field(min_length=1)


class QuestionSet(_Frozen):
    """Twelve questions that are done in order within their time limit."""

    number: int = Field(ge=1)
    title: str
    questions: tuple[Question, ...] = Field(min_length=1)


class Procedure(_Frozen):
    """How the sets are done (Aron et al., 1997)."""

    minutes_per_set: int = Field(gt=0)
    sets_in_order: bool
    both_answer: bool
    reader_answers_first: bool
    reader_alternates: bool
    may_skip: bool
    must_finish_set: bool
    steps: tuple[str, ...] = Field(min_length=1)


class OptionalEnding(_Frozen):
    """An add-on after the last set; ``part_of_original`` says whether it is validated."""

    title: str
    minutes: int = Field(gt=0)
    instructions: str
    part_of_original: bool
    source: str


class Protocol(_Frozen):
    """A structured procedure such as the 36 Questions, with its control condition."""

    id: str
    name: str
    version: str
    citation: str
    doi: str | None = None
    licence: str
    instructions: str
    sets: tuple[QuestionSet, ...] = Field(min_length=1)
    control_sets: tuple[QuestionSet, ...] = ()
    control_note: str
    procedure: Procedure
    optional_ending: OptionalEnding | None = None
    unverified: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _numbered(self) -> Protocol:
        for label, sets in (("sets", self.sets), ("control_sets", self.control_sets)):
            numbers = [q.number for s in sets for q in s.questions]
            if numbers != list(range(1, len(numbers) + 1)):
                raise ValueError(f"{label}: questions must be numbered 1..{len(numbers)} in order")
            if [s.number for s in sets] != list(range(1, len(sets) + 1)):
                raise ValueError(f"{label}: sets must be numbered 1..{len(sets)}")
        return self

    @property
    def questions(self) -> tuple[Question, ...]:
        """All questions of the closeness sets, in order."""
        return tuple(q for s in self.sets for q in s.questions)
