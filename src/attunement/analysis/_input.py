"""Checks shared by the process, dyadic and outcome analyses: columns present, numeric, complete.

Every check lists all offending places (line of the file and column) in one
:class:`~attunement.errors.InvalidInputError`, so a person fixes the file once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from attunement.errors import InvalidInputError, Problem

__all__ = ["Prepared", "complete_rows", "require_columns", "require_numeric"]

_MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Prepared:
    """A frame limited to complete rows, and how many rows were dropped for missing values."""

    frame: pd.DataFrame
    n_dropped: int
    n_total: int

    def message(self) -> str | None:
        if self.n_dropped == 0:
            return None
        return (
            f"{self.n_dropped} of {self.n_total} rows had a missing value in a model column "
            "and were left out (listwise deletion)."
        )


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    """Raise if any of ``columns`` is not in ``frame``, naming the columns that are."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(f"The {what} needs a table (a pandas DataFrame).")
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, frame.columns[:30]))
        raise InvalidInputError(
            f"The {what} needs column(s) that the data do not have: {', '.join(missing)}.",
            hint=f"The data have: {shown}. Name the columns with the options of the analysis.",
            problems=[Problem("column not found", column=c) for c in missing],
        )


def require_numeric(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` as float; text that is not a number is an error.

    Empty cells stay missing (NaN). True/false columns are read as 1/0.
    """
    out = frame.copy()
    has_lines = frame.index.name == "line"
    problems: list[Problem] = []
    for column in dict.fromkeys(columns):
        raw = out[column]
        if pd.api.types.is_bool_dtype(raw):
            out[column] = raw.astype(float)
            continue
        values = pd.to_numeric(raw, errors="coerce")
        text_blank = raw.astype("string").str.strip().eq("").fillna(False)
        bad = values.isna() & raw.notna() & ~text_blank
        for line, value in raw[bad].items():
            problems.append(
                Problem(
                    "not a number",
                    line=_line(line) if has_lines else None,
                    column=column,
                    value=str(value),
                )
            )
        out[column] = values.astype(float)
        infinite = np.isinf(out[column].to_numpy())
        for line in out.index[infinite]:
            problems.append(
                Problem("infinite value", line=_line(line) if has_lines else None, column=column)
            )
    if problems:
        raise InvalidInputError(
            f"{len(problems)} value(s) in the model columns are not numbers.",
            hint="Fix or empty these cells (an empty cell counts as missing).",
            problems=problems[:_MAX_PROBLEMS],
        )
    return out


def complete_rows(frame: pd.DataFrame, columns: Sequence[str]) -> Prepared:
    """Keep the rows with a value in every one of ``columns`` (listwise deletion)."""
    keep = frame[list(dict.fromkeys(columns))].notna().all(axis=1)
    return Prepared(frame.loc[keep].copy(), int((~keep).sum()), len(frame))


def _line(label: object) -> int | None:
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return int(label)
    return None
