"""Sending reminder emails that are due, and describing reminders in words.

Run :func:`send_due_reminders` every few minutes (``attunement reminders send --every 300``, or
cron). Each reminder is sent at most once per occurrence, even with several senders checking at
once: a sender first claims the occurrence (``last_sent_at`` is set, on the condition that it
still holds what the sender read, and committed), then sends; a send that fails gives the
claim back, so the next check tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from attunement.errors import AttunementError
from attunement.instruments import load_instrument
from attunement.practices.catalog import PRACTICES
from attunement.practices.reminders import (
    DEFAULT_GRACE,
    ReminderRule,
    due_occurrence,
    parse_weekdays,
)
from attunement.store.models import Person, ReminderFrequency, ReminderSchedule
from attunement.web.mail import Mailer, OutgoingMail

__all__ = ["ReminderText", "reminder_text", "rule_of", "send_due_reminders"]


def rule_of(schedule: ReminderSchedule) -> ReminderRule:
    """The repeating local time of a stored reminder; one that repeats every few days counts
    them from the local day it was made."""
    every = schedule.every_days or 1
    starts_on = None
    if every > 1:
        made = schedule.created_at or datetime.now(UTC)
        starts_on = made.astimezone(ZoneInfo(schedule.timezone)).date()
    return ReminderRule(
        frequency="weekly" if schedule.frequency == ReminderFrequency.WEEKLY else "daily",
        time_of_day=schedule.time_of_day,
        timezone=schedule.timezone,
        weekdays=parse_weekdays(schedule.weekdays),
        every_days=every,
        starts_on=starts_on,
    )


@dataclass(frozen=True)
class ReminderText:
    """What a reminder says: a title, a few lines, and where to go."""

    title: str
    body: str
    path: str


def reminder_text(what: str) -> ReminderText:
    """The words of a reminder for a practice id or an instrument id."""
    practice = PRACTICES.get(what)
    if practice is not None:
        steps = "\n".join(f"- {step}" for step in practice.steps)
        body = f"{practice.summary}\n\n{steps}\n\nAbout {practice.minutes} minutes."
        return ReminderText(practice.name, body, "/practices")
    try:
        instrument = load_instrument(what)
    except AttunementError:
        return ReminderText(what, "A reminder you set in attunement.", "/")
    return ReminderText(
        f"Check-in: {instrument.name}",
        "Time for your check-in. It takes a minute or two.",
        f"/checkins/new?instrument={instrument.id}",
    )


def send_due_reminders(
    db: Session,
    mailer: Mailer,
    *,
    now: datetime,
    base_url: str,
    grace: timedelta = DEFAULT_GRACE,
) -> list[int]:
    """Send every email reminder due at ``now``; return the ids of the reminders sent."""
    rows = db.execute(
        sa.select(ReminderSchedule, Person)
        .join(Person, Person.id == ReminderSchedule.person_id)
        .where(ReminderSchedule.active.is_(True), ReminderSchedule.by_email.is_(True))
        .order_by(ReminderSchedule.id)
    ).all()
    db.commit()  # end the read: each claim below is its own short transaction
    sent: list[int] = []
    for schedule, person in rows:
        seen = schedule.last_sent_at
        occurrence = due_occurrence(
            rule_of(schedule), now, since=seen or schedule.created_at, grace=grace
        )
        if occurrence is None or not _claim(db, schedule.id, seen, now):
            continue
        text = reminder_text(schedule.what)
        link = base_url.rstrip("/") + text.path
        try:
            mailer.send(
                OutgoingMail(
                    to=person.email,
                    subject=f"Reminder: {text.title}",
                    body=f"Hello {person.display_name},\n\n{text.body}\n\n{link}\n\n"
                    "You get this because you set a reminder in attunement. To change or stop "
                    f"it: {base_url.rstrip('/')}/practices#reminders\n",
                )
            )
        except Exception:
            _claim(db, schedule.id, now, seen)  # not sent: the next check tries again
            raise
        sent.append(schedule.id)
    return sent


def _claim(db: Session, reminder_id: int, seen: datetime | None, value: datetime | None) -> bool:
    """Set the reminder's ``last_sent_at`` to ``value`` if it still holds ``seen`` (committed
    at once); whether it did.

    Two senders may check at the same moment (the server's loop and ``attunement reminders
    send`` from cron, or two server processes); only the one whose claim changes the row
    sends, so a reminder goes out once per occurrence however many are checking.
    """
    last_sent = _REMINDERS.c.last_sent_at
    claimed = db.execute(
        sa.update(_REMINDERS)
        .where(
            _REMINDERS.c.id == reminder_id,
            last_sent.is_(None) if seen is None else last_sent == seen,
        )
        .values(last_sent_at=value)
    )
    db.commit()
    return cast(CursorResult[Any], claimed).rowcount == 1


_REMINDERS = cast(sa.Table, ReminderSchedule.__table__)
