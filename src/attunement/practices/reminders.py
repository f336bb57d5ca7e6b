"""When reminders fall due: repeating local times in a person's own time zone.

A reminder repeats every day, every few days (counted from its first day), or on some weekdays,
at a local time of day in an IANA time zone (``Europe/Berlin``). Times are computed in that zone
and returned in UTC, so a reminder set for 20:00 stays at 20:00 local time across
daylight-saving changes. On the night clocks go forward a local time that does not exist
(02:30) is read with the offset before the gap (03:30 summer time); on the night they go back
an ambiguous time is its first occurrence. Both are the rules of RFC 5545 section 3.3.5, so
email reminders and the calendar feed agree.

A reminder is *due* when its latest occurrence has passed, it was not sent for that occurrence
yet, and the occurrence is recent (within ``grace``, 6 hours by default): after a server was
down for a day, people get one reminder for the latest occurrence, never a pile of stale ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attunement.errors import InvalidInputError, Problem

__all__ = [
    "DEFAULT_GRACE",
    "MAX_EVERY_DAYS",
    "WEEKDAY_CODES",
    "ReminderRule",
    "due_occurrence",
    "every_days_problems",
    "latest_occurrence",
    "next_occurrence",
    "occurrences",
    "parse_weekdays",
]

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DEFAULT_GRACE = timedelta(hours=6)
MAX_EVERY_DAYS = 366
Frequency = Literal["daily", "weekly"]


def parse_weekdays(text: str | None) -> tuple[str, ...]:
    """``"mo, th"`` -> ``("MO", "TH")`` in week order; unknown codes raise InvalidInputError."""
    if not text:
        return ()
    codes = [part.strip().upper() for part in text.split(",") if part.strip()]
    bad = [code for code in codes if code not in WEEKDAY_CODES]
    if bad:
        raise InvalidInputError(
            "unknown weekday",
            hint="Use two-letter codes: " + ", ".join(WEEKDAY_CODES) + ".",
            problems=[Problem("not a weekday code", column="weekdays", value=b) for b in bad],
        )
    return tuple(code for code in WEEKDAY_CODES if code in codes)


def every_days_problems(frequency: str, every_days: object) -> list[Problem]:
    """What is wrong with repeating a ``frequency`` reminder every ``every_days`` days."""
    if (
        isinstance(every_days, bool)
        or not isinstance(every_days, int)
        or not 1 <= every_days <= MAX_EVERY_DAYS
    ):
        return [
            Problem(
                "out of range",
                column="every_days",
                value=every_days,
                allowed=f"a whole number of days from 1 to {MAX_EVERY_DAYS}",
            )
        ]
    if every_days > 1 and frequency != "daily":
        return [Problem("only a daily reminder repeats every few days", column="every_days")]
    return []


@dataclass(frozen=True)
class ReminderRule:
    """A repeating local time at ``time_of_day``: daily, or weekly on ``weekdays``.

    A daily rule with ``every_days`` above 1 fires every that many days, counted from
    ``starts_on`` (a local calendar day, which it needs): ``every_days=3`` from Monday fires on
    Monday, Thursday, Sunday, and so on, as ``RRULE:FREQ=DAILY;INTERVAL=3`` does.
    """

    frequency: Frequency
    time_of_day: time
    timezone: str = "UTC"
    weekdays: tuple[str, ...] = ()
    every_days: int = 1
    starts_on: date | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if self.frequency not in ("daily", "weekly"):
            problems.append(
                Problem(
                    "unknown", column="frequency", value=self.frequency, allowed="daily, weekly"
                )
            )
        if self.frequency == "weekly" and not self.weekdays:
            problems.append(Problem("a weekly reminder needs at least one day", column="weekdays"))
        problems.extend(
            Problem("not a weekday code", column="weekdays", value=code)
            for code in self.weekdays
            if code not in WEEKDAY_CODES
        )
        problems.extend(every_days_problems(self.frequency, self.every_days))
        if self.every_days != 1 and self.starts_on is None:
            problems.append(Problem("needs the day to count from", column="starts_on"))
        if self.time_of_day.tzinfo is not None:
            problems.append(Problem("give a local time without a zone", column="time_of_day"))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(Problem("unknown time zone", column="timezone", value=self.timezone))
        if problems:
            raise InvalidInputError(
                "invalid reminder",
                hint="Time zones are IANA names such as 'Europe/Berlin' or 'America/Chicago'.",
                problems=problems,
            )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def falls_on(self, day: date) -> bool:
        """Whether the reminder fires on this local calendar day."""
        if self.frequency == "weekly":
            return WEEKDAY_CODES[day.weekday()] in self.weekdays
        if self.every_days == 1 or self.starts_on is None:
            return True
        since = (day - self.starts_on).days
        return since >= 0 and since % self.every_days == 0

    @property
    def span(self) -> timedelta:
        """A stretch of time long enough to hold at least one occurrence (and then some)."""
        return timedelta(days=max(8, self.every_days + 2))

    def at(self, day: date) -> datetime:
        """The UTC instant of the reminder on a local day (RFC 5545 gap/overlap rules)."""
        local = datetime.combine(day, self.time_of_day, tzinfo=self.zone)
        return local.astimezone(UTC)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{name} must be timezone-aware", problems=[])
    return value


def occurrences(rule: ReminderRule, start: datetime, end: datetime) -> list[datetime]:
    """Every occurrence (UTC) with ``start <= t < end``, in order."""
    _aware(start, "start")
    _aware(end, "end")
    day = start.astimezone(rule.zone).date() - timedelta(days=1)
    last = end.astimezone(rule.zone).date() + timedelta(days=1)
    found: list[datetime] = []
    while day <= last:
        if rule.falls_on(day):
            moment = rule.at(day)
            if start <= moment < end:
                found.append(moment)
        day += timedelta(days=1)
    return found


def latest_occurrence(rule: ReminderRule, at: datetime) -> datetime | None:
    """The most recent occurrence at or before ``at`` (``None`` before the first one)."""
    past = occurrences(rule, at - rule.span, at + timedelta(microseconds=1))
    return past[-1] if past else None


def next_occurrence(rule: ReminderRule, after: datetime) -> datetime:
    """The first occurrence strictly after ``after``."""
    start = after + timedelta(microseconds=1)
    if rule.starts_on is not None:  # nothing fires before the first day
        first_day = datetime.combine(rule.starts_on, time(), tzinfo=rule.zone).astimezone(UTC)
        start = max(start, first_day)
    coming = occurrences(rule, start, start + rule.span)
    return coming[0]


def due_occurrence(
    rule: ReminderRule,
    now: datetime,
    *,
    since: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> datetime | None:
    """The occurrence to send a reminder for at ``now``, or ``None`` if none is due.

    ``since`` is when the reminder was last sent (or created, if never sent): occurrences at or
    before it are done. Occurrences older than ``grace`` are skipped as stale.
    """
    latest = latest_occurrence(rule, _aware(now, "now"))
    if latest is None or latest <= _aware(since, "since") or now - latest > grace:
        return None
    return latest
