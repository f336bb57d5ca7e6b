"""A person's own data: everything they recorded, to download or to delete.

:func:`personal_data` gathers what the person entered themselves (their account, their
memberships, their check-ins, diary records, practice log, reminders and consents) and nothing
another person recorded, shared or not: another member's records are theirs to export.
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
    Consent,
    Interaction,
    Measurement,
    Membership,
    Person,
    PracticeLog,
    Relationship,
    ReminderSchedule,
)

__all__ = ["delete_account", "personal_data"]

_SECRET_COLUMNS = {"password_hash", "feed_token_hash", "token_hash"}


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
        sa.select(Relationship).where(Relationship.id.in_(relationship_ids))
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
    }


def delete_account(db: StoreSession, person: Person) -> None:
    """Delete the account and the person's records (committed), through
    :func:`attunement.store.erasure.erase_person`: nothing that identifies them is kept; the
    other people's own records stay, unlinked. A researcher who still owns studies gets a
    :class:`~attunement.errors.ConflictError` saying what to do first."""
    erase_person(db, person.id, actor_id=person.id)
