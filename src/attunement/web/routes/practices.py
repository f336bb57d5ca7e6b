"""Daily practices: what to do and why, a log of what was done, reminders, a calendar feed.

Reminders come by email (when the person asks for it) and always through the person's private
iCalendar feed, ``/practices/feed/<token>.ics``, which any calendar app can subscribe to. The
token is secret and stored only as its SHA-256 hash, so the full link is shown once, when it is
made; replacing the link or turning it off makes the old one stop working at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Form
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.errors import AttunementError, InvalidInputError, NotFoundError, Problem
from attunement.practices import (
    MAX_EVERY_DAYS,
    FeedEvent,
    ReminderRule,
    calendar_feed,
    get_practice,
    list_practices,
    next_occurrence,
    parse_weekdays,
    reminder_text,
    rule_of,
    send_due_reminders,
)
from attunement.store.access import (
    current_membership,
    readable_practice_logs,
    require_own_reminder,
)
from attunement.store.models import (
    Person,
    ReminderSchedule,
)
from attunement.store.records import create_reminder, log_practice
from attunement.store.tokens import hash_token, new_token
from attunement.web.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    IdPath,
    ReadSession,
    field_errors,
    render,
)
from attunement.web.relationships import my_relationships

__all__ = ["reminder_emails", "router"]

log = logging.getLogger("attunement.reminders")


def _send_reminders_now(app: FastAPI) -> None:
    with app.state.session_factory() as db:
        send_due_reminders(
            db, app.state.mailer, now=datetime.now(UTC), base_url=app.state.settings.base_url
        )


@asynccontextmanager
async def reminder_emails(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, send due reminder emails every ``reminder_check_seconds``."""
    interval = float(app.state.settings.reminder_check_seconds)
    if interval <= 0:
        yield
        return

    async def keep_sending() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await run_in_threadpool(_send_reminders_now, app)
            except Exception:  # a mail server being down must not stop the loop
                log.exception("sending reminder emails failed; trying again later")

    task = asyncio.create_task(keep_sending())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


router = APIRouter(include_in_schema=False, lifespan=reminder_emails)

_REMINDER_FIELDS = {"what", "frequency", "every_days", "weekdays", "time_of_day", "timezone"}
_LOG_FIELDS = {"practice", "relationship_id", "note"}


def _reminders(db: DbSession, me: Person, now: datetime) -> list[dict[str, Any]]:
    schedules = db.scalars(
        sa.select(ReminderSchedule)
        .where(ReminderSchedule.person_id == me.id)
        .order_by(ReminderSchedule.id)
    )
    shown = []
    for schedule in schedules:
        rule = rule_of(schedule)
        upcoming = next_occurrence(rule, now).astimezone(rule.zone)
        shown.append(
            {
                "schedule": schedule,
                "title": reminder_text(schedule.what).title,
                "when": _when(rule),
                "next": upcoming,
            }
        )
    return shown


def _when(rule: ReminderRule) -> str:
    if rule.frequency == "weekly":
        return "every " + ", ".join(_DAY_NAMES[d] for d in rule.weekdays)
    return "every day" if rule.every_days == 1 else f"every {rule.every_days} days"


_DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}


def _page(
    request: Request,
    db: DbSession,
    me: Person,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    feed_url: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = datetime.now(UTC)
    logs = list(reversed(readable_practice_logs(db, me.id)))[:20]
    people = {log.person_id for log in logs}
    query = sa.select(Person.id, Person.display_name).where(Person.id.in_(people))
    names = {row.id: row.display_name for row in db.execute(query)}
    return render(
        request,
        "practices/index.html",
        {
            "title": "Daily practices",
            "practices": list_practices(),
            "practice_names": {p.id: p.name for p in list_practices()},
            "relationships": my_relationships(db, me),
            "reminders": _reminders(db, me, now),
            "logs": logs,
            "names": names,
            "me": me,
            "has_feed": me.calendar_token_hash is not None,
            "feed_url": feed_url,
            "day_names": _DAY_NAMES,
            "errors": errors or {},
            "form": form or {"timezone": me.timezone, "time_of_day": "20:00"},
        },
        status_code=status_code,
    )


@router.get("/practices", response_class=HTMLResponse)
def practices_page(request: Request, db: ReadSession, me: CurrentUser) -> HTMLResponse:
    """The practices, what you did, your reminders and your calendar link."""
    return _page(request, db, me)


@router.post("/practices/log", response_class=HTMLResponse)
def log_practice_done(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    practice: Annotated[str, Form()] = "",
    relationship_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    shared: Annotated[str, Form()] = "",
) -> Response:
    """Record that you did a practice (optionally within a relationship, shared or not)."""
    form = {"practice": practice, "relationship_id": relationship_id, "note": note}
    try:
        get_practice(practice)
        rel = int(relationship_id) if relationship_id.strip().isdigit() else None
        if rel is not None and current_membership(db, me.id, rel) is None:
            raise InvalidInputError(
                "choose one of your relationships",
                problems=[Problem("not one of yours", column="relationship_id", value=rel)],
            )
        if len(note) > 2000:
            raise InvalidInputError(
                "the note is too long",
                problems=[Problem("at most 2000 characters", column="note", value=len(note))],
            )
        log_practice(
            db,
            me.id,
            practice,
            relationship_id=rel,
            note=note.strip() or None,
            shared=shared == "on" and rel is not None,
        )
        db.commit()
    except (InvalidInputError, NotFoundError) as error:
        db.rollback()
        errors = field_errors(error, _LOG_FIELDS)
        return _page(request, db, me, errors=errors, form=form, status_code=422)
    return RedirectResponse("/practices#done", status_code=303)


def _parse_reminder(
    what: str,
    frequency: str,
    weekdays: list[str],
    time_of_day: str,
    timezone: str,
    every_days: str = "",
) -> ReminderRule:
    problems: list[Problem] = []
    if what not in {p.id for p in list_practices()}:
        problems.append(Problem("choose a practice", column="what", value=what or None))
    clock: time | None = None
    try:
        clock = time.fromisoformat(time_of_day)
    except ValueError:
        problems.append(Problem("use a time like 20:00", column="time_of_day", value=time_of_day))
    if timezone not in available_timezones() and timezone != "UTC":
        problems.append(Problem("unknown time zone", column="timezone", value=timezone))
    if frequency not in ("daily", "weekly", "every"):
        problems.append(
            Problem("choose every day, some days or every few days", column="frequency")
        )
    if frequency == "weekly" and not weekdays:
        problems.append(Problem("choose at least one day", column="weekdays"))
    every = 1
    if frequency == "every":
        try:
            every = int(every_days.strip())
        except ValueError:
            every = 0
        if not 2 <= every <= MAX_EVERY_DAYS:
            problems.append(
                Problem(
                    f"give a number of days from 2 to {MAX_EVERY_DAYS}",
                    column="every_days",
                    value=every_days or None,
                )
            )
    if problems or clock is None:
        raise InvalidInputError("please check the reminder", problems=problems)
    days = parse_weekdays(",".join(weekdays)) if frequency == "weekly" else ()
    return ReminderRule(
        "weekly" if frequency == "weekly" else "daily",
        clock.replace(second=0, microsecond=0),
        timezone,
        days,
        every_days=every,
        starts_on=datetime.now(ZoneInfo(timezone)).date() if every > 1 else None,
    )


@router.post("/practices/reminders", response_class=HTMLResponse)
def add_reminder(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    what: Annotated[str, Form()] = "",
    frequency: Annotated[str, Form()] = "daily",
    weekdays: Annotated[list[str] | None, Form()] = None,
    time_of_day: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "UTC",
    by_email: Annotated[str, Form()] = "",
    every_days: Annotated[str, Form()] = "",
) -> Response:
    """Add a repeating reminder for a practice."""
    days = weekdays or []
    form = {
        "what": what,
        "frequency": frequency,
        "every_days": every_days,
        "weekdays": days,
        "time_of_day": time_of_day,
        "timezone": timezone,
        "by_email": by_email,
    }
    try:
        rule = _parse_reminder(what, frequency, days, time_of_day, timezone, every_days)
        # The store also makes a per-reminder feed token; the app serves one feed per person
        # (Person.calendar_token_hash), so that token is not used.
        create_reminder(
            db,
            me.id,
            what,
            frequency=rule.frequency,
            time_of_day=rule.time_of_day,
            weekdays=",".join(rule.weekdays) or None,
            every_days=rule.every_days,
            timezone=rule.timezone,
            by_email=by_email == "on",
        )
        db.commit()
    except AttunementError as error:
        db.rollback()
        errors = field_errors(error, _REMINDER_FIELDS)
        return _page(request, db, me, errors=errors, form=form, status_code=422)
    return RedirectResponse("/practices#reminders", status_code=303)


@router.post("/practices/reminders/{reminder_id}/delete")
def delete_reminder(reminder_id: IdPath, db: DbSession, me: CurrentUser) -> Response:
    """Remove one of your reminders (from email and from the calendar feed)."""
    db.delete(require_own_reminder(db, me.id, reminder_id))
    db.commit()
    return RedirectResponse("/practices#reminders", status_code=303)


@router.post("/practices/feed", response_class=HTMLResponse)
def make_feed(
    request: Request, db: DbSession, me: CurrentUser, settings: AppSettings
) -> HTMLResponse:
    """Make (or replace) your private calendar link; the old link stops working."""
    token, token_hash = new_token()
    me.calendar_token_hash = token_hash
    db.commit()
    url = f"{settings.base_url.rstrip('/')}/practices/feed/{token}.ics"
    return _page(request, db, me, feed_url=url)


@router.post("/practices/feed/delete")
def revoke_feed(db: DbSession, me: CurrentUser) -> Response:
    """Turn the calendar link off."""
    me.calendar_token_hash = None
    db.commit()
    return RedirectResponse("/practices#calendar", status_code=303)


@router.get("/practices/feed/{token}.ics")
def feed(token: str, db: ReadSession, settings: AppSettings) -> Response:
    """The private iCalendar feed of a person's reminders (no sign-in: the token is the key)."""
    person = db.scalar(sa.select(Person).where(Person.calendar_token_hash == hash_token(token)))
    if person is None:
        raise NotFoundError(
            "no calendar here",
            hint="The link was replaced or turned off; make a new one on the Practices page.",
        )
    host = urlsplit(settings.base_url).hostname or "attunement"
    schedules = db.scalars(
        sa.select(ReminderSchedule)
        .where(ReminderSchedule.person_id == person.id, ReminderSchedule.active.is_(True))
        .order_by(ReminderSchedule.id)
    )
    events = []
    for schedule in schedules:
        text = reminder_text(schedule.what)
        events.append(
            FeedEvent(
                uid=f"reminder-{schedule.id}@{host}",
                rule=rule_of(schedule),
                summary=text.title,
                description=text.body,
                starts_on=schedule.created_at.astimezone(rule_of(schedule).zone).date()
                if schedule.created_at
                else date.today(),
                url=settings.base_url.rstrip("/") + text.path,
            )
        )
    body = calendar_feed(events, name="attunement reminders", now=datetime.now(UTC))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "private, max-age=300",
            "Content-Disposition": 'inline; filename="attunement.ics"',
            "X-Robots-Tag": "noindex",
        },
    )
