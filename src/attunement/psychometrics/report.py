"""Everything about one scale's reliability in one call: alpha, omega and the item table.

:func:`scale_reliability` is what ``attunement reliability`` prints. All statistics use the
same complete rows (listwise deletion), so the numbers describe the same respondents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from attunement.psychometrics._item_matrix import item_covariance
from attunement.psychometrics.alpha import cronbach_alpha, item_statistics
from attunement.psychometrics.omega import OMEGA_COLUMNS, factor_loadings, omega_total

__all__ = ["ScaleReliability", "scale_reliability"]

_OMEGA_ONLY = [c for c in OMEGA_COLUMNS if c not in ("n", "n_excluded", "k")]


@dataclass(frozen=True)
class ScaleReliability:
    """The reliability of one scale.

    ``summary``: one row, the columns of :data:`ALPHA_COLUMNS` followed by those of
    :data:`OMEGA_COLUMNS` (without repeating ``n``, ``n_excluded``, ``k``), plus ``ci_level``.
    ``items``: one row per item, the columns of :data:`ITEM_STATISTICS_COLUMNS` plus
    ``loading`` (one-factor minres). ``notes``: plain sentences about what could not be
    computed (omega needs three items that vary).
    """

    summary: pd.DataFrame
    items: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"summary": {...}, "items": [{...}, ...], "notes": [...]}``."""
        return {
            "summary": {k: _plain(v) for k, v in self.summary.iloc[0].items()},
            "items": [
                {str(k): _plain(v) for k, v in row.items()}
                for row in self.items.to_dict(orient="records")
            ],
            "notes": list(self.notes),
        }

    def to_long(self) -> pd.DataFrame:
        """Tidy long form: ``item`` (empty for scale statistics), ``statistic``, ``value``."""
        scale = self.summary.iloc[0]
        rows: list[dict[str, Any]] = [
            {"item": "", "statistic": name, "value": _plain(value)} for name, value in scale.items()
        ]
        for record in self.items.to_dict(orient="records"):
            name = str(record["item"])
            rows.extend(
                {"item": name, "statistic": str(k), "value": _plain(v)}
                for k, v in record.items()
                if k != "item"
            )
        return pd.DataFrame(rows, columns=["item", "statistic", "value"])


def scale_reliability(items: pd.DataFrame, *, ci: float = 0.95) -> ScaleReliability:
    """Alpha with Feldt's interval, omega total and the item table of one scale.

    ``items``: one numeric, reverse-keyed column per item, one row per respondent (for an
    instrument of the bank, :func:`attunement.instruments.keyed_items` gives exactly this).
    """
    alpha = cronbach_alpha(items, ci=ci)
    stats = item_statistics(items)
    notes: list[str] = []
    moments = item_covariance(items)
    varies = bool((np.diag(moments.covariance) > 0).all())
    if moments.k >= 3 and varies:
        omega = omega_total(items)[_OMEGA_ONLY]
        stats["loading"] = factor_loadings(items)["loading"].to_numpy()
        if bool(omega["heywood"].iloc[0]):
            notes.append(
                "Heywood case: a uniqueness reached its lower bound (0.005); the one-factor "
                "model does not fit well and omega should be read with care."
            )
    else:
        omega = pd.DataFrame({c: [np.nan] for c in _OMEGA_ONLY})
        stats["loading"] = np.nan
        notes.append(
            "Omega needs at least three items that vary; it was not computed."
            if moments.k >= 3
            else "Omega needs at least three items; it was not computed for this scale."
        )
    summary = pd.concat([alpha, omega], axis=1)
    summary.insert(3, "ci_level", ci)
    return ScaleReliability(summary=summary, items=stats, notes=tuple(notes))


def _plain(value: Any) -> Any:
    """A JSON-friendly Python value: NaN becomes None, numpy scalars become Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
