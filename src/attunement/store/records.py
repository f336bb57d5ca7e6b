"""Creating and changing what is stored, with validation and the access rules applied.

Every function takes an open session and the acting person's id, checks what the actor may
do (:mod:`attunement.store.access`), validates the values (an
:class:`~attunement.errors.InvalidInputError` lists every bad field) and adds the rows; the
caller commits. Measurements and interaction records are scored with
:mod:`attunement.instruments` when stored, so stored scores always match the instrument
version recorded beside them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached

from attunement.errors import (
    AttunementError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
)
from attunement.store.access import (
    current_membership,
    require_current_member,
    require_own_interaction,
)
from attunement.store.constraints import check_lengths, integrity_error_to_domain
from attunement.store.models import (
    AuditAction,
    AuditEvent,
    Channel,
    Consent,
    Interaction,
    Invitation,
    Measurement,
    Membership,
    MembershipRole,
    Person,
    PracticeLog,
    RecordSource,
    Relationship,
    RelationshipType,
    ReminderFrequency,
    ReminderSchedule,
    Study,
)
from attunement.store.passwords import hash_password, verify_password
from attunement.store.tokens import hash_token, new_code, new_token, normalize_code
from attunement.store.types import utcnow

__all__ = [
    "INVITATION_LIFETIME",
    "accept_invitation",
    "add_measurement",
    "authenticate",
    "create_invitation",
    "create_person",
    "create_relationship",
    "create_reminder",
    "create_study",
    "enroll",
    "find_person_by_email",
    "leave_relationship",
    "link_interactions",
    "log_practice",
    "pending_interactions",
    "record_audit",
    "record_interaction",
    "renew_consent",
    "score_responses",
    "withdraw_consent",
]

INVITATION_LIFETIME = timedelta(days=7)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _invalid(message: str, problems: list[Problem], hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(message, hint=hint or "Correct the fields listed.", problems=problems)


def _aware(value: datetime, column: str, problems: list[Problem]) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        problems.append(Problem("time has no timezone", column=column, value=value.isoformat()))


# -- people ---------------------------------------------------------------------------------


def find_person_by_email(session: Session, email: str) -> Person | None:
    """The account with this email address, ignoring case and surrounding spaces."""
    return session.scalars(
        sa.select(Person).where(sa.func.lower(Person.email) == email.strip().lower())
    ).one_or_none()


def create_person(
    session: Session,
    email: str,
    display_name: str,
    password: str | None = None,
    *,
    is_researcher: bool = False,
    timezone: str = "UTC",
) -> Person:
    """A new account. The password (optional: imported and demo people have none) is hashed
    with argon2id. A taken email address raises ConflictError naming ``email``."""
    email = email.strip()
    display_name = display_name.strip()
    problems: list[Problem] = []
    if not _EMAIL.match(email) or len(email) > 320:
        problems.append(Problem("not an email address", column="email", value=email))
    if not 1 <= len(display_name) <= 100:
        problems.append(
            Problem("name missing or too long", column="display_name", allowed="1-100 characters")
        )
    if problems:
        raise _invalid("The account details are not valid.", problems)
    password_hash = hash_password(password) if password is not None else None
    if find_person_by_email(session, email) is not None:
        raise ConflictError(
            "An account with this email address exists.",
            hint="Sign in instead, or reset the password.",
            problems=[Problem("email address taken", column="email")],
        )
    person = Person(
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        is_researcher=is_researcher,
        timezone=timezone,
    )
    session.add(person)
    session.flush()
    return person


def authenticate(session: Session, email: str, password: str) -> Person:
    """The person with this email and password, or PermissionDeniedError (the same message for
    an unknown email and a wrong password, so neither is revealed).

    When the session has no transaction open, the look-up's own transaction ends before the
    slow argon2id check, so the check never holds SQLite's write lock; the caller commits the
    sign-in time as usual."""
    pending = session.new or session.dirty or session.deleted
    fresh = not session.in_transaction() and not pending
    person = find_person_by_email(session, email)
    stored_hash = person.password_hash if person is not None else None
    if fresh:
        session.commit()  # only the look-up's read was in it
    if person is None or not verify_password(stored_hash, password):
        raise PermissionDeniedError(
            "The email address or the password is wrong.",
            hint="Check both, or reset the password.",
        )
    person.last_sign_in_at = utcnow()
    return person


# -- relationships --------------------------------------------------------------------------


def create_relationship(
    session: Session,
    actor_id: int,
    type: RelationshipType | str,
    role: MembershipRole | str,
    *,
    name: str | None = None,
    mutual_reveal: bool = True,
    share_measurements_default: bool = False,
    share_interactions_default: bool = True,
) -> Relationship:
    """A new relationship with the actor as its first member in ``role``."""
    problems: list[Problem] = []
    kind = _enum(RelationshipType, type, "type", problems)
    own_role = _enum(MembershipRole, role, "role", problems)
    if name is not None and len(name) > 120:
        problems.append(Problem("name too long", column="name", allowed="up to 120 characters"))
    if problems or kind is None or own_role is None:
        raise _invalid("The relationship is not valid.", problems)
    relationship = Relationship(
        type=kind,
        name=name,
        created_by_id=actor_id,
        mutual_reveal=mutual_reveal,
        share_measurements_default=share_measurements_default,
        share_interactions_default=share_interactions_default,
    )
    session.add(relationship)
    session.flush()
    session.add(Membership(relationship_id=relationship.id, person_id=actor_id, role=own_role))
    session.flush()
    return relationship


def create_invitation(
    session: Session,
    actor_id: int,
    relationship_id: int,
    role: MembershipRole | str,
    *,
    email: str | None = None,
    lifetime: timedelta = INVITATION_LIFETIME,
) -> tuple[Invitation, str]:
    """An invitation into the relationship and its secret token (shown once, in the link;
    only its hash is stored)."""
    require_current_member(session, actor_id, relationship_id)
    problems: list[Problem] = []
    invited_role = _enum(MembershipRole, role, "role", problems)
    if invited_role is None:
        raise _invalid("The invitation is not valid.", problems)
    token, token_hash = new_token()
    now = utcnow()
    invitation = Invitation(
        relationship_id=relationship_id,
        invited_by_id=actor_id,
        token_hash=token_hash,
        email=email,
        role=invited_role,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def accept_invitation(session: Session, actor_id: int, token: str) -> Membership:
    """Join a relationship with an invitation token: single use, before it expires."""
    invitation = session.scalars(
        sa.select(Invitation).where(Invitation.token_hash == hash_token(token.strip()))
    ).one_or_none()
    if invitation is None:
        raise NotFoundError(
            "This invitation link is not valid.", hint="Ask for a new invitation link."
        )
    if invitation.used_at is not None:
        raise ConflictError(
            "This invitation has already been used.", hint="Ask for a new invitation link."
        )
    if invitation.expires_at <= utcnow():
        raise ConflictError("This invitation has expired.", hint="Ask for a new invitation link.")
    if current_membership(session, actor_id, invitation.relationship_id) is not None:
        raise ConflictError("You are already a member of this relationship.")
    # Mark it used in the same statement that checks it is unused: two devices accepting the
    # same link at once cannot both succeed.
    claimed = session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow(), used_by_id=actor_id)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise ConflictError("This invitation has already been used.")
    membership = Membership(
        relationship_id=invitation.relationship_id, person_id=actor_id, role=invitation.role
    )
    session.add(membership)
    session.flush()
    return membership


def leave_relationship(session: Session, actor_id: int, relationship_id: int) -> Membership:
    """End the actor's membership now; their own records stay theirs."""
    membership = require_current_member(session, actor_id, relationship_id)
    membership.left_at = utcnow()
    session.flush()
    return membership


# -- scoring --------------------------------------------------------------------------------


def score_responses(instrument_id: str, responses: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Validate item responses with the instrument and score them.

    Returns ``(instrument_version, scores)``; scores are plain JSON values (None for a score
    that cannot be computed from the answers given). Unknown columns and out-of-range answers
    raise InvalidInputError listing each one.
    """
    from attunement.instruments import load_instrument, score_record

    instrument = load_instrument(instrument_id)
    columns = {item.column for item in instrument.items}
    unknown = sorted(set(responses) - columns)
    if unknown:
        raise _invalid(
            f"Unknown items for {instrument.id}.",
            [
                Problem("no such item", column=name, allowed=", ".join(sorted(columns)))
                for name in unknown
            ],
        )
    scored = score_record(instrument, responses)  # plain Python: no DataFrame per record
    return instrument.version, {name: _json_value(value) for name, value in scored.items()}


def _json_value(value: Any) -> Any:
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None if pd.isna(value) else str(value)
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else number


_Scored = tuple[str, dict[str, Any]] | AttunementError


def _score_early(instrument_id: str, responses: Mapping[str, Any]) -> _Scored:
    """Score before the first query, so the scoring runs outside the transaction (on SQLite
    every transaction holds the only write lock); an invalid answer is kept and raised by
    :func:`_scored` where the checks before it would have raised first."""
    try:
        return score_responses(instrument_id, responses)
    except AttunementError as error:  # an unknown instrument or item, an invalid answer
        return error


def _scored(early: _Scored) -> tuple[str, dict[str, Any]]:
    if isinstance(early, AttunementError):
        raise early
    return early


def _clean_responses(responses: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in sorted(responses.items())}


# -- measurements, interactions, practices --------------------------------------------------


def add_measurement(
    session: Session,
    actor_id: int,
    instrument_id: str,
    responses: Mapping[str, Any],
    *,
    taken_at: datetime | None = None,
    relationship_id: int | None = None,
    about_person_id: int | None = None,
    study_id: int | None = None,
    shared: bool | None = None,
    source: RecordSource = RecordSource.APP,
) -> Measurement:
    """Store one administration of an instrument by the actor, scored now.

    About a relationship, the actor must be a current member, and ``about_person_id`` (if
    given) another current member. ``shared`` defaults to the relationship's setting.
    """
    early = _score_early(instrument_id, responses)
    taken_at = taken_at or utcnow()
    problems: list[Problem] = []
    _aware(taken_at, "taken_at", problems)
    relationship = None
    if relationship_id is not None:
        require_current_member(session, actor_id, relationship_id)
        relationship = session.get_one(Relationship, relationship_id)
        if about_person_id is not None and (
            about_person_id == actor_id
            or current_membership(session, about_person_id, relationship_id) is None
        ):
            problems.append(
                Problem("not another member of the relationship", column="about_person_id")
            )
    elif about_person_id is not None:
        problems.append(Problem("needs a relationship_id", column="about_person_id"))
    if problems:
        raise _invalid("The measurement is not valid.", problems)
    version, scores = _scored(early)
    measurement = Measurement(
        person_id=actor_id,
        relationship_id=relationship_id,
        about_person_id=about_person_id,
        study_id=study_id,
        instrument_id=instrument_id,
        instrument_version=version,
        taken_at=taken_at,
        responses=_clean_responses(responses),
        scores=scores,
        shared=shared
        if shared is not None
        else bool(relationship and relationship.share_measurements_default),
        source=source,
    )
    session.add(measurement)
    session.flush()
    return measurement


def record_interaction(
    session: Session,
    actor_id: int,
    relationship_id: int,
    responses: Mapping[str, Any],
    *,
    channel: Channel | str,
    occurred_at: datetime | None = None,
    duration_minutes: int | None = None,
    note: str | None = None,
    note_shared: bool = False,
    shared: bool | None = None,
    responds_to: int | None = None,
    study_id: int | None = None,
    source: RecordSource = RecordSource.APP,
) -> Interaction:
    """Store the actor's record of one interaction, scored with the ``interaction`` instrument.

    ``responds_to`` is another member's record of the same interaction (from
    :func:`pending_interactions`); both records are linked, which, under mutual reveal, makes
    each visible to the other person. The note is private unless ``note_shared``.
    """
    early = _score_early("interaction", responses)
    share_default = _interaction_share_default(session, actor_id, relationship_id)
    occurred_at = occurred_at or utcnow()
    problems: list[Problem] = []
    kind = _enum(Channel, channel, "channel", problems)
    _aware(occurred_at, "occurred_at", problems)
    if duration_minutes is not None and not 0 <= duration_minutes <= 1440:
        problems.append(
            Problem(
                "out of range",
                column="duration_minutes",
                value=duration_minutes,
                allowed="0 to 1440 minutes",
            )
        )
    if note is not None and len(note) > 10_000:
        problems.append(Problem("note too long", column="note", allowed="up to 10,000 characters"))
    if problems or kind is None:
        raise _invalid("The interaction record is not valid.", problems)
    version, scores = _scored(early)
    values: dict[str, Any] = {
        "person_id": actor_id,
        "relationship_id": relationship_id,
        "study_id": study_id,
        "occurred_at": occurred_at,
        "duration_minutes": duration_minutes,
        "channel": kind,
        "instrument_version": version,
        "responses": _clean_responses(responses),
        "scores": scores,
        "note": note,
        "note_shared": note_shared,
        "shared": share_default if shared is None else shared,
        "partner_record_id": None,
        "source": source,
        "created_at": utcnow(),
    }
    record = _insert_interaction(session, values)
    if responds_to is not None:
        link_interactions(session, actor_id, record.id, responds_to)
    return record


_SHARE_DEFAULT = (
    sa.select(Relationship.share_interactions_default)
    .join(Membership, Membership.relationship_id == Relationship.id)
    .where(
        Relationship.id == sa.bindparam("relationship_id"),
        Membership.person_id == sa.bindparam("person_id"),
        Membership.left_at.is_(None),
    )
)


def _interaction_share_default(session: Session, actor_id: int, relationship_id: int) -> bool:
    """The relationship's ``share_interactions_default`` when the actor is a current member
    (one plain query: this runs on every diary record); otherwise the error of
    :func:`require_current_member`."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # a plain query does not flush on its own
    found = (
        session.connection()
        .execute(_SHARE_DEFAULT, {"relationship_id": relationship_id, "person_id": actor_id})
        .first()
    )
    if found is None:
        require_current_member(session, actor_id, relationship_id)  # raises the right error
        raise NotFoundError(f"No relationship {relationship_id} of yours.")  # pragma: no cover
    return bool(found[0])


_INTERACTION_TABLE = cast(sa.Table, Interaction.__table__)
_INSERT_INTERACTION = sa.insert(_INTERACTION_TABLE).returning(_INTERACTION_TABLE.c.id)


def _insert_interaction(session: Session, values: dict[str, Any]) -> Interaction:
    """INSERT one interaction row with every column given, and return it as an object of
    ``session`` as if it had been loaded (the unit of work's bookkeeping for one new object
    costs more than the insert itself on the hot path of the diary)."""
    record = Interaction(**values)
    check_lengths([record])
    try:
        new_id = session.connection().execute(_INSERT_INTERACTION, values).scalar_one()
    except sa.exc.IntegrityError as error:
        raise integrity_error_to_domain(error) from error
    record.id = int(new_id)
    make_transient_to_detached(record)  # no pending changes: it is what the row holds
    session.add(record)
    return record


def link_interactions(session: Session, actor_id: int, own_id: int, other_id: int) -> None:
    """Link the actor's record and another member's record of the same interaction."""
    own = require_own_interaction(session, actor_id, own_id)
    other = session.get(Interaction, other_id)
    if (
        other is None
        or other.relationship_id != own.relationship_id
        or other.person_id == actor_id
        or not other.shared
    ):
        raise NotFoundError(
            f"No shared interaction record {other_id} of another member of this relationship.",
            problems=[Problem("no such record", column="responds_to", value=other_id)],
        )
    if current_membership(session, other.person_id, other.relationship_id) is None:
        raise ConflictError("The other person has left this relationship.")
    if other.partner_record_id is not None or own.partner_record_id is not None:
        raise ConflictError(
            "This interaction already has both views recorded.",
            problems=[Problem("already linked", column="responds_to", value=other_id)],
        )
    own.partner_record_id = other.id
    other.partner_record_id = own.id
    session.flush()


def pending_interactions(
    session: Session, actor_id: int, relationship_id: int
) -> list[tuple[int, datetime, str, int]]:
    """Other members' shared interaction records the actor has not answered yet, as
    ``(id, occurred_at, channel, person_id)`` only: enough to ask "add your view?" without
    revealing the ratings before the actor has recorded theirs."""
    require_current_member(session, actor_id, relationship_id)
    rows = session.execute(
        sa.select(
            Interaction.id, Interaction.occurred_at, Interaction.channel, Interaction.person_id
        )
        .where(
            Interaction.relationship_id == relationship_id,
            Interaction.person_id != actor_id,
            Interaction.shared.is_(True),
            Interaction.partner_record_id.is_(None),
        )
        .order_by(Interaction.occurred_at)
    )
    return [(row[0], row[1], str(row[2]), row[3]) for row in rows]


def log_practice(
    session: Session,
    actor_id: int,
    practice: str,
    *,
    done_at: datetime | None = None,
    relationship_id: int | None = None,
    note: str | None = None,
    shared: bool = False,
) -> PracticeLog:
    """Store that the actor did a practice (appreciation, a check-in, ...)."""
    if relationship_id is not None:
        require_current_member(session, actor_id, relationship_id)
    done_at = done_at or utcnow()
    problems: list[Problem] = []
    _aware(done_at, "done_at", problems)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", practice):
        problems.append(
            Problem("not a practice name", column="practice", value=practice, allowed="snake_case")
        )
    if problems:
        raise _invalid("The practice entry is not valid.", problems)
    entry = PracticeLog(
        person_id=actor_id,
        relationship_id=relationship_id,
        practice=practice,
        done_at=done_at,
        note=note,
        shared=shared,
    )
    session.add(entry)
    session.flush()
    return entry


def create_reminder(
    session: Session,
    actor_id: int,
    what: str,
    *,
    frequency: ReminderFrequency | str,
    time_of_day: time,
    weekdays: str | None = None,
    every_days: int = 1,
    timezone: str = "UTC",
    by_email: bool = False,
    relationship_id: int | None = None,
    study_id: int | None = None,
) -> tuple[ReminderSchedule, str]:
    """A reminder schedule and the secret token of its iCalendar feed (shown once).

    A daily reminder with ``every_days`` above 1 fires every that many days, counted from
    today in ``timezone``."""
    from attunement.practices.reminders import every_days_problems

    if relationship_id is not None:
        require_current_member(session, actor_id, relationship_id)
    problems: list[Problem] = []
    kind = _enum(ReminderFrequency, frequency, "frequency", problems)
    if weekdays is not None:
        days = [day.strip().upper() for day in weekdays.split(",") if day.strip()]
        if not days or any(day not in _WEEKDAYS for day in days):
            problems.append(
                Problem("not weekday codes", column="weekdays", value=weekdays, allowed="MO..SU")
            )
        weekdays = ",".join(days)
    if kind is ReminderFrequency.WEEKLY and not weekdays:
        problems.append(Problem("a weekly reminder needs weekdays", column="weekdays"))
    problems.extend(every_days_problems(str(kind or frequency), every_days))
    if problems or kind is None:
        raise _invalid("The reminder is not valid.", problems)
    token, token_hash = new_token()
    reminder = ReminderSchedule(
        person_id=actor_id,
        relationship_id=relationship_id,
        study_id=study_id,
        what=what,
        frequency=kind,
        weekdays=weekdays,
        every_days=every_days,
        time_of_day=time_of_day,
        timezone=timezone,
        by_email=by_email,
        feed_token_hash=token_hash,
    )
    session.add(reminder)
    session.flush()
    return reminder, token


# -- research -------------------------------------------------------------------------------


def create_study(
    session: Session,
    actor_id: int,
    title: str,
    *,
    consent_text: str,
    consent_version: str,
    instruments: list[str],
    schedule: Mapping[str, Any] | None = None,
    description: str = "",
    randomize_closeness: bool = False,
) -> Study:
    """A new study owned by the actor, who must be a researcher; instruments must exist."""
    from attunement.instruments import instrument_ids

    owner = session.get(Person, actor_id)
    if owner is None or not owner.is_researcher:
        raise PermissionDeniedError(
            "Only researcher accounts can create studies.",
            hint="Ask the administrator to mark your account as a researcher.",
        )
    known = set(instrument_ids())
    problems = [
        Problem(
            "unknown instrument", column="instruments", value=name, allowed=", ".join(sorted(known))
        )
        for name in instruments
        if name not in known
    ]
    if not title.strip():
        problems.append(Problem("title missing", column="title"))
    if not consent_text.strip():
        problems.append(Problem("consent text missing", column="consent_text"))
    if not consent_version.strip():
        problems.append(Problem("consent version missing", column="consent_version"))
    if problems:
        raise _invalid("The study is not valid.", problems)
    study = Study(
        owner_id=actor_id,
        title=title.strip(),
        description=description,
        instruments=list(instruments),
        schedule=dict(schedule or {}),
        consent_text=consent_text,
        consent_version=consent_version.strip(),
        enrollment_code=_unused_code(session, Study.enrollment_code, 8),
        randomize_closeness=randomize_closeness,
    )
    session.add(study)
    session.flush()
    return study


def enroll(session: Session, actor_id: int, enrollment_code: str, consent_version: str) -> Consent:
    """Consent to a study (by its enrollment code) at the consent text version shown."""
    study = session.scalars(
        sa.select(Study).where(Study.enrollment_code == normalize_code(enrollment_code))
    ).one_or_none()
    if study is None or study.closed_at is not None:
        raise NotFoundError("No open study with this enrollment code.")
    if consent_version != study.consent_version:
        raise ConflictError(
            "The consent text has changed since it was shown.",
            hint="Read the current consent text and agree again.",
            problems=[
                Problem(
                    "stale version",
                    column="consent_version",
                    value=consent_version,
                    allowed=study.consent_version,
                )
            ],
        )
    in_force = session.scalars(
        sa.select(Consent).where(
            Consent.study_id == study.id,
            Consent.person_id == actor_id,
            Consent.withdrawn_at.is_(None),
        )
    ).one_or_none()
    if in_force is not None:
        raise ConflictError("You are already taking part in this study.")
    consent = Consent(
        study_id=study.id,
        person_id=actor_id,
        consent_version=consent_version,
        participant_code=_unused_code(
            session, Consent.participant_code, 8, Consent.study_id == study.id, prefix="P"
        ),
    )
    session.add(consent)
    session.flush()
    return consent


def _consent_in_force(session: Session, actor_id: int, study_id: int) -> Consent:
    consent = session.scalars(
        sa.select(Consent).where(
            Consent.study_id == study_id,
            Consent.person_id == actor_id,
            Consent.withdrawn_at.is_(None),
        )
    ).one_or_none()
    if consent is None:
        raise NotFoundError("You are not taking part in this study.")
    return consent


def remind_of_study(
    session: Session,
    actor_id: int,
    study_id: int,
    *,
    time_of_day: time,
    timezone: str = "UTC",
    by_email: bool = True,
    now: datetime | None = None,
) -> list[ReminderSchedule]:
    """Reminders of the study's repeating instruments for a participant who asked for them:
    daily for those due every day, weekly (on today's weekday in ``timezone``) for those due
    every 7 days, and every n days from today for those due every n days, so one falls near
    the start of each of the participant's windows (``schedule_windows``). Instruments to
    answer once get none. Replaces the participant's earlier reminders of this study, and ends
    with their consent (:func:`withdraw_consent`)."""
    _consent_in_force(session, actor_id, study_id)
    study = session.get_one(Study, study_id)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(
            "The reminder is not valid.",
            [Problem("unknown time zone", column="timezone", value=timezone)],
        ) from None
    _forget_study_reminders(session, actor_id, study_id)
    weekday = _WEEKDAYS[(now or utcnow()).astimezone(zone).weekday()]
    created = []
    for instrument_id in study.instruments:
        every = dict(study.schedule.get(instrument_id) or {}).get("every_days")
        if not isinstance(every, int):
            continue
        weekly = every == 7
        reminder, _token = create_reminder(
            session,
            actor_id,
            instrument_id,
            frequency=ReminderFrequency.WEEKLY if weekly else ReminderFrequency.DAILY,
            weekdays=weekday if weekly else None,
            every_days=1 if weekly else every,
            time_of_day=time_of_day,
            timezone=timezone,
            by_email=by_email,
            study_id=study_id,
        )
        created.append(reminder)
    return created


def _forget_study_reminders(session: Session, actor_id: int, study_id: int) -> None:
    session.execute(
        sa.delete(ReminderSchedule).where(
            ReminderSchedule.person_id == actor_id, ReminderSchedule.study_id == study_id
        )
    )


def withdraw_consent(session: Session, actor_id: int, study_id: int) -> Consent:
    """Withdraw the actor's consent: from now on they are left out of the study's data, and
    the study's reminders (:func:`remind_of_study`) stop."""
    consent = _consent_in_force(session, actor_id, study_id)
    _forget_study_reminders(session, actor_id, study_id)
    consent.withdrawn_at = utcnow()
    record_audit(session, None, AuditAction.CONSENT_WITHDRAWN, study_id=study_id)
    session.flush()
    return consent


def renew_consent(session: Session, actor_id: int, study_id: int, consent_version: str) -> Consent:
    """The actor agrees to the study's current consent text, ``consent_version`` being the
    version they read (if the team changed the text again meanwhile, ConflictError asks them to
    read the new one). Their participant code and the date they joined stay the same."""
    consent = _consent_in_force(session, actor_id, study_id)
    study = session.get_one(Study, study_id)
    if consent_version.strip() != study.consent_version:
        raise ConflictError(
            "The consent text has changed again since you opened it.",
            hint="Read the text shown now; agree to it only if you want to.",
            problems=[
                Problem(
                    "not the current version",
                    column="consent_version",
                    value=consent_version,
                    allowed=study.consent_version,
                )
            ],
        )
    if consent.consent_version != study.consent_version:
        record_audit(
            session,
            None,
            AuditAction.CONSENT_RENEWED,
            study_id=study_id,
            details={"from_version": consent.consent_version, "to_version": study.consent_version},
        )
        consent.consent_version = study.consent_version
        session.flush()
    return consent


def record_audit(
    session: Session,
    actor_id: int | None,
    action: AuditAction,
    *,
    study_id: int | None = None,
    relationship_id: int | None = None,
    row_count: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event (ids, counts and formats only: never names or free text)."""
    event = AuditEvent(
        at=datetime.now(UTC),
        actor_id=actor_id,
        action=action,
        study_id=study_id,
        relationship_id=relationship_id,
        row_count=row_count,
        details=dict(details or {}),
    )
    session.add(event)
    return event


# -- helpers --------------------------------------------------------------------------------


_E = TypeVar("_E", RelationshipType, MembershipRole, Channel, ReminderFrequency)


def _enum(kind: type[_E], value: _E | str, column: str, problems: list[Problem]) -> _E | None:
    try:
        return kind(value)
    except ValueError:
        problems.append(
            Problem(
                "not an allowed value",
                column=column,
                value=value,
                allowed=", ".join(member.value for member in kind),
            )
        )
        return None


def _unused_code(
    session: Session,
    column: Any,
    length: int,
    *where: sa.ColumnElement[bool],
    prefix: str = "",
) -> str:
    for _ in range(20):
        code = prefix + new_code(length)
        taken = session.scalar(sa.select(sa.func.count()).where(column == code, *where))
        if not taken:
            return code
    raise ConflictError("Could not find an unused code; try again.")
