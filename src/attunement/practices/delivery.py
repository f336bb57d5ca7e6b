"""Sending reminder emails that are due, and describing reminders in words.

Run :func:`send_due_reminders` every few minutes (``attunement reminders send --every 300``, or
cron). Each reminder is sent at most once per occurrence: ``last_sent_at`` is stored right after
each message, so a crash in the middle of a run never sends the same reminder twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
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
    sent: list[int] = []
    for schedule, person in rows:
        since = schedule.last_sent_at or schedule.created_at
        occurrence = due_occurrence(rule_of(schedule), now, since=since, grace=grace)
        if occurrence is None:
            continue
        text = reminder_text(schedule.what)
        link = base_url.rstrip("/") + text.path
        mailer.send(
            OutgoingMail(
                to=person.email,
                subject=f"Reminder: {text.title}",
                body=f"Hello {person.display_name},\n\n{text.body}\n\n{link}\n\n"
                f"You get this because you set a reminder in attunement. To change or stop it: "
                f"{base_url.rstrip('/')}/practices#reminders\n",
            )
        )
        schedule.last_sent_at = now
        db.commit()
        sent.append(schedule.id)
    return sent
