"""The dashboard of one relationship: closeness over time, the intimacy process, what to try.

Everything shown goes through the store's access rules (``readable_measurements``,
``readable_interactions``): a person sees their own records and what the others in the
relationship chose to share, nothing else. The numbers are summarised by
:mod:`attunement.practices.suggestions` and drawn by :mod:`attunement.reports.charts`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse

from attunement.practices import (
    Balance,
    disclosure_balance,
    eis_change,
    process_summary,
    suggest_practices,
)
from attunement.reports.charts import Series, scatter_chart, trend_chart
from attunement.store.access import (
    readable_interactions,
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


def _frames(db: ReadSession, me: int, relationship_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    checkins = pd.DataFrame(
        [
            {"person": m.person_id, "taken_at": m.taken_at, "eis_total": m.scores.get("eis_total")}
            for m in readable_measurements(
                db, me, relationship_id=relationship_id, instrument_id="eis"
            )
        ],
        columns=["person", "taken_at", "eis_total"],
    )
    interactions = pd.DataFrame(
        [
            {
                "person": r.person_id,
                "occurred_at": r.occurred_at,
                **{part: r.scores.get(f"interaction_{part}") for part in _PARTS},
            }
            for r in readable_interactions(db, me, relationship_id)
        ],
        columns=["person", "occurred_at", *_PARTS],
    )
    return checkins, interactions


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _summaries(
    members: dict[int, str],
    me: int,
    checkins: pd.DataFrame,
    interactions: pd.DataFrame,
    practice_counts: dict[int, int],
) -> tuple[list[PersonSummary], dict[int, pd.Series], dict[int, Balance]]:
    summary = process_summary(interactions)
    people: list[PersonSummary] = []
    rows: dict[int, pd.Series] = {}
    balances: dict[int, Balance] = {}
    for pid, name in members.items():
        matching = summary[summary["person"] == pid]
        row: pd.Series | None = matching.iloc[0] if len(matching) else None
        if row is not None:
            rows[pid] = row
        balance = disclosure_balance(row)
        balances[pid] = balance
        own_eis = checkins[checkins["person"] == pid].sort_values("taken_at")
        totals = pd.to_numeric(own_eis["eis_total"], errors="coerce").dropna()
        people.append(
            PersonSummary(
                person_id=pid,
                name=name,
                is_you=pid == me,
                records=int(row["records"]) if row is not None else 0,
                **{part: _number(row[part]) if row is not None else None for part in _PARTS},
                balance=balance.value,
                balance_label=balance.label,
                eis_latest=float(totals.iloc[-1]) if len(totals) else None,
                eis_checkins=len(totals),
                practices_30_days=practice_counts.get(pid, 0),
            )
        )
    return people, rows, balances


def _charts(
    members: dict[int, str], me: int, checkins: pd.DataFrame, interactions: pd.DataFrame
) -> dict[str, Any]:
    charts: dict[str, Any] = {"eis": None, "process": []}
    series = []
    for pid, name in members.items():
        own = checkins[checkins["person"] == pid].sort_values("taken_at")
        if len(own):
            label = "You" if pid == me else name
            series.append(
                Series(label, list(own["taken_at"]), [_number(v) for v in own["eis_total"]])
            )
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
        own = interactions[interactions["person"] == pid]
        if len(own) < 3:
            continue
        owner = "Your" if pid == me else f"{name}'s"
        pair = []
        for part, label, title in _SCATTERS:
            data = own[[part, "intimacy"]].dropna()
            # A plot needs a few points and some spread; otherwise it says nothing.
            if len(data) < 3 or data[part].nunique() < 2:
                continue
            pair.append(
                scatter_chart(
                    [float(v) for v in data[part]],
                    [float(v) for v in data["intimacy"]],
                    title=title,
                    x_label=f"{label} (1-7)",
                    y_label="Felt close (1-7)",
                    desc=f"{owner} interactions: {label.lower()} against how close it felt, "
                    "one dot per interaction.",
                )
            )
        if pair:
            charts["process"].append({"name": "You" if pid == me else name, "charts": pair})
    return charts


def _my_closeness(db: ReadSession, me: int, relationship_id: int) -> list[dict[str, Any]]:
    """The reader's own IOS ratings before and after each finished 36 Questions session of the
    relationship (a person's IOS answers are theirs alone)."""
    found = []
    for record in db.scalars(
        sa.select(ClosenessSession)
        .where(
            ClosenessSession.relationship_id == relationship_id,
            ClosenessSession.finished_at.is_not(None),
            sa.or_(ClosenessSession.person_a_id == me, ClosenessSession.person_b_id == me),
        )
        .order_by(ClosenessSession.finished_at)
    ):
        slot = "a" if record.person_a_id == me else "b"
        found.append(
            {
                "finished_at": record.finished_at,
                "before": getattr(record, f"ios_before_{slot}"),
                "after": getattr(record, f"ios_after_{slot}"),
            }
        )
    return found


def _load(db: ReadSession, me: Person, relationship_id: int) -> dict[str, Any]:
    require_current_member(db, me.id, relationship_id)
    relationship = db.get(Relationship, relationship_id)
    members = {m.person_id: m.display_name for m in members_of(db, relationship_id, me.id)}
    checkins, interactions = _frames(db, me.id, relationship_id)
    since = datetime.now(UTC) - timedelta(days=30)
    practice_counts = Counter(
        log.person_id
        for log in readable_practice_logs(db, me.id, relationship_id=relationship_id)
        if log.done_at >= since
    )
    people, rows, _ = _summaries(members, me.id, checkins, interactions, dict(practice_counts))
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
        "interactions": interactions,
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
    charts = _charts(data["members"], me.id, data["checkins"], data["interactions"])
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
