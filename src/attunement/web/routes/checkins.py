"""Check-in pages: choose an instrument, answer it, read the result and its trend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.errors import AttunementError, InvalidInputError, NotFoundError, Problem
from attunement.instruments import Instrument
from attunement.reports.charts import Series, trend_chart
from attunement.store import records
from attunement.store.access import read_measurement, readable_measurements
from attunement.store.models import Person
from attunement.web.checkins import (
    ABOUT_ONE_PERSON,
    CHECKIN_DEFAULT,
    band_sentence,
    checkin_instruments,
    explain_scores,
    load_checkin_instrument,
    parse_answers,
    trend_points,
)
from attunement.web.deps import (
    MAX_ID,
    AppSettings,
    CurrentUser,
    DbSession,
    FormFields,
    IdPath,
    IdQuery,
    ReadSession,
    field_errors,
    render,
)
from attunement.web.relationships import RelationshipSummary, my_relationships

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _about_options(relationships: list[RelationshipSummary]) -> list[tuple[str, str]]:
    """``("<relationship id>:<person id>", "Ben (Romantic partners)")`` for each other member."""
    options = []
    for rel in relationships:
        for member in rel.others:
            options.append((f"{rel.id}:{member.person_id}", f"{member.display_name} ({rel.title})"))
    return options


def _parse_about(value: str) -> tuple[int | None, int | None]:
    if not value:
        return None, None
    try:
        relationship, _, person = value.partition(":")
        ids = int(relationship), int(person) if person else None
        if not all(1 <= number <= MAX_ID for number in ids if number is not None):
            raise ValueError(value)
        return ids
    except ValueError:
        raise InvalidInputError(
            "Choose the person from the list.",
            problems=[Problem("not one of the people listed", column="about", value=value)],
        ) from None


def _form_context(
    db: DbSession,
    me: Person,
    settings: AppSettings,
    instrument: Instrument,
    form: dict[str, Any],
) -> dict[str, Any]:
    relationships = my_relationships(db, me)
    return {
        "title": instrument.short_name,
        "instrument": instrument,
        "instruments": checkin_instruments(settings),
        "about_needed": instrument.id in ABOUT_ONE_PERSON,
        "about_options": _about_options(relationships),
        "relationships": relationships,
        "form": form,
        "anchors": {anchor.value: anchor.label for anchor in instrument.scale.anchors},
    }


@router.get("/checkins/new", response_class=HTMLResponse)
def new_page(
    request: Request,
    db: ReadSession,
    me: CurrentUser,
    settings: AppSettings,
    instrument: str = CHECKIN_DEFAULT,
    relationship: IdQuery = None,
) -> HTMLResponse:
    chosen = load_checkin_instrument(settings, instrument)
    context = _form_context(db, me, settings, chosen, {})
    options = context["about_options"]
    preferred = [value for value, _ in options if value.startswith(f"{relationship}:")]
    if preferred or options:
        context["form"]["about"] = (preferred or options)[0][0]
    rel = next((r for r in context["relationships"] if r.id == relationship), None)
    rel = rel or (context["relationships"][0] if context["relationships"] else None)
    context["form"]["shared"] = "on" if rel and rel.share_measurements_default else ""
    return render(request, "checkins/form.html", context)


@router.post("/checkins/{instrument_id}", response_class=HTMLResponse)
def submit(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    fields: FormFields,
    instrument_id: str,
) -> Response:
    instrument = load_checkin_instrument(settings, instrument_id)
    try:
        answers = parse_answers(instrument, fields)
        relationship_id, about_person_id = _parse_about(fields.get("about", ""))
        measurement = records.add_measurement(
            db,
            me.id,
            instrument.id,
            answers,
            relationship_id=relationship_id,
            about_person_id=about_person_id,
            shared=fields.get("shared") == "on" if relationship_id is not None else False,
        )
        db.commit()
    except AttunementError as error:
        db.rollback()
        if error.code in ("not_found", "permission_denied") and not error.problems:
            raise
        context = _form_context(db, me, settings, instrument, dict(fields))
        context["errors"] = field_errors(error)
        return render(request, "checkins/form.html", context, status_code=422)
    return RedirectResponse(f"/checkins/{measurement.id}", status_code=303)


def _trend_svg(
    instrument: Instrument, points: list[tuple[Any, float]], score: str, about: str | None
) -> str | None:
    if len(points) < 2:
        return None
    key = score.removeprefix(f"{instrument.id}_")
    low, high = instrument.score_range(key)
    title = f"{instrument.short_name} over time" + (f", about {about}" if about else "")
    return trend_chart(
        [Series(instrument.short_name, [p[0] for p in points], [p[1] for p in points])],
        title=title,
        x_label="Date",
        y_label="Total" if key == "total" else key.replace("_", " ").capitalize(),
        y_min=low,
        y_max=high,
    )


def _main_score(instrument: Instrument) -> str:
    if instrument.scoring.total:
        return f"{instrument.id}_total"
    return f"{instrument.id}_{instrument.scoring.subscales[0].id}"


@router.get("/checkins/{measurement_id}", response_class=HTMLResponse)
def result_page(
    request: Request,
    db: ReadSession,
    me: CurrentUser,
    settings: AppSettings,
    measurement_id: IdPath,
) -> HTMLResponse:
    """One check-in: the scores in plain words, the citation, and the trend."""
    view = read_measurement(db, me.id, measurement_id)
    instrument = load_checkin_instrument(settings, view.instrument_id)
    about = db.get(Person, view.about_person_id) if view.about_person_id else None
    owner = me if view.is_own else db.get(Person, view.person_id)
    history = readable_measurements(db, me.id, instrument_id=instrument.id)
    score = _main_score(instrument)
    points = trend_points(history, score, about_person_id=view.about_person_id)
    if not view.is_own:
        points = []
    return render(
        request,
        "checkins/result.html",
        {
            "title": f"{instrument.short_name} result",
            "view": view,
            "instrument": instrument,
            "lines": explain_scores(instrument, view.scores),
            "band": band_sentence(instrument, view.scores),
            "about_name": about.display_name if about else None,
            "owner_name": owner.display_name if owner else "someone",
            "trend_svg": _trend_svg(
                instrument, points, score, about.display_name if about else None
            ),
            "points": points,
            "flash": None,
        },
    )


@router.get("/checkins", response_class=HTMLResponse)
def history_page(
    request: Request, db: ReadSession, me: CurrentUser, settings: AppSettings
) -> HTMLResponse:
    """Every check-in one may read: one's own, and what others shared."""
    views = readable_measurements(db, me.id)
    names: dict[int, str] = {}
    for view in views:
        for person_id in (view.person_id, view.about_person_id):
            if person_id is not None and person_id not in names:
                person = db.get(Person, person_id)
                names[person_id] = person.display_name if person else "someone"
    instruments: dict[str, Instrument] = {}
    for view in views:
        if view.instrument_id not in instruments:
            try:
                instruments[view.instrument_id] = load_checkin_instrument(
                    settings, view.instrument_id
                )
            except NotFoundError:
                continue
    return render(
        request,
        "checkins/list.html",
        {
            "title": "Check-ins",
            "views": list(reversed(views)),
            "names": names,
            "instruments": instruments,
            "main_score": {ident: _main_score(i) for ident, i in instruments.items()},
            "choices": checkin_instruments(settings),
        },
    )
