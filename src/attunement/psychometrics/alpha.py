"""Cronbach's alpha with a confidence interval, and the classical item statistics.

Formulas, on the sample covariance matrix C (k items, n complete respondents):

- alpha = k / (k - 1) * (1 - tr(C) / 1'C1)  (Cronbach, 1951).
- Feldt's interval (Feldt, 1965; Feldt, Woodruff & Salih, 1987): (1 - alpha_hat) / (1 - alpha)
  follows an F distribution with n - 1 and (n - 1)(k - 1) degrees of freedom, so the
  100(1 - g)% interval is [1 - (1 - alpha_hat) F(1 - g/2), 1 - (1 - alpha_hat) F(g/2)].
  This is the interval ``psych::alpha.ci`` computes (psych::alpha's "Feldt" line).
- ase: the asymptotic standard error of Duhachek & Iacobucci (2004) as psych::alpha reports it,
  sqrt(Q / n) with Q = 2k^2 / ((k-1)^2 (1'C1)^3) * (1'C1 (tr C^2 + (tr C)^2) - 2 tr C 1'C^2 1).
- std_alpha: alpha of the correlation matrix R, k / (k - 1) * (1 - k / 1'R1); average_r: the
  mean off-diagonal correlation.
- r_drop (corrected item-total correlation): the correlation of an item with the sum of the
  other items, (1'C_i - C_ii) / sqrt(C_ii * 1'C_(-i)1).
- alpha_if_deleted: alpha of the covariance matrix without the item.

Rows with a missing item are left out of everything (listwise deletion); ``n`` counts the rows
used and ``n_excluded`` the rows left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from attunement.errors import InvalidInputError
from attunement.psychometrics._item_matrix import FloatArray, item_covariance

__all__ = [
    "ALPHA_COLUMNS",
    "ITEM_STATISTICS_COLUMNS",
    "cronbach_alpha",
    "feldt_interval",
    "item_statistics",
]

ALPHA_COLUMNS = (
    "alpha",
    "ci_low",
    "ci_high",
    "ase",
    "std_alpha",
    "average_r",
    "n",
    "n_excluded",
    "k",
)
ITEM_STATISTICS_COLUMNS = ("item", "mean", "sd", "r_total", "r_drop", "alpha_if_deleted")


def cronbach_alpha(items: pd.DataFrame, *, ci: float = 0.95) -> pd.DataFrame:
    """Cronbach's alpha of a scale, with Feldt's confidence interval.

    ``items`` holds one numeric column per item (already reverse-keyed) and one row per
    respondent; rows with any missing item are left out. Returns one row with the columns
    ``alpha``, ``ci_low``, ``ci_high`` (Feldt interval at level ``ci``), ``ase`` (Duhachek's
    asymptotic standard error), ``std_alpha``, ``average_r``, ``n`` (rows used),
    ``n_excluded`` (incomplete rows left out) and ``k`` (items).

    Formula: alpha = k / (k - 1) * (1 - sum of item variances / variance of the sum score)
    (Cronbach, 1951). Interval: Feldt (1965), Feldt, Woodruff & Salih (1987).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(float(cronbach_alpha(frame)["alpha"].iloc[0]), 4)
    0.9538
    """
    if not 0 < ci < 1:
        raise InvalidInputError(
            f"The confidence level must lie between 0 and 1; got {ci}.", hint="Use e.g. 0.95."
        )
    summary = item_covariance(items)
    cov = summary.covariance
    total = float(cov.sum())
    if not total > 0:
        raise InvalidInputError(
            "The sum score has no variance, so alpha is undefined.",
            hint="Every respondent has the same total; check the data.",
        )
    k, n = summary.k, summary.n
    alpha = _alpha(cov)
    ci_low, ci_high = feldt_interval(alpha, n=n, k=k, level=ci)
    std_alpha, average_r = _standardised(cov)
    row = [
        alpha,
        ci_low,
        ci_high,
        _duhachek_ase(cov, n),
        std_alpha,
        average_r,
        n,
        summary.n_excluded,
        k,
    ]
    return pd.DataFrame([row], columns=list(ALPHA_COLUMNS))


def item_statistics(items: pd.DataFrame) -> pd.DataFrame:
    """Per-item statistics of a scale: one row per item, in the order of the columns.

    Columns: ``item`` (column name), ``mean`` and ``sd`` (over the complete rows), ``r_total``
    (correlation of the item with the scale total, psych's ``raw.r``), ``r_drop`` (corrected
    item-total correlation: with the total of the other items) and ``alpha_if_deleted``.
    ``r_drop`` is NaN for an item without variance; ``alpha_if_deleted`` is NaN for a
    two-item scale (one item left has no alpha).
    """
    summary = item_covariance(items)
    cov = summary.covariance
    k = summary.k
    variances = np.diag(cov)
    row_sums = cov.sum(axis=0)
    total = float(cov.sum())
    rest_covariance = row_sums - variances
    rest_variance = total - 2 * row_sums + variances
    with np.errstate(divide="ignore", invalid="ignore"):
        r_drop = rest_covariance / np.sqrt(variances * rest_variance)
        r_total = row_sums / np.sqrt(variances * total)
    if k > 2:
        # alpha without item i: (k-1)/(k-2) * (1 - (tr C - C_ii) / (1'C1 - 2 * 1'C_i + C_ii))
        trace = float(np.trace(cov))
        with np.errstate(divide="ignore", invalid="ignore"):
            if_deleted = (k - 1) / (k - 2) * (1 - (trace - variances) / rest_variance)
    else:
        if_deleted = np.full(k, np.nan)
    return pd.DataFrame(
        {
            "item": list(summary.columns),
            "mean": summary.means,
            "sd": np.sqrt(variances),
            "r_total": r_total,
            "r_drop": r_drop,
            "alpha_if_deleted": if_deleted,
        },
        columns=list(ITEM_STATISTICS_COLUMNS),
    )


def feldt_interval(alpha: float, *, n: int, k: int, level: float) -> tuple[float, float]:
    """Feldt's (1965) F-based confidence interval for alpha from n respondents and k items."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - level) / 2
    # fdtri(d1, d2, p) is the p quantile of the F distribution (scipy.stats.f.ppf, without
    # its per-call overhead)
    low = 1 - (1 - alpha) * float(special.fdtri(df1, df2, 1 - tail))
    high = 1 - (1 - alpha) * float(special.fdtri(df1, df2, tail))
    return low, high


def _alpha(cov: FloatArray) -> float:
    k = cov.shape[0]
    return float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))


def _standardised(cov: FloatArray) -> tuple[float, float]:
    sd = np.sqrt(np.diag(cov))
    if not (sd > 0).all():
        return float("nan"), float("nan")
    corr = cov / np.outer(sd, sd)
    k = cov.shape[0]
    total = float(corr.sum())
    return k / (k - 1) * (1 - k / total), (total - k) / (k * (k - 1))


def _duhachek_ase(cov: FloatArray, n: int) -> float:
    k = cov.shape[0]
    total = float(cov.sum())
    trace = float(np.trace(cov))
    squared = cov @ cov
    q = (2 * k**2 / ((k - 1) ** 2 * total**3)) * (
        total * (float(np.trace(squared)) + trace**2) - 2 * trace * float(squared.sum())
    )
    return float(np.sqrt(max(q, 0.0) / n))  # q is 0 up to rounding for parallel items
