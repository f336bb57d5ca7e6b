"""The JSON API: the same data as the pages, the same sign-in session and the same rules.

Authentication is the session cookie (``POST /api/session`` signs in); every unsafe request
also needs the ``X-CSRF-Token`` header (``GET /api/csrf``). Reads and writes go through the
store's records and access rules, exactly as the pages do. Errors use one JSON shape.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from attunement.errors import InvalidInputError, Problem
from attunement.instruments import Instrument, list_instruments
from attunement.store import records
from attunement.store.access import (
    InteractionView,
    MeasurementView,
    interaction_view,
    read_interaction,
    read_measurement,
    readable_interactions,
    readable_measurements,
)
from attunement.store.engine import StoreSession
from attunement.store.models import Person
from attunement.store.passwords import verify_password
from attunement.web.accounts import authenticate, create_person
from attunement.web.api_models import (
    AccountIn,
    DeleteAccountIn,
    ErrorBody,
    InstrumentOut,
    InteractionIn,
    InteractionOut,
    InvitationAcceptIn,
    InvitationIn,
    InvitationOut,
    ItemOut,
    MeasurementIn,
    MeasurementOut,
    MemberOut,
    MeOut,
    PendingOut,
    RelationshipIn,
    RelationshipOut,
    ScoreOut,
    SessionIn,
    SharingIn,
)
from attunement.web.checkins import explain_scores, load_checkin_instrument, wording_dir
from attunement.web.deps import (
    MAX_ID,
    AppSettings,
    CurrentUser,
    DbSession,
    IdPath,
    IdQuery,
    ReadSession,
    client_address,
    csrf_token,
    sign_in,
    sign_out,
)
from attunement.web.diary import other_view, pending_for
from attunement.web.personal_data import delete_account, personal_data
from attunement.web.relationships import (
    RelationshipSummary,
    my_relationships,
    relationship_summary,
    update_sharing,
)

__all__ = ["CsrfToken", "router"]

RelationshipQuery = Annotated[int, Query(ge=1, le=MAX_ID)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        401: "Not signed in.",
        403: "Not allowed (or the CSRF token is missing).",
        404: "Not found, or not yours to see.",
        409: "Conflicts with what is stored.",
        422: "Invalid input; every offending field is listed in problems.",
        429: "Too many attempts; see the Retry-After header.",
    }.items()
}

router = APIRouter(prefix="/api", responses=_ERRORS)


# -- converters -----------------------------------------------------------------------------


def _me(person: Person) -> MeOut:
    return MeOut(
        id=person.id,
        email=person.email,
        display_name=person.display_name,
        created_at=person.created_at,
    )


def _relationship(summary: RelationshipSummary) -> RelationshipOut:
    return RelationshipOut(
        id=summary.id,
        title=summary.title,
        type=summary.type,
        my_role=summary.my_role,
        mutual_reveal=summary.mutual_reveal,
        share_measurements_default=summary.share_measurements_default,
        share_interactions_default=summary.share_interactions_default,
        members=[
            MemberOut(
                person_id=m.person_id, display_name=m.display_name, role=m.role, is_me=m.is_me
            )
            for m in summary.members
        ],
    )


def _instrument(instrument: Instrument) -> InstrumentOut:
    return InstrumentOut(
        id=instrument.id,
        name=instrument.name,
        short_name=instrument.short_name,
        version=instrument.version,
        citation=instrument.citation,
        doi=instrument.doi,
        licence=instrument.licence,
        instructions=instrument.instructions,
        scale_min=instrument.scale.min,
        scale_max=instrument.scale.max,
        anchors={str(a.value): a.label for a in instrument.scale.anchors},
        items=[
            ItemOut(number=i.number, column=i.column, text=i.text, reverse=i.reverse)
            for i in instrument.items
        ],
        unverified=list(instrument.unverified),
    )


def _measurement(view: MeasurementView, instrument: Instrument | None = None) -> MeasurementOut:
    explanation = []
    if instrument is not None:
        explanation = [
            ScoreOut(
                name=line.name,
                value=line.value,
                low=line.low,
                high=line.high,
                explanation=line.sentence,
            )
            for line in explain_scores(instrument, view.scores)
        ]
    return MeasurementOut(
        id=view.id,
        person_id=view.person_id,
        relationship_id=view.relationship_id,
        about_person_id=view.about_person_id,
        instrument_id=view.instrument_id,
        instrument_version=view.instrument_version,
        taken_at=view.taken_at,
        responses=view.responses,
        scores=view.scores,
        shared=view.shared,
        is_own=view.is_own,
        explanation=explanation,
    )


def _interaction(view: InteractionView, other: InteractionView | None = None) -> InteractionOut:
    return InteractionOut(
        id=view.id,
        person_id=view.person_id,
        relationship_id=view.relationship_id,
        occurred_at=view.occurred_at,
        duration_minutes=view.duration_minutes,
        channel=view.channel,
        responses=view.responses,
        scores=view.scores,
        note=view.note,
        note_shared=view.note_shared,
        shared=view.shared,
        partner_record_id=view.partner_record_id,
        is_own=view.is_own,
        other_view=_interaction(other) if other is not None else None,
    )


# -- session and account --------------------------------------------------------------------


class CsrfToken(BaseModel):
    """The token to send in the ``X-CSRF-Token`` header of unsafe requests."""

    csrf_token: str


@router.get("/csrf", response_model=CsrfToken, tags=["account"])
def api_csrf_token(request: Request, settings: AppSettings) -> CsrfToken:
    """A CSRF token bound to this session (the session cookie is set if there was none)."""
    return CsrfToken(csrf_token=csrf_token(request.session, settings.secret_key.get_secret_value()))


@router.post("/session", response_model=MeOut, tags=["account"])
def api_sign_in(request: Request, body: SessionIn, db: DbSession) -> MeOut:
    """Sign in; the session cookie is set. Failures are limited per account and address."""
    person = authenticate(
        db,
        request.app.state.sign_in_limiter,
        email=body.email,
        password=body.password,
        address=client_address(request),
    )
    sign_in(request, person)
    return _me(person)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT, tags=["account"])
def api_sign_out(request: Request) -> Response:
    """Sign out (the session cookie is cleared)."""
    sign_out(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/accounts", response_model=MeOut, status_code=status.HTTP_201_CREATED, tags=["account"]
)
def api_sign_up(request: Request, body: AccountIn, db: DbSession) -> MeOut:
    """Create an account and sign in."""
    person = create_person(
        db, email=body.email, display_name=body.display_name, password=body.password
    )
    sign_in(request, person)
    return _me(person)


@router.get("/me", response_model=MeOut, tags=["account"])
def api_me(me: CurrentUser) -> MeOut:
    """The signed-in person."""
    return _me(me)


@router.get("/me/export", tags=["account"])
def api_export(db: ReadSession, me: CurrentUser) -> dict[str, Any]:
    """Everything the signed-in person recorded (what others recorded is not included)."""
    return personal_data(db, me)


@router.post("/me/delete", status_code=status.HTTP_204_NO_CONTENT, tags=["account"])
def api_delete_account(
    request: Request, body: DeleteAccountIn, db: DbSession, me: CurrentUser
) -> Response:
    """Delete the account and everything the person recorded (the password confirms it)."""
    if not verify_password(me.password_hash, body.password):
        raise InvalidInputError(
            "The password is not right, so nothing was deleted.",
            problems=[Problem("password not right", column="password")],
        )
    delete_account(db, me)
    sign_out(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- relationships --------------------------------------------------------------------------


@router.get("/relationships", response_model=list[RelationshipOut], tags=["relationships"])
def api_relationships(db: ReadSession, me: CurrentUser) -> list[RelationshipOut]:
    """The signed-in person's current relationships with their members."""
    return [_relationship(summary) for summary in my_relationships(db, me)]


@router.post(
    "/relationships",
    response_model=RelationshipOut,
    status_code=status.HTTP_201_CREATED,
    tags=["relationships"],
)
def api_create_relationship(
    body: RelationshipIn, db: DbSession, me: CurrentUser
) -> RelationshipOut:
    """A new relationship with the signed-in person as its first member."""
    relationship = records.create_relationship(
        db,
        me.id,
        body.type,
        body.role,
        name=body.name.strip() if body.name and body.name.strip() else None,
        mutual_reveal=body.mutual_reveal,
        share_measurements_default=body.share_measurements_default,
        share_interactions_default=body.share_interactions_default,
    )
    db.commit()
    return _relationship(relationship_summary(db, me, relationship.id))


@router.get(
    "/relationships/{relationship_id}", response_model=RelationshipOut, tags=["relationships"]
)
def api_relationship(relationship_id: IdPath, db: ReadSession, me: CurrentUser) -> RelationshipOut:
    """One relationship of which the signed-in person is a current member."""
    return _relationship(relationship_summary(db, me, relationship_id))


@router.put(
    "/relationships/{relationship_id}/sharing",
    response_model=RelationshipOut,
    tags=["relationships"],
)
def api_sharing(
    relationship_id: IdPath, body: SharingIn, db: DbSession, me: CurrentUser
) -> RelationshipOut:
    """Change the sharing settings (mutual reveal stays on once others have joined)."""
    update_sharing(
        db,
        me,
        relationship_id,
        mutual_reveal=body.mutual_reveal,
        share_measurements_default=body.share_measurements_default,
        share_interactions_default=body.share_interactions_default,
    )
    return _relationship(relationship_summary(db, me, relationship_id))


@router.post(
    "/relationships/{relationship_id}/invitations",
    response_model=InvitationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["relationships"],
)
def api_invite(
    relationship_id: IdPath,
    body: InvitationIn,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
) -> InvitationOut:
    """A single-use invitation link (the token is returned once)."""
    invitation, token = records.create_invitation(db, me.id, relationship_id, body.role)
    db.commit()
    return InvitationOut(
        link=f"{settings.base_url.rstrip('/')}/join/{token}",
        token=token,
        role=str(invitation.role),
        expires_at=invitation.expires_at,
    )


@router.post("/invitations/accept", response_model=RelationshipOut, tags=["relationships"])
def api_accept(body: InvitationAcceptIn, db: DbSession, me: CurrentUser) -> RelationshipOut:
    """Join a relationship with an invitation token."""
    membership = records.accept_invitation(db, me.id, body.token)
    db.commit()
    return _relationship(relationship_summary(db, me, membership.relationship_id))


@router.post(
    "/relationships/{relationship_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["relationships"],
)
def api_leave(relationship_id: IdPath, db: DbSession, me: CurrentUser) -> Response:
    """Leave the relationship now; one's own records stay one's own."""
    records.leave_relationship(db, me.id, relationship_id)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- instruments and check-ins --------------------------------------------------------------


@router.get("/instruments", response_model=list[InstrumentOut], tags=["check-ins"])
def api_instruments(settings: AppSettings) -> list[InstrumentOut]:
    """The instrument bank (item text is null where it may not be redistributed)."""
    return [_instrument(i) for i in list_instruments(wording_dir=wording_dir(settings))]


@router.get("/measurements", response_model=list[MeasurementOut], tags=["check-ins"])
def api_measurements(
    db: ReadSession,
    me: CurrentUser,
    relationship_id: IdQuery = None,
    instrument_id: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = None,
) -> list[MeasurementOut]:
    """Check-ins one may read (one's own, and what others shared with one), oldest first."""
    views = readable_measurements(
        db, me.id, relationship_id=relationship_id, instrument_id=instrument_id
    )
    return [_measurement(view) for view in views]


@router.post(
    "/measurements",
    response_model=MeasurementOut,
    status_code=status.HTTP_201_CREATED,
    tags=["check-ins"],
)
def api_add_measurement(
    body: MeasurementIn, db: DbSession, me: CurrentUser, settings: AppSettings
) -> MeasurementOut:
    """Answer an instrument; scored on arrival and explained in plain words."""
    instrument = load_checkin_instrument(settings, body.instrument_id)
    measurement = records.add_measurement(
        db,
        me.id,
        instrument.id,
        body.responses,
        taken_at=body.taken_at,
        relationship_id=body.relationship_id,
        about_person_id=body.about_person_id,
        shared=body.shared,
    )
    db.commit()
    return _measurement(read_measurement(db, me.id, measurement.id), instrument)


@router.get("/measurements/{measurement_id}", response_model=MeasurementOut, tags=["check-ins"])
def api_measurement(
    measurement_id: IdPath, db: ReadSession, me: CurrentUser, settings: AppSettings
) -> MeasurementOut:
    """One check-in one may read, with its scores explained."""
    view = read_measurement(db, me.id, measurement_id)
    return _measurement(view, load_checkin_instrument(settings, view.instrument_id))


# -- interaction diary ----------------------------------------------------------------------


@router.get("/interactions", response_model=list[InteractionOut], tags=["diary"])
def api_interactions(
    relationship_id: RelationshipQuery, db: ReadSession, me: CurrentUser
) -> list[InteractionOut]:
    """Interaction records of one relationship one may read (mutual reveal applied)."""
    return [_interaction(view) for view in readable_interactions(db, me.id, relationship_id)]


@router.get("/interactions/pending", response_model=list[PendingOut], tags=["diary"])
def api_pending(
    relationship_id: RelationshipQuery, db: ReadSession, me: CurrentUser
) -> list[PendingOut]:
    """Others' records one may add one's own view to (no ratings until one has)."""
    return [
        PendingOut(
            id=p.id, occurred_at=p.occurred_at, channel=p.channel_label, person_name=p.person_name
        )
        for p in pending_for(db, me, relationship_id)
    ]


@router.post(
    "/interactions",
    response_model=InteractionOut,
    status_code=status.HTTP_201_CREATED,
    tags=["diary"],
)
async def api_record_interaction(body: InteractionIn, db: DbSession, me: CurrentUser) -> Response:
    """Record one interaction; ``responds_to`` links it to the other person's record."""
    # One trip to a worker thread: a plain ``def`` route would take a second one for
    # FastAPI to check the answer against the response model. The answer is an
    # InteractionOut already, so it is sent as it is, not checked again.
    out = await run_in_threadpool(_record_interaction, body, db, me)
    return Response(out.model_dump_json(), status.HTTP_201_CREATED, media_type="application/json")


def _record_interaction(body: InteractionIn, db: StoreSession, me: Person) -> InteractionOut:
    record = records.record_interaction(
        db,
        me.id,
        body.relationship_id,
        body.responses,
        channel=body.channel,
        occurred_at=body.occurred_at,
        duration_minutes=body.duration_minutes,
        note=body.note,
        note_shared=body.note_shared,
        shared=body.shared,
        responds_to=body.responds_to,
    )
    db.commit()
    view = interaction_view(record, me.id)  # one's own record: no second read needed
    return _interaction(view, other_view(db, me.id, view) if view.partner_record_id else None)


@router.get("/interactions/{interaction_id}", response_model=InteractionOut, tags=["diary"])
def api_interaction(interaction_id: IdPath, db: ReadSession, me: CurrentUser) -> InteractionOut:
    """One record; for one's own, the other person's view once revealed."""
    view = read_interaction(db, me.id, interaction_id)
    return _interaction(view, other_view(db, me.id, view) if view.is_own else None)
