"""The live 36 Questions session on two devices (Aron et al., 1997).

One person starts a session and reads its short code to the other, who joins with it. Every
step is a plain form (post, then redirect back to the session page), so the session works
without JavaScript; ``/static/closeness.js`` polls ``GET /api/closeness/{code}`` to bring the
other device along as soon as something changes and counts the set's timer down. Only the two
people in a session can see or change it; anyone else gets "not found".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import Enum
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Form
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.closeness import (
    IOS_MAX,
    IOS_MIN,
    Assignment,
    SessionState,
    StoredSession,
    SystemClock,
    act,
    assign_condition,
    create_live_session,
    current_question,
    eye_contact_timer,
    finish_session,
    join_live_session,
    next_question,
    next_set,
    participant_session,
    question_sets,
    record_ios,
    sessions_of,
    set_timer,
    start_eye_contact,
    thirty_six_questions,
)
from attunement.errors import AttunementError, InvalidInputError, PermissionDeniedError, Problem
from attunement.settings import Settings
from attunement.store.access import current_membership
from attunement.store.models import (
    ClosenessSession,
    Consent,
    Person,
    Study,
)
from attunement.web.deps import (
    MAX_ID,
    AppSettings,
    CurrentUser,
    DbSession,
    ReadSession,
    field_errors,
    render,
)
from attunement.web.relationships import my_relationships

__all__ = ["IosIn", "JoinIn", "QuestionIn", "SessionStatus", "SetIn", "StartIn", "router"]

router = APIRouter()

ROMAN = ("I", "II", "III", "IV", "V", "VI")


class SessionStatus(BaseModel):
    """What a device needs to stay in step with a live session."""

    code: str
    version: int
    phase: Literal["lobby", "questions", "ios_after", "ending", "finished"]
    participants: int
    set_number: int
    question_number: int
    you_read: bool | None
    time_up: bool
    remaining_seconds: float
    eye_contact_remaining_seconds: float | None
    clock_speed: float
    waiting_for_partner: bool
    set_title: str | None
    question_text: str | None


def _clock(settings: Settings) -> SystemClock:
    return SystemClock(settings.clock_speed)


def _names(db: DbSession, state: SessionState) -> dict[int, str]:
    if not state.participants:
        return {}
    rows = db.execute(
        sa.select(Person.id, Person.display_name).where(Person.id.in_(state.participants))
    )
    return {row.id: row.display_name for row in rows}


def _waiting_for_partner(state: SessionState, me: int) -> bool:
    if state.phase == "lobby":
        return len(state.participants) < 2 or me in state.ios_before
    if state.phase == "ios_after":
        return me in state.ios_after
    return False


def _status(stored: StoredSession, me: int, settings: Settings) -> SessionStatus:
    state, clock = stored.state, _clock(settings)
    protocol = thirty_six_questions()
    sets = question_sets(protocol, state.condition)
    asking = state.phase == "questions"
    timer = set_timer(state, clock)
    eye = eye_contact_timer(state, clock) if state.eye_contact_started_at else None
    return SessionStatus(
        code=state.code,
        version=state.version,
        phase=state.phase,
        participants=len(state.participants),
        set_number=state.set_index + 1,
        question_number=state.question_number,
        you_read=None if state.reader is None else state.reader == me,
        time_up=timer.time_up,
        remaining_seconds=timer.remaining_seconds,
        eye_contact_remaining_seconds=eye.remaining_seconds if eye else None,
        clock_speed=clock.speed,
        waiting_for_partner=_waiting_for_partner(state, me),
        set_title=sets[state.set_index].title if asking else None,
        question_text=current_question(protocol, state).text if asking else None,
    )


def ios_pairs() -> list[dict[str, Any]]:
    """Geometry of the seven IOS pairs (Aron, Aron & Smollan, 1992): from just touching (1) to
    almost fully overlapping (7), for inline SVG."""
    radius = 20.0
    pairs = []
    for value in range(IOS_MIN, IOS_MAX + 1):
        distance = 2 * radius - (value - 1) * (1.7 * radius / 6)
        centre = 50.0
        pairs.append(
            {
                "value": value,
                "r": radius,
                "self_x": round(centre - distance / 2, 2),
                "other_x": round(centre + distance / 2, 2),
            }
        )
    return pairs


def _page_context(
    db: DbSession, stored: StoredSession, me: Person, settings: Settings
) -> dict[str, Any]:
    state = stored.state
    names = _names(db, state)
    partner = state.partner_of(me.id)
    protocol = thirty_six_questions()
    sets = question_sets(protocol, state.condition)
    context: dict[str, Any] = {
        "title": "36 Questions" if state.condition == "closeness" else "Conversation session",
        "state": state,
        "status": _status(stored, me.id, settings),
        # Poll every 1.5 s; with a test clock (tests and demos) faster, so timers keep up.
        "poll_ms": 1500 if settings.clock_speed == 1 else 250,
        "me": me,
        "partner_name": names.get(partner, "") if partner else "",
        "protocol": protocol,
        "ios_pairs": ios_pairs(),
        "set_title": sets[state.set_index].title if state.phase == "questions" else "",
        "set_roman_next": ROMAN[min(state.set_index + 1, len(ROMAN) - 1)],
        "set_count": len(sets),
        "set_size": len(sets[state.set_index].questions),
        "question": current_question(protocol, state) if state.phase == "questions" else None,
        "study_session": stored.record.study_id is not None,
        "my_ios_before": state.ios_before.get(me.id),
        "my_ios_after": state.ios_after.get(me.id),
    }
    return context


def _redirect(code: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/closeness/{code}{anchor}", status_code=303)


# -- starting and joining ----------------------------------------------------------------------


def _my_randomising_studies(db: DbSession, me: Person) -> list[Study]:
    return list(
        db.scalars(
            sa.select(Study)
            .join(Consent, Consent.study_id == Study.id)
            .where(
                Consent.person_id == me.id,
                Consent.withdrawn_at.is_(None),
                Study.randomize_closeness.is_(True),
                Study.closed_at.is_(None),
            )
            .order_by(Study.id)
        )
    )


def _start_page(
    request: Request,
    db: DbSession,
    me: Person,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    protocol = thirty_six_questions()
    sessions = sessions_of(db, me.id)
    return render(
        request,
        "closeness/start.html",
        {
            "title": "36 Questions",
            "protocol": protocol,
            "relationships": my_relationships(db, me),
            "studies": _my_randomising_studies(db, me),
            "sessions": sessions,
            "errors": errors or {},
            "form": form or {},
        },
        status_code=status_code,
    )


@router.get("/closeness", response_class=HTMLResponse, include_in_schema=False)
def start_page(request: Request, db: ReadSession, me: CurrentUser) -> HTMLResponse:
    """Start a session or join one with a code; resume an earlier one."""
    return _start_page(request, db, me)


def study_seed(settings: Settings, study: Study) -> int:
    """The randomisation seed of a study: secret (keyed by the server's secret key), fixed for
    the study, and recorded in every session it assigns."""
    key = settings.secret_key.get_secret_value().encode("utf-8")
    digest = hmac.new(key, f"closeness-study:{study.id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:6], "big")


def _study_assignment(db: DbSession, me: Person, study_id: int, settings: Settings) -> Assignment:
    # Lock the study row (PostgreSQL; SQLite writers are serialised anyway) so two sessions
    # started at once get different enrolment numbers and the blocks stay balanced.
    study = db.scalars(sa.select(Study).where(Study.id == study_id).with_for_update()).first()
    consent = db.scalar(
        sa.select(Consent.id).where(
            Consent.study_id == study_id,
            Consent.person_id == me.id,
            Consent.withdrawn_at.is_(None),
        )
    )
    if study is None or consent is None or not study.randomize_closeness:
        raise InvalidInputError(
            "choose a study you take part in",
            problems=[Problem("not one of your studies", column="study_id", value=study_id)],
        )
    enrolled = db.scalar(
        sa.select(sa.func.count(ClosenessSession.id)).where(ClosenessSession.study_id == study_id)
    )
    return assign_condition(study_seed(settings, study), int(enrolled or 0))


def _create(
    db: DbSession,
    me: Person,
    settings: Settings,
    *,
    relationship_id: int | None,
    study_id: int | None,
    first_reader: str,
    eye_contact: bool,
) -> StoredSession:
    if relationship_id is not None and current_membership(db, me.id, relationship_id) is None:
        raise InvalidInputError(
            "choose one of your relationships",
            problems=[Problem("not one of yours", column="relationship_id", value=relationship_id)],
        )
    choices = {"me": 0, "partner": 1, "random": secrets.randbelow(2)}
    if first_reader not in choices:
        raise InvalidInputError(
            "choose who reads first",
            problems=[Problem("unknown choice", column="first_reader", value=first_reader)],
        )
    assignment = _study_assignment(db, me, study_id, settings) if study_id is not None else None
    stored = create_live_session(
        db,
        me.id,
        _clock(settings),
        relationship_id=relationship_id,
        study_id=study_id,
        assignment=assignment,
        first_reader=choices[first_reader],
        offer_eye_contact=eye_contact,
    )
    db.commit()
    return stored


@router.post("/closeness", response_class=HTMLResponse, include_in_schema=False)
def start(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    relationship_id: Annotated[str, Form()] = "",
    study_id: Annotated[str, Form()] = "",
    first_reader: Annotated[str, Form()] = "random",
    eye_contact: Annotated[str, Form()] = "",
) -> Response:
    """Create a session and show its code."""
    form = {
        "relationship_id": relationship_id,
        "study_id": study_id,
        "first_reader": first_reader,
        "eye_contact": eye_contact,
    }
    try:
        stored = _create(
            db,
            me,
            settings,
            relationship_id=_optional_id(relationship_id, "relationship_id"),
            study_id=_optional_id(study_id, "study_id"),
            first_reader=first_reader,
            eye_contact=eye_contact == "on",
        )
    except AttunementError as error:
        db.rollback()
        errors = field_errors(error, {"relationship_id", "study_id", "first_reader"})
        return _start_page(request, db, me, errors=errors, form=form, status_code=422)
    return _redirect(stored.state.code)


def _optional_id(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit():
        raise InvalidInputError(
            f"{field} must be a number",
            problems=[Problem("not a number", column=field, value=value)],
        )
    return int(value)


@router.post("/closeness/join", response_class=HTMLResponse, include_in_schema=False)
def join(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    code: Annotated[str, Form()] = "",
) -> Response:
    """Join a session by the code the other person reads out."""
    try:
        if not code.strip():
            raise InvalidInputError(
                "type the code shown on the other person's screen",
                problems=[Problem("missing", column="code")],
            )
        stored = join_live_session(db, code, me.id, _clock(settings))
        db.commit()
    except AttunementError as error:
        db.rollback()
        errors = field_errors(error, {"code"})
        errors.setdefault("code", errors["_form"])
        if isinstance(error, PermissionDeniedError):
            errors["code"] = error.message
        return _start_page(request, db, me, errors=errors, form={"code": code}, status_code=422)
    return _redirect(stored.state.code)


# -- the session ---------------------------------------------------------------------------


@router.get("/closeness/{code}", response_class=HTMLResponse, include_in_schema=False)
def session_page(
    request: Request, code: str, db: ReadSession, me: CurrentUser, settings: AppSettings
) -> HTMLResponse:
    """The session where it stands now (a reload resumes exactly here)."""
    stored = participant_session(db, code, me.id)
    return render(request, "closeness/session.html", _page_context(db, stored, me, settings))


@router.get("/api/closeness/{code}", response_model=SessionStatus, tags=["36 Questions"])
def session_status(
    code: str, db: ReadSession, me: CurrentUser, settings: AppSettings
) -> SessionStatus:
    """Where a live session stands, for the person asking (one of its two participants)."""
    return _status(participant_session(db, code, me.id), me.id, settings)


def _step(
    db: DbSession, code: str, me: Person, settings: AppSettings, change: Any
) -> StoredSession:
    participant_session(db, code, me.id)  # strangers learn nothing, not even "conflict"
    return act(db, code, me.id, _clock(settings), change)


@router.post("/closeness/{code}/ios", response_class=HTMLResponse, include_in_schema=False)
def rate_closeness(
    request: Request,
    code: str,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    moment: Annotated[str, Form()] = "",
    ios: Annotated[str, Form()] = "",
) -> Response:
    """Store the person's IOS rating before or after the questions."""
    clock = _clock(settings)
    try:
        value = int(ios) if ios.strip().isdigit() else None
        if value is None:
            raise InvalidInputError(
                "choose the pair of circles that fits best",
                problems=[Problem("no picture chosen", column="ios", value=ios or None)],
            )
        if moment not in ("before", "after"):
            raise InvalidInputError(f"unknown moment {moment!r}")
        _step(
            db,
            code,
            me,
            settings,
            lambda s: record_ios(s, me.id, moment, value, clock),  # type: ignore[arg-type]
        )
    except InvalidInputError as error:
        db.rollback()
        stored = participant_session(db, code, me.id)
        context = _page_context(db, stored, me, settings)
        context["errors"] = field_errors(error, {"ios"})
        return render(request, "closeness/session.html", context, status_code=422)
    return _redirect(code)


@router.post("/closeness/{code}/next", include_in_schema=False)
def go_to_next_question(
    code: str,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    set_index: Annotated[int, Form()],
    question_index: Annotated[int, Form()],
) -> Response:
    """Both have answered: show the next question (a stale second tap changes nothing)."""
    clock = _clock(settings)
    at = (set_index, question_index)
    _step(db, code, me, settings, lambda s: next_question(s, me.id, at, clock))
    return _redirect(code)


@router.post("/closeness/{code}/next-set", include_in_schema=False)
def go_to_next_set(
    code: str,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    set_index: Annotated[int, Form()],
) -> Response:
    """The set's time is up: move on to the next set."""
    clock = _clock(settings)
    _step(db, code, me, settings, lambda s: next_set(s, me.id, set_index, clock))
    return _redirect(code)


@router.post("/closeness/{code}/eye-contact", include_in_schema=False)
def begin_eye_contact(code: str, db: DbSession, me: CurrentUser, settings: AppSettings) -> Response:
    """Begin the optional eye-contact ending (not part of the 1997 procedure)."""
    clock = _clock(settings)
    _step(db, code, me, settings, lambda s: start_eye_contact(s, me.id, clock))
    return _redirect(code)


@router.post("/closeness/{code}/finish", include_in_schema=False)
def finish(code: str, db: DbSession, me: CurrentUser, settings: AppSettings) -> Response:
    """End the session."""
    clock = _clock(settings)
    _step(db, code, me, settings, lambda s: finish_session(s, me.id, clock))
    return _redirect(code)


# -- the same session as a JSON API -------------------------------------------------------------


class StartIn(BaseModel):
    """A new session: for a relationship or a study (optional), who reads first."""

    relationship_id: int | None = Field(None, ge=1, le=MAX_ID)
    study_id: int | None = Field(None, ge=1, le=MAX_ID)
    first_reader: Literal["me", "partner", "random"] = "random"
    eye_contact: bool = False


class JoinIn(BaseModel):
    """The code the other person's screen shows."""

    code: str = Field(min_length=1, max_length=32)


class IosIn(BaseModel):
    """An IOS rating: the chosen pair of circles, 1 (no overlap) to 7 (most overlap)."""

    moment: Literal["before", "after"]
    value: int = Field(ge=IOS_MIN, le=IOS_MAX)


class QuestionIn(BaseModel):
    """The question the device shows (0-based set and question), to move on from."""

    set_index: int = Field(ge=0, le=99)
    question_index: int = Field(ge=0, le=99)


class SetIn(BaseModel):
    """The set (0-based) the device shows, to leave once its time is up."""

    set_index: int = Field(ge=0, le=99)


_TAGS: list[str | Enum] = ["36 Questions"]


@router.post("/api/closeness", status_code=201, response_model=SessionStatus, tags=_TAGS)
def api_start(
    body: StartIn, db: DbSession, me: CurrentUser, settings: AppSettings
) -> SessionStatus:
    """Start a session; the answer carries its join code."""
    stored = _create(
        db,
        me,
        settings,
        relationship_id=body.relationship_id,
        study_id=body.study_id,
        first_reader=body.first_reader,
        eye_contact=body.eye_contact,
    )
    return _status(stored, me.id, settings)


@router.post("/api/closeness/join", response_model=SessionStatus, tags=_TAGS)
def api_join(body: JoinIn, db: DbSession, me: CurrentUser, settings: AppSettings) -> SessionStatus:
    """Join a session by its code (joining again resumes it)."""
    stored = join_live_session(db, body.code, me.id, _clock(settings))
    db.commit()
    return _status(stored, me.id, settings)


@router.post("/api/closeness/{code}/ios", response_model=SessionStatus, tags=_TAGS)
def api_rate(
    code: str, body: IosIn, db: DbSession, me: CurrentUser, settings: AppSettings
) -> SessionStatus:
    """Store your IOS rating before or after the questions."""
    clock = _clock(settings)
    stored = _step(
        db, code, me, settings, lambda s: record_ios(s, me.id, body.moment, body.value, clock)
    )
    return _status(stored, me.id, settings)


@router.post("/api/closeness/{code}/next", response_model=SessionStatus, tags=_TAGS)
def api_next(
    code: str, body: QuestionIn, db: DbSession, me: CurrentUser, settings: AppSettings
) -> SessionStatus:
    """Move on from the question you show; a stale position changes nothing."""
    clock = _clock(settings)
    at = (body.set_index, body.question_index)
    stored = _step(db, code, me, settings, lambda s: next_question(s, me.id, at, clock))
    return _status(stored, me.id, settings)


@router.post("/api/closeness/{code}/next-set", response_model=SessionStatus, tags=_TAGS)
def api_next_set(
    code: str, body: SetIn, db: DbSession, me: CurrentUser, settings: AppSettings
) -> SessionStatus:
    """Leave the set once its time is up (409 before)."""
    clock = _clock(settings)
    stored = _step(db, code, me, settings, lambda s: next_set(s, me.id, body.set_index, clock))
    return _status(stored, me.id, settings)


@router.post("/api/closeness/{code}/eye-contact", response_model=SessionStatus, tags=_TAGS)
def api_eye_contact(
    code: str, db: DbSession, me: CurrentUser, settings: AppSettings
) -> SessionStatus:
    """Begin the optional eye-contact ending (not part of the 1997 procedure)."""
    clock = _clock(settings)
    stored = _step(db, code, me, settings, lambda s: start_eye_contact(s, me.id, clock))
    return _status(stored, me.id, settings)


@router.post("/api/closeness/{code}/finish", response_model=SessionStatus, tags=_TAGS)
def api_finish(code: str, db: DbSession, me: CurrentUser, settings: AppSettings) -> SessionStatus:
    """End the session from its ending step."""
    clock = _clock(settings)
    stored = _step(db, code, me, settings, lambda s: finish_session(s, me.id, clock))
    return _status(stored, me.id, settings)
