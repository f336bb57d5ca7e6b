"""When reminders fall due: repeating local times in a person's own time zone.

A reminder repeats every day, or on some weekdays, at a local time of day in an IANA time zone
(``Europe/Berlin``). Times are computed in that zone and returned in UTC, so a reminder set for
20:00 stays at 20:00 local time across daylight-saving changes. On the night clocks go forward a
local time that does not exist (02:30) is read with the offset before the gap (03:30 summer
time); on the night they go back an ambiguous time is its first occurrence. Both are the rules
of RFC 5545 section 3.3.5, so email reminders and the calendar feed agree.

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
    "WEEKDAY_CODES",
    "ReminderRule",
    "due_occurrence",
    "latest_occurrence",
    "next_occurrence",
    "occurrences",
    "parse_weekdays",
]

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DEFAULT_GRACE = timedelta(hours=6)
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


@dataclass(frozen=True)
class ReminderRule:
    """A repeating local time: daily, or weekly on ``weekdays``, at ``time_of_day``."""

    frequency: Frequency
    time_of_day: time
    timezone: str = "UTC"
    weekdays: tuple[str, ...] = ()

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
        return self.frequency == "daily" or WEEKDAY_CODES[day.weekday()] in self.weekdays

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
    """The most recent occurrence at or before ``at`` (within the past 8 days)."""
    past = occurrences(rule, at - timedelta(days=8), at + timedelta(microseconds=1))
    return past[-1] if past else None


def next_occurrence(rule: ReminderRule, after: datetime) -> datetime:
    """The first occurrence strictly after ``after``."""
    coming = occurrences(rule, after + timedelta(microseconds=1), after + timedelta(days=8))
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
