"""Turning a DataFrame of item answers into a clean numeric matrix, once, for every statistic.

The reliability statistics work on complete rows (listwise deletion): a respondent with any
missing item is left out of every number, so alpha, the item statistics and omega of one call
describe the same people. The count of rows used and left out is reported with the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from attunement.errors import InvalidInputError, Problem

__all__ = ["ItemCovariance", "ItemMatrix", "covariance", "item_covariance", "item_matrix"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ItemMatrix:
    """Complete rows of an item table as floats, with the bookkeeping the results report."""

    values: FloatArray
    columns: tuple[str, ...]
    n_excluded: int

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def k(self) -> int:
        return int(self.values.shape[1])


@dataclass(frozen=True, slots=True)
class ItemCovariance:
    """What the reliability statistics need from complete rows: means, covariances, counts."""

    covariance: FloatArray
    means: FloatArray
    columns: tuple[str, ...]
    n: int
    n_excluded: int

    @property
    def k(self) -> int:
        return len(self.columns)


# Above this ratio of squared mean to variance, the one-pass formula X'X - n m m' loses too
# many digits to cancellation and the covariance is recomputed from centred values.
_CANCELLATION_LIMIT = 1e4


def item_covariance(
    items: pd.DataFrame, *, min_items: int = 2, min_rows: int = 2
) -> ItemCovariance:
    """Means and sample covariance matrix of the complete rows of ``items``.

    Fast path, for numeric tables without missing values: one dot product per pair of columns
    on the (contiguous) columns, no copy of the data. Any NaN or infinity shows up as a
    non-finite sum, and the table then goes through :func:`item_matrix` (validation and
    listwise deletion) instead.
    """
    if isinstance(items, pd.DataFrame) and _all_numeric(items) and len(items) >= min_rows:
        columns = _checked_columns(items, min_items)
        values = np.asfortranarray(items.to_numpy(dtype=np.float64, na_value=np.nan))
        n, k = values.shape
        sums = np.array([values[:, j].sum() for j in range(k)])
        if np.isfinite(sums).all():
            products = np.empty((k, k))
            # One BLAS thread: the dot products are memory-bound, and on a busy machine
            # threaded BLAS stalls (measured: median 527 ms threaded, 92 ms single, 15 dots).
            with threadpool_limits(limits=1, user_api="blas"):
                for i in range(k):
                    for j in range(i, k):
                        products[i, j] = products[j, i] = np.dot(values[:, i], values[:, j])
            means = sums / n
            cov = (products - n * np.outer(means, means)) / (n - 1)
            variances = np.diag(cov)
            if (
                np.isfinite(cov).all()
                and (means**2 <= _CANCELLATION_LIMIT * np.maximum(variances, 0)).all()
            ):
                return ItemCovariance(cov, means, columns, n, 0)
    matrix = item_matrix(items, min_items=min_items, min_rows=min_rows)
    return ItemCovariance(
        covariance(matrix), matrix.values.mean(axis=0), matrix.columns, matrix.n, matrix.n_excluded
    )


def item_matrix(items: pd.DataFrame, *, min_items: int = 2, min_rows: int = 2) -> ItemMatrix:
    """Validate ``items`` (one column per item, one row per respondent) and drop incomplete rows.

    Raises :class:`InvalidInputError` listing every non-numeric or infinite cell, or when fewer
    than ``min_items`` columns or ``min_rows`` complete rows remain.
    """
    if not isinstance(items, pd.DataFrame):
        raise InvalidInputError(
            f"Items must be a pandas DataFrame, got {type(items).__name__}.",
            hint="Pass one column per item and one row per respondent.",
        )
    columns = _checked_columns(items, min_items)
    values = _numeric_values(items, columns)
    complete = ~np.isnan(values).any(axis=1)
    n_complete = int(complete.sum())
    if n_complete < values.shape[0]:
        values = np.ascontiguousarray(values[complete])
    if n_complete < min_rows:
        raise InvalidInputError(
            f"Reliability needs at least {min_rows} respondents who answered every item; "
            f"{n_complete} of {len(items)} rows are complete.",
            hint="Rows with any missing item are left out (listwise deletion).",
        )
    return ItemMatrix(values=values, columns=columns, n_excluded=len(items) - n_complete)


def covariance(matrix: ItemMatrix) -> FloatArray:
    """Sample covariance matrix (denominator n - 1) of the complete rows."""
    values = matrix.values
    centred = values - values.mean(axis=0)
    result: FloatArray = (centred.T @ centred) / (values.shape[0] - 1)
    return result


def _checked_columns(items: pd.DataFrame, min_items: int) -> tuple[str, ...]:
    columns = tuple(str(c) for c in items.columns)
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise InvalidInputError(
            "Item columns must have distinct names.",
            problems=[Problem("column appears more than once", column=c) for c in duplicated],
        )
    if len(columns) < min_items:
        raise InvalidInputError(
            f"Reliability needs at least {min_items} items; got {len(columns)}.",
            hint="Pass a table with one column per item of the scale.",
        )
    return columns


def _all_numeric(items: pd.DataFrame) -> bool:
    return all(pd.api.types.is_numeric_dtype(dtype) for dtype in items.dtypes)


def _numeric_values(items: pd.DataFrame, columns: tuple[str, ...]) -> FloatArray:
    if _all_numeric(items):
        values = items.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values)
    else:
        converted = {
            name: pd.to_numeric(items.iloc[:, position], errors="coerce")
            for position, name in enumerate(columns)
        }
        values = pd.DataFrame(converted).to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values) | (np.isnan(values) & ~items.isna().to_numpy())
    if bad.any():
        rows, cols = np.nonzero(bad)
        problems = [
            Problem(
                "not a number",
                line=_line(items, int(r)),
                column=columns[int(c)],
                value=items.iat[int(r), int(c)],
                allowed="numbers (a blank cell counts as missing)",
            )
            for r, c in zip(rows, cols, strict=True)
        ]
        raise InvalidInputError(
            f"{len(problems)} item cell(s) are not finite numbers.",
            hint="Score or reverse-key the answers first (attunement.instruments.keyed_items).",
            problems=problems,
        )
    return values


def _line(items: pd.DataFrame, position: int) -> int:
    if items.index.name == "line":
        return int(items.index[position])
    return position + 1
