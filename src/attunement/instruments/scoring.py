"""Scoring respondent tables with an instrument definition: pure functions, pandas in and out.

Input: one row per response (wide), item columns named ``<id>_<n>`` (``eis_1`` ... ``eis_5``)
or renamed with ``mapping={"file column": "eis_1", ...}``. Every other column passes through
untouched. An answer may be a number, a numeric string (spaces allowed: ``" 4 "``) or an anchor
label of the scale (case-insensitive: ``"Strongly agree"``); empty cells are missing.

Rules (the definition can change the share; see :mod:`attunement.instruments.schema`):

* reverse keys: ``x' = min + max - x`` (PSS-10 items 4, 5, 7, 8 on 0-4 become ``4 - x``);
* a scale of ``k`` items is scored when ``answered >= ceil(share * k)`` (share 0.8 by default):
  ``mean(answered items)`` for a mean score, ``sum`` when all ``k`` are answered and
  ``mean(answered) * k`` otherwise for a sum score (prorating); else missing;
* ``<id>_band`` is the last published band whose lower bound the score reaches.

Output columns: ``<id>_total``, ``<id>_<subscale>`` (floats) and ``<id>_band`` (an ordered
categorical) where the instrument has them; existing columns of those names are replaced.

Invalid answers (out of range, not a whole number, an unknown label) raise
:class:`~attunement.errors.InvalidInputError` listing every offending cell with its line (the
frame's ``line`` index from :func:`attunement.datafile.read_table`, else the 1-based row), column,
value and the allowed answers. With ``invalid="missing"`` they count as unanswered instead and
:func:`score_with_report` says how many there were.

Example::

    >>> import pandas as pd
    >>> from attunement.instruments import load_instrument, score
    >>> frame = pd.DataFrame({"pss4_1": [3, 1], "pss4_2": ["1", "very often"],
    ...                       "pss4_3": [0, 4], "pss4_4": [2, " 0 "]})
    >>> score(frame, load_instrument("pss4"))["pss4_total"].tolist()
    [12.0, 1.0]
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from attunement.errors import InvalidInputError, Problem
from attunement.instruments.loader import load_instrument
from attunement.instruments.schema import Instrument, ResponseScale

__all__ = [
    "InvalidPolicy",
    "ScoreResult",
    "keyed_items",
    "score",
    "score_record",
    "score_with_report",
]

InvalidPolicy = Literal["raise", "missing"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score_with_report` returns.

    ``scores`` is the scored table (as :func:`score` returns it); ``invalid_count`` the number of
    invalid answers that were treated as missing (always 0 with ``invalid="raise"``);
    ``problems`` describes each of them.
    """

    scores: pd.DataFrame
    invalid_count: int
    problems: tuple[Problem, ...]


def score(
    frame: pd.DataFrame,
    instrument: Instrument | str,
    *,
    mapping: Mapping[str, str] | None = None,
    invalid: InvalidPolicy = "raise",
) -> pd.DataFrame:
    """Score ``frame`` with ``instrument``; return it with the score columns added.

    See the module documentation for the rules and the output columns.
    """
    return score_with_report(frame, instrument, mapping=mapping, invalid=invalid).scores


def score_with_report(
    frame: pd.DataFrame,
    instrument: Instrument | str,
    *,
    mapping: Mapping[str, str] | None = None,
    invalid: InvalidPolicy = "raise",
) -> ScoreResult:
    """Like :func:`score`, also reporting the invalid answers treated as missing."""
    inst = _instrument(instrument)
    keyed, problems = _keyed_matrix(frame, inst, mapping, invalid)
    out = frame.copy(deep=False)
    for name in _score_names(inst):
        out[f"{inst.id}_{name}"] = _scale_score(keyed, inst, name)
    if inst.bands is not None:
        out[f"{inst.id}_band"] = _bands(out[f"{inst.id}_{inst.bands.score}"].to_numpy(), inst)
    return ScoreResult(scores=out, invalid_count=len(problems), problems=tuple(problems))


def keyed_items(
    frame: pd.DataFrame,
    instrument: Instrument | str,
    *,
    mapping: Mapping[str, str] | None = None,
    invalid: InvalidPolicy = "raise",
) -> pd.DataFrame:
    """The numeric item matrix with reverse keys applied (float, NaN = missing).

    Columns are ``<id>_1`` ... ``<id>_<k>`` whatever the input names were; the index is the
    frame's. This is the input reliability statistics expect.
    """
    inst = _instrument(instrument)
    keyed, _problems = _keyed_matrix(frame, inst, mapping, invalid)
    return pd.DataFrame(keyed, index=frame.index, columns=list(inst.columns))


def score_record(
    instrument: Instrument | str,
    responses: Mapping[int, object] | Mapping[str, object] | Mapping[int | str, object],
) -> dict[str, float | str | None]:
    """Score ONE respondent's answers in plain Python (no DataFrame): for a single record this
    is about a hundred times faster than :func:`score` and gives exactly its results.

    ``responses`` maps an item, by number (``1``) or column name (``"eis_1"``), to its answer
    (a number, a numeric string or an anchor label; ``None``/NaN or a missing key is
    unanswered). Returns ``{"<id>_total": ..., "<id>_<subscale>": ..., "<id>_band": ...}`` for
    the scores the instrument has, a float (or the band's label), ``None`` when missing.
    The rules are the module's. Keys that are not items, and invalid answers, raise
    :class:`~attunement.errors.InvalidInputError` listing each (column, value, allowed answers).
    """
    inst = _instrument(instrument)
    scale = inst.scale
    columns = inst.columns
    by_column = {column: number for number, column in enumerate(columns, start=1)}
    given: dict[int, object] = {}
    key_problems: list[Problem] = []
    for key, raw in responses.items():
        number = by_column.get(key) if isinstance(key, str) else None
        if isinstance(key, int) and not isinstance(key, bool) and 1 <= key <= len(columns):
            number = key
        if number is None:
            key_problems.append(
                Problem("no such item", column=str(key), allowed=", ".join(columns))
            )
        elif number in given:
            key_problems.append(Problem("item given twice", column=columns[number - 1]))
        else:
            given[number] = raw
    if key_problems:
        raise InvalidInputError(
            f"Some answers are not items of {inst.short_name}.",
            hint=f"Name items by number (1 ... {len(columns)}) or column "
            f"({columns[0]} ... {columns[-1]}).",
            problems=key_problems,
        )
    labels = _labels(scale)
    keyed: list[float] = []
    problems: list[Problem] = []
    reverse = set(inst.reverse_items)
    for number, column in enumerate(columns, start=1):
        raw = given.get(number)
        value = _parse_cell(raw, labels)
        if value is None or not (
            math.isnan(value) or (scale.min <= value <= scale.max and value == math.floor(value))
        ):
            problems.append(
                Problem(
                    _reason(raw, scale, labels),
                    column=column,
                    value=_plain(raw),
                    allowed=scale.describe_allowed(),
                )
            )
            continue
        keyed.append((scale.min + scale.max) - value if number in reverse else value)
    if problems:
        count = len(problems)
        raise InvalidInputError(
            f"{count} answer{'s' if count != 1 else ''} cannot be scored as "
            f"{inst.short_name}: out of range, not a whole number, or an unknown label.",
            hint="Correct the listed answers.",
            problems=problems,
        )
    out: dict[str, float | str | None] = {}
    for name in _score_names(inst):
        out[f"{inst.id}_{name}"] = _record_scale_score(keyed, inst, name)
    if inst.bands is not None:
        banded = out[f"{inst.id}_{inst.bands.score}"]
        out[f"{inst.id}_band"] = None if banded is None else _record_band(float(banded), inst)
    return out


def _parse_cell(raw: object, labels: Mapping[str, float]) -> float | None:
    """One answer as :func:`_parse_column` reads it: NaN when missing, None when unknown."""
    if raw is None or (pd.api.types.is_scalar(raw) and bool(pd.isna(cast(Any, raw)))):
        return math.nan
    number, unknown = _parse_value(raw, labels)
    return None if unknown else number


def _record_scale_score(keyed: list[float], inst: Instrument, name: str) -> float | None:
    """:func:`_scale_score` for one record (the same float operations, in the same order)."""
    numbers = inst.scale_items(name)
    k = len(numbers)
    answered = [keyed[n - 1] for n in numbers if not math.isnan(keyed[n - 1])]
    if len(answered) < inst.scoring.required_answers(k):
        return None
    total = math.fsum(answered)
    if inst.scale_method(name) == "sum":
        return total if len(answered) == k else (total / len(answered)) * k
    return total / len(answered)


def _record_band(value: float, inst: Instrument) -> str:
    bands = inst.bands
    if bands is None:  # pragma: no cover - callers check
        raise ValueError("instrument has no bands")
    lower = [band.min for band in bands.ranges]
    index = min(max(bisect.bisect_right(lower, value) - 1, 0), len(lower) - 1)
    return bands.ranges[index].label


def _labels(scale: ResponseScale) -> dict[str, float]:
    return {a.label.strip().casefold(): float(a.value) for a in scale.anchors}


# -- reading the answers ---------------------------------------------------------------------


def _instrument(instrument: Instrument | str) -> Instrument:
    return load_instrument(instrument) if isinstance(instrument, str) else instrument


def _keyed_matrix(
    frame: pd.DataFrame,
    inst: Instrument,
    mapping: Mapping[str, str] | None,
    invalid: str,
) -> tuple[FloatArray, list[Problem]]:
    if invalid not in ("raise", "missing"):
        raise InvalidInputError(
            f"invalid={invalid!r} is not an option.", hint="Use 'raise' or 'missing'."
        )
    sources = _source_columns(frame, inst, mapping)
    scale = inst.scale
    labels = _labels(scale)
    values = np.empty((len(frame), len(sources)), dtype=np.float64)
    bad_cells: list[tuple[int, int]] = []
    for j, source in enumerate(sources):
        column, bad = _parse_column(frame[source], scale, labels)
        values[:, j] = column
        if bad.any():
            values[bad, j] = np.nan
            bad_cells.extend((int(i), j) for i in np.flatnonzero(bad))
    problems = _describe_cells(frame, sources, bad_cells, scale, labels)
    if problems and invalid == "raise":
        count = len(problems)
        raise InvalidInputError(
            f"{count} answer{'s' if count != 1 else ''} cannot be scored as "
            f"{inst.short_name}: out of range, not a whole number, or an unknown label.",
            hint="Correct the listed cells, or score with the option that treats invalid "
            "answers as missing (--invalid-as-missing).",
            problems=problems,
        )
    for number in inst.reverse_items:
        values[:, number - 1] = (scale.min + scale.max) - values[:, number - 1]
    return values, problems


def _source_columns(
    frame: pd.DataFrame, inst: Instrument, mapping: Mapping[str, str] | None
) -> list[str]:
    """The frame column holding each item, in item order; all column problems at once."""
    problems: list[Problem] = []
    targets = set(inst.columns)
    chosen: dict[str, str] = {}
    attempted = set((mapping or {}).values())
    for source, target in (mapping or {}).items():
        if target not in targets:
            problems.append(
                Problem(
                    "mapping target is not an item of this instrument",
                    column=target,
                    allowed=", ".join(inst.columns),
                )
            )
        elif target in chosen:
            problems.append(
                Problem(f"two columns are mapped to this item ({chosen[target]!r})", column=target)
            )
        elif source not in frame.columns:
            problems.append(Problem("mapped column is not in the table", column=source))
        else:
            chosen[target] = source
    sources = [chosen.get(column, column) for column in inst.columns]
    for column, source in zip(inst.columns, sources, strict=True):
        if column in attempted:
            continue
        if source not in frame.columns:
            problems.append(Problem("missing item column", column=column))
    duplicated = set(frame.columns[frame.columns.duplicated()])
    problems.extend(
        Problem("column appears more than once", column=s) for s in sources if s in duplicated
    )
    if problems:
        raise InvalidInputError(
            f"The table does not have the {inst.short_name} item columns it needs.",
            hint=f"Name the item columns {inst.columns[0]} ... {inst.columns[-1]}, or map your "
            f"column names to them (--map yourname={inst.columns[0]}).",
            problems=problems,
        )
    return sources


def _parse_column(
    series: pd.Series[Any], scale: ResponseScale, labels: Mapping[str, float]
) -> tuple[FloatArray, BoolArray]:
    """Numbers for one item column and a mask of invalid cells (missing cells are NaN)."""
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.zeros(len(values), dtype=np.bool_)
    else:  # text, categories or mixed: parse each distinct value once
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        parsed = np.empty(len(uniques) + 1, dtype=np.float64)
        unknown = np.zeros(len(uniques) + 1, dtype=np.bool_)
        for k, raw in enumerate(uniques):
            parsed[k], unknown[k] = _parse_value(raw, labels)
        parsed[-1] = np.nan  # code -1: missing
        values = parsed[codes]
        bad = unknown[codes]
    answered = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        out_of_scale = (values < scale.min) | (values > scale.max) | (values != np.floor(values))
    return values, bad | (answered & out_of_scale)


def _parse_value(raw: object, labels: Mapping[str, float]) -> tuple[float, bool]:
    """(number, unknown?) for one distinct cell value; NaN without ``unknown`` is missing."""
    if isinstance(raw, bool | np.bool_):
        return math.nan, True
    if isinstance(raw, Real):
        return float(raw), False
    text = str(raw).strip()
    if not text:
        return math.nan, False
    try:
        number = float(text)
    except ValueError:
        label = labels.get(text.casefold())
        return (label, False) if label is not None else (math.nan, True)
    return number, False  # "nan" is missing; "inf" is caught by the range check


def _describe_cells(
    frame: pd.DataFrame,
    sources: list[str],
    cells: list[tuple[int, int]],
    scale: ResponseScale,
    labels: Mapping[str, float],
) -> list[Problem]:
    if not cells:
        return []
    by_line = frame.index.name == "line"
    allowed = scale.describe_allowed()
    problems = []
    for row, j in sorted(cells):
        raw = frame[sources[j]].iloc[row]
        line = int(frame.index[row]) if by_line else row + 1
        problems.append(
            Problem(
                _reason(raw, scale, labels),
                line=line,
                column=sources[j],
                value=_plain(raw),
                allowed=allowed,
            )
        )
    return problems


def _reason(raw: object, scale: ResponseScale, labels: Mapping[str, float]) -> str:
    number, unknown = _parse_value(raw, labels)
    if unknown:
        return "not a number or a label of the scale"
    if not scale.min <= number <= scale.max:
        return f"outside the scale {scale.min} to {scale.max}"
    return "not a whole number"


def _plain(raw: object) -> object:
    """A JSON-friendly form of a cell value for the problem list."""
    if isinstance(raw, np.generic):
        return raw.item()
    return raw


# -- scores ----------------------------------------------------------------------------------


def _score_names(inst: Instrument) -> list[str]:
    names = ["total"] if inst.scoring.total else []
    return names + [sub.id for sub in inst.scoring.subscales]


def _scale_score(keyed: FloatArray, inst: Instrument, name: str) -> FloatArray:
    """Prorated sum or mean of one scale's items (see the module documentation)."""
    columns = [number - 1 for number in inst.scale_items(name)]
    k = len(columns)
    block = keyed[:, columns]
    answered = np.count_nonzero(~np.isnan(block), axis=1)
    total = np.nansum(block, axis=1)
    mean = np.divide(total, answered, out=np.full(len(block), np.nan), where=answered > 0)
    is_sum = inst.scale_method(name) == "sum"
    result = np.where(answered == k, total, mean * k) if is_sum else mean
    return np.where(answered >= inst.scoring.required_answers(k), result, np.nan)


def _bands(scores: npt.NDArray[Any], inst: Instrument) -> pd.Categorical[str]:
    bands = inst.bands
    if bands is None:  # pragma: no cover - callers check
        raise ValueError("instrument has no bands")
    values = np.asarray(scores, dtype=np.float64)
    lower = np.array([band.min for band in bands.ranges], dtype=np.float64)
    codes = np.searchsorted(lower, values, side="right") - 1
    codes = np.where(np.isnan(values), -1, np.clip(codes, 0, len(lower) - 1))
    labels = [band.label for band in bands.ranges]
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels), ordered=True)
