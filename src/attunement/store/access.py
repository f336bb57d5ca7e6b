"""Who may read and change what: the privacy rules, enforced in the data layer.

The rules (docs/privacy.md):

1. A person reads and changes their own records, always (also after leaving a relationship).
2. A *current* member of a relationship reads another member's record of that relationship only
   when the record is ``shared``; an interaction record additionally needs, where the
   relationship uses *mutual reveal*, the reader's own record of the same interaction (linked
   through ``partner_record_id``). An interaction's note is shown to others only when
   ``note_shared``. Nobody changes another person's record.
3. A former member (``left_at`` set) loses access to the others' records; a stranger gets
   :class:`~attunement.errors.NotFoundError` (the record's existence is not revealed).
4. A researcher reads pseudonymized data of the participants of their *own* study whose consent
   is in force; a withdrawn participant is left out of every later read or export; notes
   (free text) are never part of research data. Researcher reads are audited.

Denials raise :class:`~attunement.errors.NotFoundError` when the actor may not know the
resource exists, and :class:`~attunement.errors.PermissionDeniedError` when they may know it
but not do what they asked. Listing functions apply the same rules inside the SQL query, so
lists and single reads cannot disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from attunement.errors import NotFoundError, PermissionDeniedError
from attunement.store.engine import transaction_facts
from attunement.store.models import (
    ClosenessSession,
    Consent,
    Interaction,
    Measurement,
    Membership,
    PracticeLog,
    Relationship,
    ReminderSchedule,
    Study,
)

__all__ = [
    "InteractionMeans",
    "InteractionPoint",
    "InteractionView",
    "MeasurementView",
    "PracticeView",
    "can_read_interaction",
    "can_read_measurement",
    "current_membership",
    "interaction_view",
    "participants_in_force",
    "read_interaction",
    "read_measurement",
    "readable_interaction_means",
    "readable_interaction_points",
    "readable_interactions",
    "readable_measurements",
    "readable_practice_logs",
    "require_closeness_participant",
    "require_current_member",
    "require_own_interaction",
    "require_own_measurement",
    "require_own_reminder",
    "require_study_owner",
]


# -- views: what a reader gets (never the ORM object of someone else's record) ---------------


@dataclass(frozen=True, slots=True)
class InteractionView:
    """An interaction record as the reader may see it; ``note`` is None when hidden."""

    id: int
    person_id: int
    relationship_id: int
    occurred_at: datetime
    duration_minutes: int | None
    channel: str
    instrument_version: str
    responses: dict[str, Any]
    scores: dict[str, Any]
    note: str | None
    note_shared: bool
    shared: bool
    partner_record_id: int | None
    is_own: bool


@dataclass(frozen=True, slots=True)
class MeasurementView:
    """A measurement as the reader may see it."""

    id: int
    person_id: int
    relationship_id: int | None
    about_person_id: int | None
    instrument_id: str
    instrument_version: str
    taken_at: datetime
    responses: dict[str, Any]
    scores: dict[str, Any]
    shared: bool
    is_own: bool


@dataclass(frozen=True, slots=True)
class PracticeView:
    """A practice log entry as the reader may see it."""

    id: int
    person_id: int
    relationship_id: int | None
    practice: str
    done_at: datetime
    note: str | None
    shared: bool
    is_own: bool


def interaction_view(record: Interaction, actor_id: int) -> InteractionView:
    """The view of ``record`` for ``actor_id`` (call only after an access check)."""
    own = record.person_id == actor_id
    return InteractionView(
        id=record.id,
        person_id=record.person_id,
        relationship_id=record.relationship_id,
        occurred_at=record.occurred_at,
        duration_minutes=record.duration_minutes,
        channel=str(record.channel),
        instrument_version=record.instrument_version,
        responses=dict(record.responses),
        scores=dict(record.scores),
        note=record.note if own or record.note_shared else None,
        note_shared=record.note_shared,
        shared=record.shared,
        partner_record_id=record.partner_record_id,
        is_own=own,
    )


def _measurement_view(record: Measurement, actor_id: int) -> MeasurementView:
    return MeasurementView(
        id=record.id,
        person_id=record.person_id,
        relationship_id=record.relationship_id,
        about_person_id=record.about_person_id,
        instrument_id=record.instrument_id,
        instrument_version=record.instrument_version,
        taken_at=record.taken_at,
        responses=dict(record.responses),
        scores=dict(record.scores),
        shared=record.shared,
        is_own=record.person_id == actor_id,
    )


def _practice_view(record: PracticeLog, actor_id: int) -> PracticeView:
    return PracticeView(
        id=record.id,
        person_id=record.person_id,
        relationship_id=record.relationship_id,
        practice=record.practice,
        done_at=record.done_at,
        note=record.note,
        shared=record.shared,
        is_own=record.person_id == actor_id,
    )


# -- relationships --------------------------------------------------------------------------


# Built once: these checks run on almost every request.
_CURRENT_MEMBERSHIP = sa.select(Membership).where(
    Membership.person_id == sa.bindparam("actor_id"),
    Membership.relationship_id == sa.bindparam("relationship_id"),
    Membership.left_at.is_(None),
)
_EVER_MEMBER = sa.select(sa.func.count(Membership.id)).where(
    Membership.person_id == sa.bindparam("actor_id"),
    Membership.relationship_id == sa.bindparam("relationship_id"),
)


def current_membership(session: Session, actor_id: int, relationship_id: int) -> Membership | None:
    """The actor's current membership of the relationship, or None."""
    membership = session.scalars(
        _CURRENT_MEMBERSHIP, {"actor_id": actor_id, "relationship_id": relationship_id}
    ).one_or_none()
    if membership is not None:
        _known_members(session).add((actor_id, relationship_id))
    return membership


def _known_members(session: Session) -> set[tuple[int, int]]:
    """(actor, relationship) pairs this transaction has already found to be or have been a
    member: a page asks several access functions in turn, each of which checks, and on
    PostgreSQL every check is a round trip. Forgotten when the transaction ends."""
    known: set[tuple[int, int]] = transaction_facts(session).setdefault("known_members", set())
    return known


def require_current_member(session: Session, actor_id: int, relationship_id: int) -> Membership:
    """The actor's current membership; NotFoundError for a stranger, PermissionDeniedError for
    a former member."""
    membership = current_membership(session, actor_id, relationship_id)
    if membership is not None:
        return membership
    was_member = session.scalar(
        _EVER_MEMBER, {"actor_id": actor_id, "relationship_id": relationship_id}
    )
    if was_member:
        raise PermissionDeniedError(
            "You have left this relationship, so its shared records are no longer visible to you.",
            hint="Your own records stay yours; ask to be invited again to rejoin.",
        )
    raise NotFoundError(
        f"No relationship {relationship_id} of yours.",
        hint="Check the link, or ask the other person for a new invitation.",
    )


def _require_member_now_or_before(session: Session, actor_id: int, relationship_id: int) -> None:
    """NotFoundError unless the actor is or was a member (a former member still reads their
    own records)."""
    known = _known_members(session)
    if (actor_id, relationship_id) in known:
        return
    ever = session.scalar(_EVER_MEMBER, {"actor_id": actor_id, "relationship_id": relationship_id})
    if not ever:
        raise NotFoundError(f"No relationship {relationship_id} of yours.")
    known.add((actor_id, relationship_id))


def _is_current_member_clause(
    actor_id: int | sa.BindParameter[int], relationship_id: Any
) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Membership.person_id == actor_id,
        Membership.relationship_id == relationship_id,
        Membership.left_at.is_(None),
    )


# -- interactions ---------------------------------------------------------------------------


def _interaction_visible_clause(actor_id: int | sa.BindParameter[int]) -> sa.ColumnElement[bool]:
    own_record = aliased(Interaction)
    answered = sa.exists().where(
        own_record.id == Interaction.partner_record_id, own_record.person_id == actor_id
    )
    mutual_reveal = (
        sa.select(Relationship.mutual_reveal)
        .where(Relationship.id == Interaction.relationship_id)
        .scalar_subquery()
    )
    return sa.or_(
        Interaction.person_id == actor_id,
        sa.and_(
            Interaction.shared.is_(True),
            _is_current_member_clause(actor_id, Interaction.relationship_id),
            sa.or_(mutual_reveal.is_(False), answered),
        ),
    )


def can_read_interaction(session: Session, actor_id: int, record: Interaction) -> bool:
    """Whether the actor may read ``record`` (rules 1-3)."""
    if record.person_id == actor_id:
        return True
    return bool(
        session.scalar(
            sa.select(sa.literal(True)).where(
                Interaction.id == record.id, _interaction_visible_clause(actor_id)
            )
        )
    )


def read_interaction(session: Session, actor_id: int, interaction_id: int) -> InteractionView:
    """One interaction record as the actor may see it, or a denial (see the module docs)."""
    record = session.get(Interaction, interaction_id)
    if record is None:
        raise NotFoundError(f"No interaction record {interaction_id}.")
    if can_read_interaction(session, actor_id, record):
        return interaction_view(record, actor_id)
    membership = current_membership(session, actor_id, record.relationship_id)
    if membership is None:
        require_current_member(session, actor_id, record.relationship_id)  # raises
    if not record.shared:
        raise NotFoundError(f"No interaction record {interaction_id}.")
    raise PermissionDeniedError(
        "This relationship uses mutual reveal: the other person's view of this interaction "
        "appears once you have recorded yours.",
        hint="Record your own view of the same interaction first.",
    )


def readable_interactions(
    session: Session,
    actor_id: int,
    relationship_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[InteractionView]:
    """The interaction records of a relationship the actor may read, oldest first.

    A former member gets only their own records; a stranger gets NotFoundError.
    """
    _require_member_now_or_before(session, actor_id, relationship_id)
    query = sa.select(Interaction).where(
        Interaction.relationship_id == relationship_id, _interaction_visible_clause(actor_id)
    )
    if since is not None:
        query = query.where(Interaction.occurred_at >= since)
    if until is not None:
        query = query.where(Interaction.occurred_at < until)
    records = session.scalars(query.order_by(Interaction.occurred_at, Interaction.id))
    return [interaction_view(record, actor_id) for record in records]


@dataclass(frozen=True, slots=True)
class InteractionMeans:
    """One person's readable interaction records of a relationship, summed up in the database:
    how many, and the mean of each score (``None`` where no record has it)."""

    person_id: int
    records: int
    means: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class InteractionPoint:
    """The scores of one readable interaction record (``None`` where it has none)."""

    person_id: int
    occurred_at: datetime
    scores: dict[str, float | None]


def _score_column(key: str) -> sa.ColumnElement[float]:
    column: sa.ColumnElement[float] = Interaction.scores[key].as_float()
    return column


# These statements are built once per set of score keys, with the actor and the relationship
# as parameters: building and fingerprinting a statement costs more than running it.
_ACTOR = sa.bindparam("actor_id", type_=sa.Integer)
_RELATIONSHIP = sa.bindparam("relationship_id", type_=sa.Integer)


@functools.lru_cache(maxsize=32)
def _means_statement(keys: tuple[str, ...]) -> sa.Executable:
    return (
        sa.select(
            Interaction.person_id,
            sa.func.count(Interaction.id),
            *(sa.func.avg(_score_column(key)) for key in keys),
        )
        .where(Interaction.relationship_id == _RELATIONSHIP, _interaction_visible_clause(_ACTOR))
        .group_by(Interaction.person_id)
        .order_by(Interaction.person_id)
    )


@functools.lru_cache(maxsize=32)
def _points_statement(keys: tuple[str, ...]) -> sa.Executable:
    return (
        sa.select(
            Interaction.person_id,
            Interaction.occurred_at,
            *(_score_column(key) for key in keys),
        )
        .where(Interaction.relationship_id == _RELATIONSHIP, _interaction_visible_clause(_ACTOR))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(sa.bindparam("latest", type_=sa.Integer))
    )


def _scores(keys: tuple[str, ...], values: Sequence[Any]) -> dict[str, float | None]:
    return {
        key: None if value is None else float(value)
        for key, value in zip(keys, values, strict=True)
    }


def readable_interaction_means(
    session: Session, actor_id: int, relationship_id: int, score_keys: Sequence[str]
) -> list[InteractionMeans]:
    """Per person, by person id: the number of readable interaction records of the
    relationship and the mean of each of ``score_keys``, computed by the database (the same
    rules as :func:`readable_interactions`, without loading a record)."""
    _require_member_now_or_before(session, actor_id, relationship_id)
    keys = tuple(score_keys)
    rows = session.execute(
        _means_statement(keys), {"actor_id": actor_id, "relationship_id": relationship_id}
    )
    return [
        InteractionMeans(person_id=int(row[0]), records=int(row[1]), means=_scores(keys, row[2:]))
        for row in rows
    ]


def readable_interaction_points(
    session: Session,
    actor_id: int,
    relationship_id: int,
    score_keys: Sequence[str],
    *,
    latest: int,
) -> list[InteractionPoint]:
    """The scores of the ``latest`` newest readable interaction records of the relationship,
    oldest first (the rules of :func:`readable_interactions`; only the scores are read)."""
    _require_member_now_or_before(session, actor_id, relationship_id)
    keys = tuple(score_keys)
    rows = session.execute(
        _points_statement(keys),
        {"actor_id": actor_id, "relationship_id": relationship_id, "latest": latest},
    )
    points = [
        InteractionPoint(person_id=int(row[0]), occurred_at=row[1], scores=_scores(keys, row[2:]))
        for row in rows
    ]
    points.reverse()
    return points


def require_own_interaction(session: Session, actor_id: int, interaction_id: int) -> Interaction:
    """The actor's own interaction record, to change or delete it."""
    record = session.get(Interaction, interaction_id)
    if record is None or not can_read_interaction(session, actor_id, record):
        raise NotFoundError(f"No interaction record {interaction_id}.")
    if record.person_id != actor_id:
        raise PermissionDeniedError(
            "Only the person who recorded an interaction can change or delete it."
        )
    return record


# -- measurements and practices -------------------------------------------------------------


def _shared_in_current_relationship(
    actor_id: int, person_id: Any, relationship_id: Any, shared: Any
) -> sa.ColumnElement[bool]:
    return sa.or_(
        person_id == actor_id,
        sa.and_(
            shared.is_(True),
            relationship_id.is_not(None),
            _is_current_member_clause(actor_id, relationship_id),
        ),
    )


def can_read_measurement(session: Session, actor_id: int, record: Measurement) -> bool:
    """Whether the actor may read ``record``: their own, or shared in a relationship of which
    they are a current member."""
    if record.person_id == actor_id:
        return True
    if not record.shared or record.relationship_id is None:
        return False
    return current_membership(session, actor_id, record.relationship_id) is not None


def read_measurement(session: Session, actor_id: int, measurement_id: int) -> MeasurementView:
    """One measurement as the actor may see it, or NotFoundError / PermissionDeniedError."""
    record = session.get(Measurement, measurement_id)
    if record is None:
        raise NotFoundError(f"No measurement {measurement_id}.")
    if can_read_measurement(session, actor_id, record):
        return _measurement_view(record, actor_id)
    if record.relationship_id is not None and record.shared:
        require_current_member(session, actor_id, record.relationship_id)  # raises
    raise NotFoundError(f"No measurement {measurement_id}.")


def readable_measurements(
    session: Session,
    actor_id: int,
    *,
    relationship_id: int | None = None,
    instrument_id: str | None = None,
) -> list[MeasurementView]:
    """Measurements the actor may read, oldest first, optionally of one relationship or
    instrument. For a relationship, a stranger gets NotFoundError."""
    query = sa.select(Measurement).where(
        _shared_in_current_relationship(
            actor_id, Measurement.person_id, Measurement.relationship_id, Measurement.shared
        )
    )
    if relationship_id is not None:
        _require_member_now_or_before(session, actor_id, relationship_id)
        query = query.where(Measurement.relationship_id == relationship_id)
    if instrument_id is not None:
        query = query.where(Measurement.instrument_id == instrument_id)
    records = session.scalars(query.order_by(Measurement.taken_at, Measurement.id))
    return [_measurement_view(record, actor_id) for record in records]


def require_own_measurement(session: Session, actor_id: int, measurement_id: int) -> Measurement:
    """The actor's own measurement, to change or delete it."""
    record = session.get(Measurement, measurement_id)
    if record is None or not can_read_measurement(session, actor_id, record):
        raise NotFoundError(f"No measurement {measurement_id}.")
    if record.person_id != actor_id:
        raise PermissionDeniedError("Only the person who answered can change or delete it.")
    return record


def readable_practice_logs(
    session: Session, actor_id: int, *, relationship_id: int | None = None
) -> list[PracticeView]:
    """Practice log entries the actor may read (own, or shared in a current relationship)."""
    query = sa.select(PracticeLog).where(
        _shared_in_current_relationship(
            actor_id, PracticeLog.person_id, PracticeLog.relationship_id, PracticeLog.shared
        )
    )
    if relationship_id is not None:
        query = query.where(PracticeLog.relationship_id == relationship_id)
    records = session.scalars(query.order_by(PracticeLog.done_at, PracticeLog.id))
    return [_practice_view(record, actor_id) for record in records]


# -- reminders, live sessions, studies ------------------------------------------------------


def require_own_reminder(session: Session, actor_id: int, reminder_id: int) -> ReminderSchedule:
    """The actor's own reminder schedule (nobody else's exists for them)."""
    reminder = session.get(ReminderSchedule, reminder_id)
    if reminder is None or reminder.person_id != actor_id:
        raise NotFoundError(f"No reminder {reminder_id}.")
    return reminder


def require_closeness_participant(
    session: Session, actor_id: int, session_id: int
) -> ClosenessSession:
    """A 36 Questions session the actor takes part in."""
    live = session.get(ClosenessSession, session_id)
    if live is None or actor_id not in (live.person_a_id, live.person_b_id):
        raise NotFoundError(f"No 36 Questions session {session_id} of yours.")
    return live


def require_study_owner(session: Session, actor_id: int, study_id: int) -> Study:
    """A study the actor owns (only its researcher reads its data)."""
    study = session.get(Study, study_id)
    if study is None:
        raise NotFoundError(f"No study {study_id}.")
    if study.owner_id != actor_id:
        raise PermissionDeniedError(
            "Only the researcher who owns a study can read or export its data."
        )
    return study


def participants_in_force(session: Session, actor_id: int, study_id: int) -> list[Consent]:
    """Consents in force of the actor's own study, by participant code (rule 4)."""
    require_study_owner(session, actor_id, study_id)
    return list(
        session.scalars(
            sa.select(Consent)
            .where(Consent.study_id == study_id, Consent.withdrawn_at.is_(None))
            .order_by(Consent.participant_code)
        )
    )
