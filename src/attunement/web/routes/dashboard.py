"""The dashboard of one relationship: closeness over time, the intimacy process, what to try.

Everything shown goes through the store's access rules (``readable_measurements``,
``readable_interaction_means``, ``readable_interaction_points``): a person sees their own
records and what the others in the relationship chose to share, nothing else. The means are
computed by the database, so a page costs about the same with ten records or ten thousand;
the scatter plots show the newest :data:`CHART_POINTS`. The numbers are turned into
suggestions by :mod:`attunement.practices.suggestions` and drawn by
:mod:`attunement.reports.charts`.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse

from attunement.practices import disclosure_balance, eis_change, suggest_practices
from attunement.reports.charts import Series, scatter_chart, trend_chart
from attunement.store.access import (
    InteractionMeans,
    InteractionPoint,
    readable_interaction_means,
    readable_interaction_points,
    readable_measurements,
    readable_practice_logs,
    require_current_member,
)
from attunement.store.models import ClosenessSession, Person, Relationship
from attunement.web.deps import CurrentUser, IdPath, ReadSession, render
from attunement.web.relationships import members as members_of
from attunement.web.relationships import my_relationships

__all__ = ["DashboardSummary", "router"]

router = APIRouter()

_PARTS = {
    "self_disclosure": "Shared about themselves",
    "partner_disclosure": "The other shared",
    "responsiveness": "Felt understood, validated, cared for",
    "intimacy": "Felt close",
}


_SCATTERS = (
    ("self_disclosure", "Shared about self", "Sharing and closeness"),
    ("responsiveness", "Felt understood", "Feeling understood and closeness"),
)


class PersonSummary(BaseModel):
    """One person's numbers as the reader may see them (means on the 1-7 scale)."""

    person_id: int
    name: str
    is_you: bool
    records: int
    self_disclosure: float | None
    partner_disclosure: float | None
    responsiveness: float | None
    intimacy: float | None
    balance: float | None
    balance_label: str
    eis_latest: float | None
    eis_checkins: int
    practices_30_days: int


class DashboardSummary(BaseModel):
    """What the dashboard shows, as data."""

    relationship_id: int
    people: list[PersonSummary]
    suggestions: list[dict[str, Any]]


#: The scatter plots show at most this many of the newest interactions (the means use all).
CHART_POINTS = 300

_SCORE_KEYS = tuple(f"interaction_{part}" for part in _PARTS)


def _checkins(db: ReadSession, me: int, relationship_id: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"person": m.person_id, "taken_at": m.taken_at, "eis_total": m.scores.get("eis_total")}
            for m in readable_measurements(
                db, me, relationship_id=relationship_id, instrument_id="eis"
            )
        ],
        columns=["person", "taken_at", "eis_total"],
    )


def _summary_row(means: InteractionMeans) -> pd.Series:
    """One person's row in the shape of :func:`attunement.practices.process_summary`."""
    values: dict[str, float] = {"records": float(means.records)}
    for part, key in zip(_PARTS, _SCORE_KEYS, strict=True):
        value = means.means[key]
        values[part] = math.nan if value is None else value
    return pd.Series(values)


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _eis_totals(checkins: pd.DataFrame) -> dict[int, list[tuple[datetime, float]]]:
    """Each person's EIS totals, oldest first (a check-in without a total is left out)."""
    found: dict[int, list[tuple[datetime, float]]] = {}
    for person, taken_at, total in checkins.itertuples(index=False, name=None):
        if total is not None and not pd.isna(total):
            found.setdefault(int(person), []).append((taken_at, float(total)))
    for totals in found.values():
        totals.sort(key=lambda pair: pair[0])
    return found


def _summaries(
    members: dict[int, str],
    me: int,
    checkins: pd.DataFrame,
    means: dict[int, InteractionMeans],
    practice_counts: dict[int, int],
) -> tuple[list[PersonSummary], dict[int, pd.Series]]:
    people: list[PersonSummary] = []
    rows: dict[int, pd.Series] = {}
    eis = _eis_totals(checkins)
    for pid, name in members.items():
        row = _summary_row(means[pid]) if pid in means else None
        if row is not None:
            rows[pid] = row
        balance = disclosure_balance(row)
        totals = [total for _taken_at, total in eis.get(pid, [])]
        people.append(
            PersonSummary(
                person_id=pid,
                name=name,
                is_you=pid == me,
                records=int(row["records"]) if row is not None else 0,
                **{part: _number(row[part]) if row is not None else None for part in _PARTS},
                balance=balance.value,
                balance_label=balance.label,
                eis_latest=totals[-1] if totals else None,
                eis_checkins=len(totals),
                practices_30_days=practice_counts.get(pid, 0),
            )
        )
    return people, rows


def _charts(
    members: dict[int, str],
    me: int,
    checkins: pd.DataFrame,
    points: list[InteractionPoint],
    means: dict[int, InteractionMeans],
) -> dict[str, Any]:
    charts: dict[str, Any] = {"eis": None, "process": []}
    series = []
    eis = _eis_totals(checkins)
    for pid, name in members.items():
        own = eis.get(pid, [])
        if own:
            label = "You" if pid == me else name
            series.append(Series(label, [when for when, _ in own], [total for _, total in own]))
    if series:
        charts["eis"] = trend_chart(
            series,
            title="Emotional Intimacy Scale over time",
            x_label="Date",
            y_label="EIS total (5-25)",
            y_min=5,
            y_max=25,
        )
    for pid, name in members.items():
        scores = [point.scores for point in points if point.person_id == pid]
        if len(scores) < 3:
            continue
        owner = "Your" if pid == me else f"{name}'s"
        total = means[pid].records if pid in means else len(own)
        which = (
            "one dot per interaction"
            if total <= len(own)
            else (f"one dot per interaction, the newest {len(own)} of {total}")
        )
        pair = []
        for part, label, title in _SCATTERS:
            xy = [
                (x, y)
                for x, y in ((s[f"interaction_{part}"], s["interaction_intimacy"]) for s in scores)
                if x is not None and y is not None
            ]
            # A plot needs a few points and some spread; otherwise it says nothing.
            if len(xy) < 3 or len({x for x, _y in xy}) < 2:
                continue
            pair.append(
                scatter_chart(
                    [x for x, _y in xy],
                    [y for _x, y in xy],
                    title=title,
                    x_label=f"{label} (1-7)",
                    y_label="Felt close (1-7)",
                    desc=f"{owner} interactions: {label.lower()} against how close it felt, "
                    f"{which}.",
                )
            )
        if pair:
            charts["process"].append({"name": "You" if pid == me else name, "charts": pair})
    return charts


_ME = sa.bindparam("me", type_=sa.Integer)
_MY_CLOSENESS = (
    sa.select(
        ClosenessSession.finished_at,
        sa.case(
            (ClosenessSession.person_a_id == _ME, ClosenessSession.ios_before_a),
            else_=ClosenessSession.ios_before_b,
        ),
        sa.case(
            (ClosenessSession.person_a_id == _ME, ClosenessSession.ios_after_a),
            else_=ClosenessSession.ios_after_b,
        ),
    )
    .where(
        ClosenessSession.relationship_id == sa.bindparam("relationship_id", type_=sa.Integer),
        ClosenessSession.finished_at.is_not(None),
        sa.or_(ClosenessSession.person_a_id == _ME, ClosenessSession.person_b_id == _ME),
    )
    .order_by(ClosenessSession.finished_at)
)


def _my_closeness(db: ReadSession, me: int, relationship_id: int) -> list[dict[str, Any]]:
    """The reader's own IOS ratings before and after each finished 36 Questions session of the
    relationship (a person's IOS answers are theirs alone)."""
    rows = db.execute(_MY_CLOSENESS, {"me": me, "relationship_id": relationship_id})
    return [{"finished_at": row[0], "before": row[1], "after": row[2]} for row in rows]


def _load(db: ReadSession, me: Person, relationship_id: int) -> dict[str, Any]:
    require_current_member(db, me.id, relationship_id)
    relationship = db.get(Relationship, relationship_id)
    members = {m.person_id: m.display_name for m in members_of(db, relationship_id, me.id)}
    checkins = _checkins(db, me.id, relationship_id)
    means = {
        row.person_id: row
        for row in readable_interaction_means(db, me.id, relationship_id, _SCORE_KEYS)
    }
    since = datetime.now(UTC) - timedelta(days=30)
    practice_counts = Counter(
        log.person_id
        for log in readable_practice_logs(db, me.id, relationship_id=relationship_id)
        if log.done_at >= since
    )
    people, rows = _summaries(members, me.id, checkins, means, dict(practice_counts))
    others = [pid for pid in members if pid != me.id]
    partner_name = " and ".join(members[pid] for pid in others) or "the other person"
    theirs = rows.get(others[0]) if len(others) == 1 else None
    suggestions = suggest_practices(
        rows.get(me.id),
        theirs,
        partner_name=partner_name,
        eis_drop=eis_change(checkins, me.id),
    )
    return {
        "closeness_sessions": _my_closeness(db, me.id, relationship_id),
        "relationship": relationship,
        "people": people,
        "suggestions": suggestions,
        "checkins": checkins,
        "means": means,
        "members": members,
        "partner_name": partner_name,
    }


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboards(request: Request, db: ReadSession, me: CurrentUser) -> HTMLResponse:
    """Choose a relationship to see its dashboard."""
    return render(
        request,
        "dashboard/index.html",
        {"title": "Dashboards", "relationships": my_relationships(db, me)},
    )


@router.get("/dashboard/{relationship_id}", response_class=HTMLResponse, include_in_schema=False)
def dashboard(
    request: Request, relationship_id: IdPath, db: ReadSession, me: CurrentUser
) -> HTMLResponse:
    """One relationship's dashboard: only what each person shares."""
    data = _load(db, me, relationship_id)
    points = readable_interaction_points(
        db, me.id, relationship_id, _SCORE_KEYS, latest=CHART_POINTS
    )
    charts = _charts(data["members"], me.id, data["checkins"], points, data["means"])
    return render(
        request,
        "dashboard/relationship.html",
        {
            "title": "Dashboard",
            "parts": _PARTS,
            "charts": charts,
            **data,
        },
    )


@router.get("/api/dashboard/{relationship_id}", response_model=DashboardSummary, tags=["dashboard"])
def dashboard_data(relationship_id: IdPath, db: ReadSession, me: CurrentUser) -> DashboardSummary:
    """The numbers of a relationship's dashboard (the reader's own and what others share)."""
    data = _load(db, me, relationship_id)
    return DashboardSummary(
        relationship_id=relationship_id,
        people=data["people"],
        suggestions=[
            {
                "practice": s.practice_id,
                "title": s.title,
                "reason": s.reason,
                "evidence": [
                    {"citation": e.citation, "finding": e.finding, "verified": e.verified}
                    for e in s.evidence
                ],
            }
            for s in data["suggestions"]
        ],
    )
