"""Erasing a person (the right to be forgotten): nothing that identifies them is kept.

What :func:`erase_person` does, in one transaction:

- deletes the account (email, name, password hash, calendar token) and everything the person
  recorded: measurements, interaction records with their notes, practice logs, reminders,
  kept chat summaries, consents (so they leave every study and every later export),
  memberships and the unused invitations they sent;
- in the other people's records that *mention* them, keeps the other person's data and cuts
  the link: another member's record of an interaction they both recorded stays, unlinked
  (``partner_record_id`` emptied); a measurement *about* them (``about_person_id``) stays,
  about nobody; in a 36 Questions session their seat, their IOS ratings and the resumable live
  state are cleared (the other person's ratings and the timings stay, the questions they read
  aloud are read by nobody);
- empties every other column that still refers to them (who created a relationship, sent or
  accepted an invitation, caused an audit event), without relying on the database's
  ``ON DELETE SET NULL``;
- deletes a relationship that has no members left;
- keeps audit events but without them as actor (they never hold names or free text), and
  records one ``erasure`` event with counts only.

What it cannot do: other people's free-text notes are theirs and may mention the erased
person by name; they are not scanned or changed. Backups made before the erasure still hold
the data until they are deleted (see docs/privacy.md on keeping backups short-lived).

A researcher who owns studies cannot be erased until the studies are handed over or deleted
(their participants' data would lose its owner): :class:`~attunement.errors.ConflictError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from attunement.errors import ConflictError, NotFoundError
from attunement.store.models import (
    AuditAction,
    ClosenessQuestion,
    ClosenessSession,
    ClosenessState,
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
from attunement.store.records import record_audit

__all__ = ["ErasureReport", "erase_person"]


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed and unlinked (counts only)."""

    counts: dict[str, int]

    def describe(self) -> str:
        parts = ", ".join(f"{count} {name}" for name, count in self.counts.items() if count)
        return f"Erased the person: {parts or 'the account only'}."


def _count(session: Session, model: type, *where: sa.ColumnElement[bool]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def erase_person(session: Session, person_id: int, *, actor_id: int | None = None) -> ErasureReport:
    """Erase the person and everything that identifies them (see the module docs); commits."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFoundError(f"No person {person_id}.")
    owned = _count(session, Study, Study.owner_id == person_id)
    if owned:
        raise ConflictError(
            f"This person owns {owned} study(ies) and cannot be erased yet.",
            hint="Hand the studies over to another researcher or delete them first.",
        )
    own_interactions = sa.select(Interaction.id).where(Interaction.person_id == person_id)
    counts = {
        "measurements": _count(session, Measurement, Measurement.person_id == person_id),
        "interaction records": _count(session, Interaction, Interaction.person_id == person_id),
        "practice logs": _count(session, PracticeLog, PracticeLog.person_id == person_id),
        "reminders": _count(session, ReminderSchedule, ReminderSchedule.person_id == person_id),
        "kept chat summaries": _count(
            session, KeptChatSummary, KeptChatSummary.person_id == person_id
        ),
        "consents": _count(session, Consent, Consent.person_id == person_id),
        "memberships": _count(session, Membership, Membership.person_id == person_id),
        "others' records unlinked": _count(
            session, Interaction, Interaction.partner_record_id.in_(own_interactions)
        ),
        "others' measurements about them": _count(
            session, Measurement, Measurement.about_person_id == person_id
        ),
    }
    relationship_ids = list(
        session.scalars(
            sa.select(Membership.relationship_id).where(Membership.person_id == person_id)
        )
    )
    _clear_closeness_seats(session, person_id)
    session.execute(
        sa.delete(Invitation).where(
            Invitation.invited_by_id == person_id, Invitation.used_at.is_(None)
        )
    )
    # Unlink first (portable: does not rely on ON DELETE SET NULL firing in every backend
    # for self-references), then delete the rows; the remaining references are SET NULL or
    # CASCADE foreign keys.
    session.execute(
        sa.update(Interaction)
        .where(Interaction.partner_record_id.in_(own_interactions))
        .values(partner_record_id=None)
    )
    session.execute(
        sa.update(ClosenessQuestion)
        .where(ClosenessQuestion.reader_id == person_id)
        .values(reader_id=None)
    )
    for model in (
        Measurement,
        Interaction,
        PracticeLog,
        ReminderSchedule,
        KeptChatSummary,
        Consent,
        Membership,
    ):
        session.execute(sa.delete(model).where(model.person_id == person_id))
    _unlink_remaining(session, person_id)
    session.execute(
        sa.update(Measurement)
        .where(Measurement.about_person_id == person_id)
        .values(about_person_id=None)
    )
    session.execute(sa.delete(Person).where(Person.id == person_id))
    emptied = 0
    for relationship_id in set(relationship_ids):
        if not _count(session, Membership, Membership.relationship_id == relationship_id):
            session.execute(sa.delete(Relationship).where(Relationship.id == relationship_id))
            emptied += 1
    counts["relationships left empty and deleted"] = emptied
    session.expunge_all()
    record_audit(
        session,
        None if actor_id == person_id else actor_id,
        AuditAction.ERASURE,
        row_count=sum(counts.values()),
        details={"counts": counts},
    )
    session.commit()
    return ErasureReport(counts)


def _unlink_remaining(session: Session, person_id: int) -> None:
    """Empty every nullable column still naming the person (created_by, invited_by, used_by,
    audit actor, ...), found from the schema so that a new link is not forgotten."""
    person_id_column = Person.__table__.c.id
    for table in Person.metadata.sorted_tables:
        for column in table.columns:
            if column.nullable and any(fk.column is person_id_column for fk in column.foreign_keys):
                session.execute(
                    sa.update(table).where(column == person_id).values({column.name: None})
                )


def _clear_closeness_seats(session: Session, person_id: int) -> None:
    sessions = session.scalars(
        sa.select(ClosenessSession).where(
            sa.or_(
                ClosenessSession.person_a_id == person_id,
                ClosenessSession.person_b_id == person_id,
            )
        )
    )
    for live in sessions:
        slot = "a" if live.person_a_id == person_id else "b"
        setattr(live, f"person_{slot}_id", None)
        setattr(live, f"ios_before_{slot}", None)
        setattr(live, f"ios_after_{slot}", None)
        if live.first_reader_id == person_id:
            live.first_reader_id = None
        live.live_state = None  # it names both people; the session cannot be resumed anyway
        if live.state is not ClosenessState.FINISHED:
            live.state = ClosenessState.ABANDONED
    session.flush()
