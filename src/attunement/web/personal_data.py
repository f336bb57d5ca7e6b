"""A person's own data: everything they recorded, to download or to delete.

:func:`personal_data` gathers everything stored that is linked to the person: their account,
relationships and memberships, check-ins, diary records, practice log, reminders, consents,
kept chat summaries, the 36 Questions sessions they took part in (with their own IOS answers
and the questions they read aloud), invitations they sent or accepted, studies they own and
the audit events they caused. Nothing another person recorded, shared or not, is included:
another member's records (an EIS answered *about* this person, the other seat's IOS answers)
are theirs to export. :data:`PERSON_LINKS` names, for every column that refers to a person,
where the export holds it (a test checks that no such column is left out).
:func:`delete_account` erases the account and everything that identifies the person, as the
store's erasure does.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from attunement.store.engine import StoreSession
from attunement.store.erasure import erase_person
from attunement.store.models import (
    AuditEvent,
    ClosenessQuestion,
    ClosenessSession,
    Consent,
    Interaction,
    Invitation,
    KeptChatSummary,
    Measurement,
    Membership,
    Person,
    PracticeLog,
    Relationship,
    ReminderSchedule,
    Study,
)

__all__ = ["PERSON_LINKS", "delete_account", "personal_data"]

_SECRET_COLUMNS = {"password_hash", "feed_token_hash", "token_hash", "join_code"}

#: Every ``table.column`` that refers to a person: the export section holding the rows where it
#: names the person, or why it is left out (``None`` as the section).
PERSON_LINKS: dict[str, tuple[str | None, str]] = {
    "membership.person_id": ("memberships", "their memberships"),
    "relationship.created_by_id": ("relationships", "relationships they created"),
    "invitation.invited_by_id": ("invitations", "invitations they sent"),
    "invitation.used_by_id": ("invitations", "invitations they accepted"),
    "study.owner_id": ("studies_owned", "studies they own as a researcher"),
    "consent.person_id": ("consents", "their consents"),
    "measurement.person_id": ("measurements", "their check-ins"),
    "measurement.about_person_id": (
        None,
        "another person's answers about them belong to that person (in their export)",
    ),
    "interaction.person_id": ("interactions", "their diary records"),
    "closeness_session.person_a_id": ("closeness_sessions", "36 Questions sessions, seat a"),
    "closeness_session.person_b_id": ("closeness_sessions", "36 Questions sessions, seat b"),
    "closeness_session.first_reader_id": ("closeness_sessions", "who read first"),
    "closeness_question.reader_id": ("closeness_sessions", "questions_you_read of each session"),
    "practice_log.person_id": ("practice_log", "their practice log"),
    "kept_chat_summary.person_id": ("kept_chat_summaries", "chat summaries they kept"),
    "reminder_schedule.person_id": ("reminders", "their reminders"),
    "audit_event.actor_id": ("audit_events", "exports, imports and erasures they caused"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, time)):
        return value.isoformat()
    return value


def _row(record: DeclarativeBase) -> dict[str, Any]:
    table = sa.inspect(type(record)).local_table
    return {
        column.name: _plain(getattr(record, column.key))
        for column in table.columns
        if column.name not in _SECRET_COLUMNS
    }


def personal_data(db: StoreSession, person: Person) -> dict[str, Any]:
    """Everything ``person`` recorded, as JSON-ready dicts grouped by kind."""
    memberships = db.scalars(sa.select(Membership).where(Membership.person_id == person.id)).all()
    relationship_ids = [m.relationship_id for m in memberships]
    relationships = db.scalars(
        sa.select(Relationship)
        .where(
            sa.or_(Relationship.id.in_(relationship_ids), Relationship.created_by_id == person.id)
        )
        .order_by(Relationship.id)
    ).all()

    def own(model: Any, time_column: Any) -> list[dict[str, Any]]:
        statement = sa.select(model).where(model.person_id == person.id).order_by(time_column)
        return [_row(record) for record in db.scalars(statement)]

    return {
        "format": "attunement personal data export, version 1",
        "person": _row(person),
        "relationships": [_row(r) for r in relationships],
        "memberships": [_row(m) for m in memberships],
        "measurements": own(Measurement, Measurement.taken_at),
        "interactions": own(Interaction, Interaction.occurred_at),
        "practice_log": own(PracticeLog, PracticeLog.done_at),
        "reminders": own(ReminderSchedule, ReminderSchedule.created_at),
        "consents": own(Consent, Consent.given_at),
        "kept_chat_summaries": own(KeptChatSummary, KeptChatSummary.created_at),
        "closeness_sessions": _closeness_sessions(db, person.id),
        "invitations": _rows(
            db,
            sa.select(Invitation)
            .where(
                sa.or_(Invitation.invited_by_id == person.id, Invitation.used_by_id == person.id)
            )
            .order_by(Invitation.id),
        ),
        "studies_owned": _rows(
            db, sa.select(Study).where(Study.owner_id == person.id).order_by(Study.id)
        ),
        "audit_events": _rows(
            db,
            sa.select(AuditEvent).where(AuditEvent.actor_id == person.id).order_by(AuditEvent.at),
        ),
    }


def _rows(db: StoreSession, statement: sa.Select[Any]) -> list[dict[str, Any]]:
    return [_row(record) for record in db.scalars(statement)]


def _closeness_sessions(db: StoreSession, person_id: int) -> list[dict[str, Any]]:
    """The 36 Questions sessions the person sat in: the session, their seat and their own IOS
    answers (not the other person's), and the questions they read aloud."""
    statement = (
        sa.select(ClosenessSession)
        .where(
            sa.or_(
                ClosenessSession.person_a_id == person_id,
                ClosenessSession.person_b_id == person_id,
            )
        )
        .order_by(ClosenessSession.created_at)
    )
    out = []
    for live in db.scalars(statement):
        seat = "a" if live.person_a_id == person_id else "b"
        read = db.scalars(
            sa.select(ClosenessQuestion)
            .where(
                ClosenessQuestion.session_id == live.id, ClosenessQuestion.reader_id == person_id
            )
            .order_by(ClosenessQuestion.set_number, ClosenessQuestion.question_number)
        )
        out.append(
            {
                "id": live.id,
                "relationship_id": live.relationship_id,
                "study_id": live.study_id,
                "condition": _plain(live.condition),
                "state": _plain(live.state),
                "your_seat": seat,
                "you_read_first": live.first_reader_id == person_id,
                "ios_before": getattr(live, f"ios_before_{seat}"),
                "ios_after": getattr(live, f"ios_after_{seat}"),
                "created_at": _plain(live.created_at),
                "started_at": _plain(live.started_at),
                "finished_at": _plain(live.finished_at),
                "questions_you_read": [
                    {
                        "set_number": q.set_number,
                        "question_number": q.question_number,
                        "shown_at": _plain(q.shown_at),
                        "answered_at": _plain(q.answered_at),
                    }
                    for q in read
                ],
            }
        )
    return out


def delete_account(db: StoreSession, person: Person) -> None:
    """Delete the account and the person's records (committed), through
    :func:`attunement.store.erasure.erase_person`: nothing that identifies them is kept; the
    other people's own records stay, unlinked. A researcher who still owns studies gets a
    :class:`~attunement.errors.ConflictError` saying what to do first."""
    erase_person(db, person.id, actor_id=person.id)
