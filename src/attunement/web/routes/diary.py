"""Interaction diary pages: a half-minute form after an interaction, and the mutual reveal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.errors import AttunementError, InvalidInputError, Problem
from attunement.instruments import Instrument, load_instrument
from attunement.store import records
from attunement.store.access import read_interaction
from attunement.store.models import Person
from attunement.web.checkins import DIARY_INSTRUMENT, parse_answers
from attunement.web.deps import (
    MAX_ID,
    CurrentUser,
    DbSession,
    FormFields,
    IdPath,
    IdQuery,
    ReadSession,
    field_errors,
    render,
)
from attunement.web.diary import (
    CHANNEL_LABELS,
    DURATION_CHOICES,
    WHEN_CHOICES,
    diary_entries,
    occurred_at_from_choice,
    other_view,
    pending_for,
    rating_rows,
)
from attunement.web.relationships import RelationshipSummary, my_relationships

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _diary_instrument() -> Instrument:
    return load_instrument(DIARY_INSTRUMENT)


def _pick(relationships: list[RelationshipSummary], wanted: int | None) -> RelationshipSummary:
    for rel in relationships:
        if rel.id == wanted:
            return rel
    return relationships[0]


def _form_context(
    relationships: list[RelationshipSummary],
    rel: RelationshipSummary,
    form: dict[str, Any],
    responding: Any = None,
) -> dict[str, Any]:
    instrument = _diary_instrument()
    return {
        "title": "Record an interaction",
        "instrument": instrument,
        "relationships": relationships,
        "relationship_options": [(str(r.id), r.title) for r in relationships],
        "rel": rel,
        "form": form,
        "channels": list(CHANNEL_LABELS.items()),
        "when_choices": WHEN_CHOICES,
        "durations": DURATION_CHOICES,
        "anchors": {anchor.value: anchor.label for anchor in instrument.scale.anchors},
        "responding": responding,
    }


def _int_or_none(value: str, column: str, problems: list[Problem]) -> int | None:
    if not value.strip():
        return None
    try:
        number = int(value)
    except ValueError:
        problems.append(Problem("not a whole number", column=column, value=value))
        return None
    if not -MAX_ID <= number <= MAX_ID:
        problems.append(Problem("out of range", column=column, value=value))
        return None
    return number


@router.get("/diary/new", response_class=HTMLResponse)
def new_page(
    request: Request,
    db: ReadSession,
    me: CurrentUser,
    relationship: IdQuery = None,
    responds_to: IdQuery = None,
) -> Response:
    relationships = my_relationships(db, me)
    if not relationships:
        return render(request, "diary/no_relationship.html", {"title": "Diary"})
    rel = _pick(relationships, relationship)
    responding = None
    if responds_to is not None:
        pending = {p.id: p for p in pending_for(db, me, rel.id)}
        responding = pending.get(responds_to)
    form: dict[str, Any] = {
        "relationship_id": str(rel.id),
        "when": "0",
        "channel": responding_channel(responding) or "in_person",
        "shared": "on" if rel.share_interactions_default else "",
        "responds_to": str(responds_to) if responding else "",
    }
    return render(request, "diary/form.html", _form_context(relationships, rel, form, responding))


def responding_channel(responding: Any) -> str | None:
    """The channel of the record being answered (its label mapped back to its value)."""
    if responding is None:
        return None
    for value, label in CHANNEL_LABELS.items():
        if label == responding.channel_label:
            return str(value)
    return None


@router.post("/diary", response_class=HTMLResponse)
def submit(request: Request, db: DbSession, me: CurrentUser, fields: FormFields) -> Response:
    relationships = my_relationships(db, me)
    problems: list[Problem] = []
    relationship_id = _int_or_none(fields.get("relationship_id", ""), "relationship_id", problems)
    minutes_ago = _int_or_none(fields.get("when", "0"), "when", problems) or 0
    duration = _int_or_none(fields.get("duration_minutes", ""), "duration_minutes", problems)
    responds_to = _int_or_none(fields.get("responds_to", ""), "responds_to", problems)
    note = fields.get("note", "").strip() or None
    if relationship_id is None and not problems:
        problems.append(Problem("choose the relationship", column="relationship_id"))
    if fields.get("channel", "") not in CHANNEL_LABELS:
        problems.append(
            Problem("choose how you talked", column="channel", allowed=", ".join(CHANNEL_LABELS))
        )
    try:
        try:
            answers = _answers(fields)
        except InvalidInputError as error:
            problems.extend(error.problems)
        if problems or relationship_id is None:
            raise InvalidInputError("Some fields need another look.", problems=problems)
        record = records.record_interaction(
            db,
            me.id,
            relationship_id,
            answers,
            channel=fields.get("channel", ""),
            occurred_at=occurred_at_from_choice(minutes_ago),
            duration_minutes=duration,
            note=note,
            note_shared=fields.get("note_shared") == "on",
            shared=fields.get("shared") == "on",
            responds_to=responds_to,
        )
        db.commit()
    except AttunementError as error:
        db.rollback()
        if error.code in ("not_found", "permission_denied") and not error.problems:
            raise
        if not relationships:
            raise
        rel = _pick(relationships, relationship_id)
        context = _form_context(relationships, rel, dict(fields))
        context["errors"] = field_errors(error)
        return render(request, "diary/form.html", context, status_code=422)
    return RedirectResponse(f"/diary/{record.id}", status_code=303)


def _answers(fields: dict[str, str]) -> dict[str, int | None]:
    """The ratings given; none at all is fine (every rating is optional)."""
    instrument = _diary_instrument()
    if not any(fields.get(item.column, "").strip() for item in instrument.items):
        return {item.column: None for item in instrument.items}
    return parse_answers(instrument, fields)


@router.get("/diary/{interaction_id}", response_class=HTMLResponse)
def entry_page(
    request: Request, db: ReadSession, me: CurrentUser, interaction_id: IdPath
) -> HTMLResponse:
    """One record, and the other person's view of the same interaction when revealed."""
    view = read_interaction(db, me.id, interaction_id)
    instrument = _diary_instrument()
    other = other_view(db, me.id, view) if view.is_own else None
    owner = db.get(Person, view.person_id)
    other_person = db.get(Person, other.person_id) if other else None
    return render(
        request,
        "diary/entry.html",
        {
            "title": "Interaction",
            "view": view,
            "other": other,
            "owner_name": owner.display_name if owner else "someone",
            "other_name": other_person.display_name if other_person else None,
            "rows": rating_rows(instrument, view),
            "other_rows": rating_rows(instrument, other) if other else [],
            "channel_labels": CHANNEL_LABELS,
            "instrument": instrument,
        },
    )


@router.get("/diary", response_class=HTMLResponse)
def diary_page(
    request: Request, db: ReadSession, me: CurrentUser, relationship: IdQuery = None
) -> Response:
    relationships = my_relationships(db, me)
    if not relationships:
        return render(request, "diary/no_relationship.html", {"title": "Diary"})
    rel = _pick(relationships, relationship)
    return render(
        request,
        "diary/list.html",
        {
            "title": "Diary",
            "rel": rel,
            "relationships": relationships,
            "entries": diary_entries(db, me, rel.id),
            "pending": pending_for(db, me, rel.id),
            "channel_labels": CHANNEL_LABELS,
        },
    )
