"""What a relationship's records say, in the terms of the process model, and what to try next.

Input is tidy and long: one row per interaction record (``interactions``: ``person``,
``occurred_at``, ``self_disclosure``, ``partner_disclosure``, ``responsiveness``,
``intimacy``, each rating 1-7 as the ``interaction`` instrument scores them) and one row per
EIS check-in (``checkins``: ``person``, ``taken_at``, ``eis_total``, 5-25).

- :func:`process_summary`: per person, the number of records and the mean of each part of the
  process (Reis & Shaver, 1988; Laurenceau, Barrett & Pietromonaco, 1998).
- :func:`disclosure_balance`: how evenly the sharing goes, seen from one person's records:
  ``balance = 1 - |mean self-disclosure - mean partner disclosure| / 6`` (1 = even; the 6 is
  the width of the 1-7 scale).
- :func:`eis_change`: the mean of the latest three EIS totals minus the mean of the three
  before them.
- :func:`suggest_practices`: rules that map these numbers to practices, each with the reason
  (the person's own numbers) and the evidence behind the practice.

The cut-offs (a mean below 4.5 for "low", a balance below .85 for "uneven", a drop of 2 EIS
points for "falling", at least 3 records before saying anything) are attunement's own
conventions for when a suggestion is worth showing. They are not validated thresholds, and the
pages say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from attunement.errors import InvalidInputError, Problem
from attunement.practices.catalog import LAURENCEAU_1998, REIS_SHAVER_1988, Evidence, get_practice

__all__ = [
    "LOW_MEAN",
    "MIN_RECORDS",
    "PROCESS_COLUMNS",
    "UNEVEN_BALANCE",
    "Balance",
    "Suggestion",
    "disclosure_balance",
    "eis_change",
    "process_summary",
    "suggest_practices",
]

PROCESS_COLUMNS = ("self_disclosure", "partner_disclosure", "responsiveness", "intimacy")
MIN_RECORDS = 3
LOW_MEAN = 4.5
UNEVEN_BALANCE = 0.85
EIS_DROP = 2.0
SCALE_WIDTH = 6.0


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{name} lacks columns",
            problems=[Problem("missing column", column=c) for c in missing],
        )


def process_summary(interactions: pd.DataFrame) -> pd.DataFrame:
    """Per person: ``records`` and the mean of each process part (NaN where never answered).

    Columns: ``person``, ``records``, ``self_disclosure``, ``partner_disclosure``,
    ``responsiveness``, ``intimacy``.
    """
    _require(interactions, ("person", *PROCESS_COLUMNS), "interactions")
    if interactions.empty:
        return pd.DataFrame(columns=["person", "records", *PROCESS_COLUMNS])
    values = interactions[["person", *PROCESS_COLUMNS]].copy()
    for column in PROCESS_COLUMNS:
        values[column] = pd.to_numeric(values[column], errors="coerce").astype("float64")
    grouped = values.groupby("person", sort=True)
    summary = grouped[list(PROCESS_COLUMNS)].mean()
    summary.insert(0, "records", grouped.size())
    return summary.reset_index()


@dataclass(frozen=True)
class Balance:
    """How evenly sharing goes in one person's records (``None`` when there is too little)."""

    value: float | None
    label: str
    leaning: str  # "even", "you_share_more", "they_share_more", "unknown"
    self_disclosure: float | None
    partner_disclosure: float | None


def disclosure_balance(summary_row: pd.Series | None) -> Balance:
    """The balance of one person's row of :func:`process_summary`."""
    if summary_row is None or int(summary_row.get("records", 0)) < MIN_RECORDS:
        return Balance(None, "not enough records yet", "unknown", None, None)
    own, other = summary_row["self_disclosure"], summary_row["partner_disclosure"]
    if pd.isna(own) or pd.isna(other):
        return Balance(None, "not enough records yet", "unknown", None, None)
    value = 1 - abs(float(own) - float(other)) / SCALE_WIDTH
    if value >= UNEVEN_BALANCE:
        label, leaning = "balanced", "even"
    else:
        label = "somewhat one-sided" if value >= 0.7 else "one-sided"
        leaning = "you_share_more" if own > other else "they_share_more"
    return Balance(value, label, leaning, float(own), float(other))


def eis_change(checkins: pd.DataFrame, person: object) -> float | None:
    """Mean of a person's latest 3 EIS totals minus the mean of the 3 before (None if < 6)."""
    _require(checkins, ("person", "taken_at", "eis_total"), "checkins")
    own = checkins[checkins["person"] == person].sort_values("taken_at")
    totals = pd.to_numeric(own["eis_total"], errors="coerce").dropna().to_numpy(dtype=float)
    if len(totals) < 6:
        return None
    return float(totals[-3:].mean() - totals[-6:-3].mean())


@dataclass(frozen=True)
class Suggestion:
    """A practice worth trying now, why (from the person's own records) and the evidence."""

    practice_id: str
    title: str
    reason: str
    evidence: tuple[Evidence, ...]


def _suggest(practice_id: str, reason: str, *extra: Evidence) -> Suggestion:
    practice = get_practice(practice_id)
    evidence = tuple(dict.fromkeys((*extra, *practice.evidence)))
    return Suggestion(practice_id, practice.name, reason, evidence)


def suggest_practices(
    mine: pd.Series | None,
    theirs: pd.Series | None,
    *,
    partner_name: str,
    eis_drop: float | None = None,
) -> list[Suggestion]:
    """Practices to try, most pressing first, from the reader's summary row (``mine``), the
    partner's shared summary row (``theirs``, None when not shared) and :func:`eis_change`."""
    if mine is None or int(mine.get("records", 0)) < MIN_RECORDS:
        return []
    found: list[Suggestion] = []
    if not pd.isna(mine["responsiveness"]) and mine["responsiveness"] < LOW_MEAN:
        found.append(
            _suggest(
                "active_listening",
                f"In your records you felt understood, validated and cared for at "
                f"{mine['responsiveness']:.1f} of 7 on average. Responsiveness is what turns "
                f"sharing into closeness; try the listening practice together, and tell "
                f"{partner_name} what helps you feel heard.",
                REIS_SHAVER_1988,
                LAURENCEAU_1998,
            )
        )
    if theirs is not None and int(theirs.get("records", 0)) >= MIN_RECORDS:
        value = theirs["responsiveness"]
        if not pd.isna(value) and value < LOW_MEAN:
            found.append(
                _suggest(
                    "active_listening",
                    f"In the records {partner_name} shared, they felt understood at "
                    f"{value:.1f} of 7 on average. When they share something, say back what "
                    f"you heard before offering advice.",
                    REIS_SHAVER_1988,
                )
            )
    balance = disclosure_balance(mine)
    if balance.value is not None and balance.value < UNEVEN_BALANCE:
        who = (
            "you share more"
            if balance.leaning == "you_share_more"
            else (f"{partner_name} shares more")
        )
        found.append(
            _suggest(
                "check_in",
                f"Sharing looks {balance.label} in your records ({who}: "
                f"{balance.self_disclosure:.1f} vs {balance.partner_disclosure:.1f} of 7). A "
                f"routine check-in where each of you takes a turn evens it out.",
                LAURENCEAU_1998,
            )
        )
    elif not pd.isna(mine["self_disclosure"]) and mine["self_disclosure"] < LOW_MEAN:
        found.append(
            _suggest(
                "check_in",
                f"You shared about yourself at {mine['self_disclosure']:.1f} of 7 on average. "
                f"Sharing feelings, not only facts, was the part most tied to intimacy.",
                LAURENCEAU_1998,
            )
        )
    if eis_drop is not None and eis_drop <= -EIS_DROP:
        found.append(
            _suggest(
                "raise_early",
                f"Your Emotional Intimacy Scale total fell by {-eis_drop:.1f} points (latest "
                f"three check-ins against the three before). If something is bothering you, "
                f"raising it early and gently helps.",
            )
        )
    if not found and not pd.isna(mine["intimacy"]) and mine["intimacy"] >= LOW_MEAN:
        found.append(
            _suggest(
                "appreciation",
                f"Your interactions felt close ({mine['intimacy']:.1f} of 7 on average). Saying "
                f"what you appreciate keeps it that way.",
            )
        )
    unique: dict[str, Suggestion] = {}
    for suggestion in found:
        if suggestion.practice_id in unique:
            first = unique[suggestion.practice_id]
            reason = f"{first.reason} {suggestion.reason}"
            evidence = tuple(dict.fromkeys((*first.evidence, *suggestion.evidence)))
            unique[suggestion.practice_id] = Suggestion(
                first.practice_id, first.title, reason, evidence
            )
        else:
            unique[suggestion.practice_id] = suggestion
    return list(unique.values())
