"""Emotional intimacy against the outcome scales: correlations with CIs, FDR-adjusted.

Sinclair & Dowdy (2005) report that EIS scores correlate positively with social support and life
satisfaction and negatively with perceived stress, pain and fatigue (directions from the
abstract; the sizes are not verified here [U]). :func:`outcome_correlations` estimates these
correlations in a person's own data.

For every pair (x, y), using the rows where both are present (pairwise) or the rows complete on
all named columns (``missing="listwise"``):

- **Pearson** r; t = r sqrt((n - 2) / (1 - r²)) on n - 2 df gives the two-sided p; the CI is
  Fisher's z: tanh(atanh(r) ± z_(1-α/2) / sqrt(n - 3)). Identical to R's ``cor.test``.
- **Spearman** ρ: Pearson's r of the ranks (ties get their average rank); p from the same t
  approximation (R's ``cor.test(method = "spearman", exact = FALSE)``); CI by Fisher's z with
  the standard error sqrt((1 + ρ²/2) / (n - 3)) of Bonett & Wright (2000, *Psychometrika* 65,
  23-28). R gives no CI for Spearman's ρ.
- **FDR**: p-values are adjusted by Benjamini & Hochberg (1995, *JRSS B* 57, 289-300) over all
  the pairs of one call (the family): p_fdr_(i) = min over j >= i of (m / j) p_(j), capped at 1
  (R's ``p.adjust(method = "BH")``). Pairs with fewer than 4 observations get no p-value and
  are left out of the family, as R's ``p.adjust`` leaves out missing p-values.

The output has the fixed columns ``x``, ``y``, ``method``, ``n``, ``r``, ``ci_low``,
``ci_high``, ``p_val``, ``p_fdr``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from attunement.analysis._input import require_columns, require_numeric
from attunement.errors import InvalidInputError, Problem

__all__ = [
    "OUTCOME_COLUMNS",
    "benjamini_hochberg",
    "correlation_test",
    "outcome_correlations",
]

#: Score columns of the outcome instruments, as :func:`attunement.instruments.score` names them.
OUTCOME_COLUMNS = (
    "swls_total",
    "pss10_total",
    "pss4_total",
    "mspss_total",
    "pain_total",
    "fatigue_total",
)

COLUMNS = ("x", "y", "method", "n", "r", "ci_low", "ci_high", "p_val", "p_fdr")


def outcome_correlations(
    frame: pd.DataFrame,
    x: str | Sequence[str] = "eis_total",
    y: str | Sequence[str] | None = None,
    *,
    method: Literal["pearson", "spearman"] = "pearson",
    confidence: float = 0.95,
    missing: Literal["pairwise", "listwise"] = "pairwise",
) -> pd.DataFrame:
    """Correlate each ``x`` column with each ``y`` column; one tidy row per pair.

    ``y`` defaults to the outcome score columns (:data:`OUTCOME_COLUMNS`) present in ``frame``.

    >>> import pandas as pd
    >>> data = pd.DataFrame({"eis_total": [10, 14, 18, 20, 25],
    ...                      "swls_total": [12, 20, 22, 30, 31]})
    >>> round(float(outcome_correlations(data)["r"].iloc[0]), 3)
    0.95
    """
    xs = [x] if isinstance(x, str) else list(x)
    if y is None:
        ys = [c for c in OUTCOME_COLUMNS if c in frame.columns]
        if not ys:
            raise InvalidInputError(
                "No outcome score columns found.",
                hint="Name the outcome columns (--y on the command line, y= in Python) or score "
                "the outcome scales first (attunement score swls FILE); "
                f"known names: {', '.join(OUTCOME_COLUMNS)}.",
            )
    else:
        ys = [y] if isinstance(y, str) else list(y)
    if not xs or not ys:
        raise InvalidInputError("Name at least one x and one y column to correlate.")
    if method not in ("pearson", "spearman"):
        raise InvalidInputError(f"method must be 'pearson' or 'spearman', not {method!r}.")
    if missing not in ("pairwise", "listwise"):
        raise InvalidInputError(f"missing must be 'pairwise' or 'listwise', not {missing!r}.")
    if not 0 < confidence < 1:
        raise InvalidInputError(f"confidence must lie between 0 and 1, not {confidence!r}.")
    columns = list(dict.fromkeys([*xs, *ys]))
    require_columns(frame, columns, what="correlation analysis")
    data = require_numeric(frame, columns)[columns]
    if missing == "listwise":
        data = data.dropna()
    constant = [c for c in columns if data[c].nunique(dropna=True) < 2]
    if constant:
        raise InvalidInputError(
            "A correlation needs variation, but these columns have one value (or none) "
            f"in every row: {', '.join(constant)}.",
            problems=[Problem("no variation", column=c) for c in constant],
        )
    rows = []
    for xc in xs:
        for yc in ys:
            if xc == yc:
                continue
            pair = data[[xc, yc]].dropna()
            result = correlation_test(
                pair[xc].to_numpy(), pair[yc].to_numpy(), method=method, confidence=confidence
            )
            rows.append({"x": xc, "y": yc, "method": method, **result})
    if not rows:
        raise InvalidInputError("x and y name the same column: nothing to correlate.")
    out = pd.DataFrame(rows)
    out["p_fdr"] = benjamini_hochberg(out["p_val"].to_numpy())
    return out[list(COLUMNS)]


def correlation_test(
    x: np.ndarray,
    y: np.ndarray,
    *,
    method: Literal["pearson", "spearman"] = "pearson",
    confidence: float = 0.95,
) -> dict[str, float | int]:
    """``n``, ``r``, ``ci_low``, ``ci_high``, ``p_val`` of one correlation (complete pairs).

    With n < 4 the CI and p-value are NaN (Fisher's z needs n > 3); with n < 2, r is NaN too.
    """
    n = len(x)
    nan = float("nan")
    if n < 2:
        return {"n": n, "r": nan, "ci_low": nan, "ci_high": nan, "p_val": nan}
    if method == "spearman":
        x = stats.rankdata(x)
        y = stats.rankdata(y)
    xc = x - x.mean()
    yc = y - y.mean()
    denominator = float(np.sqrt((xc @ xc) * (yc @ yc)))
    r = float(np.clip((xc @ yc) / denominator, -1.0, 1.0)) if denominator > 0 else nan
    if n < 4 or np.isnan(r):
        return {"n": n, "r": r, "ci_low": nan, "ci_high": nan, "p_val": nan}
    df = n - 2
    if abs(r) == 1.0:
        p_val = 0.0
    else:
        t = r * np.sqrt(df / (1 - r * r))
        p_val = float(2 * stats.t.sf(abs(t), df))
    se = 1 / np.sqrt(n - 3)
    if method == "spearman":
        se *= np.sqrt(1 + r * r / 2)
    z = np.arctanh(r) if abs(r) < 1 else np.sign(r) * np.inf
    crit = stats.norm.ppf(0.5 + confidence / 2)
    return {
        "n": n,
        "r": r,
        "ci_low": float(np.tanh(z - crit * se)),
        "ci_high": float(np.tanh(z + crit * se)),
        "p_val": p_val,
    }


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R's ``p.adjust(p, "BH")``); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    present = ~np.isnan(p)
    m = int(present.sum())
    if m == 0:
        return out
    values = p[present]
    order = np.argsort(values)[::-1]  # largest first
    ranks = np.arange(m, 0, -1)
    adjusted = np.minimum.accumulate(values[order] * m / ranks)
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[present] = result
    return out
