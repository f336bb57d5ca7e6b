"""A private iCalendar feed of a person's reminders, written by hand after RFC 5545.

Any calendar app can subscribe to the feed's URL; nothing outside attunement is involved. Each
reminder becomes one recurring event (``RRULE:FREQ=DAILY``, ``FREQ=DAILY;INTERVAL=3`` from its
first day, or ``FREQ=WEEKLY;BYDAY=MO,TH``) at its local time in its time zone, with a
``VTIMEZONE`` built from the system's time-zone data (explicit transitions for the years around
the event), a stable ``UID`` (so calendars update rather than duplicate the event),
``DTSTAMP``, and a display alarm at the start. Text is escaped (RFC 5545 section 3.3.11) and
lines are folded at 75 octets without splitting a UTF-8 character (section 3.1); lines end
with CRLF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from attunement.practices.reminders import ReminderRule

__all__ = ["FeedEvent", "calendar_feed", "escape_text", "fold_line"]

PRODID = "-//attunement//practice reminders//EN"
TRANSITION_YEARS_BEFORE = 1
TRANSITION_YEARS_AFTER = 10


@dataclass(frozen=True)
class FeedEvent:
    """One reminder as it appears in the feed.

    ``uid`` must stay the same for the same reminder across refreshes (for example
    ``"reminder-12@example.org"``); ``starts_on`` is the first local day it may fire.
    """

    uid: str
    rule: ReminderRule
    summary: str
    description: str
    starts_on: date
    url: str | None = None
    minutes: int = 10


def escape_text(text: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and newlines."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold_line(line: str, limit: int = 75) -> str:
    """Fold one content line into CRLF-separated pieces of at most ``limit`` octets.

    Continuation lines begin with one space (which counts toward their limit). A multi-octet
    UTF-8 character is never split.
    """
    pieces: list[str] = []
    current = ""
    size = 0
    budget = limit
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > budget:
            pieces.append(current)
            current, size, budget = "", 0, limit - 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


@lru_cache(maxsize=64)
def _transitions(timezone: str, first: int, last: int) -> tuple[datetime, ...]:
    """UTC instants in years ``first..last`` at which the zone's offset or name changes."""
    zone = ZoneInfo(timezone)
    found: list[datetime] = []
    moment = datetime(first, 1, 1, tzinfo=UTC)
    end = datetime(last + 1, 1, 1, tzinfo=UTC)
    step = timedelta(hours=12)

    def key(when: datetime) -> tuple[timedelta | None, str | None]:
        local = when.astimezone(zone)
        return local.utcoffset(), local.tzname()

    while moment < end:
        following = moment + step
        if key(moment) != key(following):
            low, high = moment, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if key(middle) == key(low):
                    low = middle
                else:
                    high = middle
            found.append(high.replace(second=0, microsecond=0))
        moment = following
    return tuple(found)


def _vtimezone(rule: ReminderRule, year: int) -> list[str]:
    zone = rule.zone
    lines = ["BEGIN:VTIMEZONE", f"TZID:{rule.timezone}"]
    first, last = year - TRANSITION_YEARS_BEFORE, year + TRANSITION_YEARS_AFTER
    changes = _transitions(rule.timezone, first, last)
    if not changes:
        start = datetime(year - TRANSITION_YEARS_BEFORE, 1, 1, tzinfo=UTC).astimezone(zone)
        offset = _offset(start.utcoffset())
        lines += [
            "BEGIN:STANDARD",
            f"DTSTART:{_local(start.replace(tzinfo=None))}",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            f"TZNAME:{escape_text(start.tzname() or rule.timezone)}",
            "END:STANDARD",
        ]
    for change in changes:
        before = (change - timedelta(minutes=1)).astimezone(zone)
        after = change.astimezone(zone)
        kind = "DAYLIGHT" if after.dst() else "STANDARD"
        onset = change + (before.utcoffset() or timedelta())  # local time in the old offset
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(onset.replace(tzinfo=None))}",
            f"TZOFFSETFROM:{_offset(before.utcoffset())}",
            f"TZOFFSETTO:{_offset(after.utcoffset())}",
            f"TZNAME:{escape_text(after.tzname() or rule.timezone)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def _first_day(event: FeedEvent) -> date:
    day = event.starts_on
    while not event.rule.falls_on(day):
        day += timedelta(days=1)
    return day


def _vevent(event: FeedEvent, now: datetime) -> list[str]:
    rule = event.rule
    first = _first_day(event)
    start = datetime.combine(first, rule.time_of_day)
    if rule.timezone == "UTC":
        dtstart = f"DTSTART:{_local(start)}Z"
    else:
        dtstart = f"DTSTART;TZID={rule.timezone}:{_local(start)}"
    recurrence = "FREQ=DAILY"
    if rule.every_days > 1:  # counted from DTSTART, which is the rule's first day
        recurrence += f";INTERVAL={rule.every_days}"
    if rule.frequency == "weekly":
        recurrence = "FREQ=WEEKLY;BYDAY=" + ",".join(rule.weekdays)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{_stamp(now)}",
        dtstart,
        f"DURATION:PT{event.minutes}M",
        f"RRULE:{recurrence}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"DESCRIPTION:{escape_text(event.description)}",
        "TRANSP:TRANSPARENT",
    ]
    if event.url:
        lines.append(f"URL:{event.url}")
    lines += [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(event.summary)}",
        "TRIGGER:PT0M",
        "END:VALARM",
        "END:VEVENT",
    ]
    return lines


def calendar_feed(events: Sequence[FeedEvent], *, name: str, now: datetime) -> str:
    """The whole feed as text (CRLF line ends, folded), ready to serve as ``text/calendar``.

    ``now`` becomes every event's ``DTSTAMP`` (when the feed was generated).
    """
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H",
        "X-PUBLISHED-TTL:PT12H",
    ]
    zones: dict[str, ReminderRule] = {}
    for event in events:
        if event.rule.timezone != "UTC":
            zones.setdefault(event.rule.timezone, event.rule)
    year = now.astimezone(UTC).year
    for rule in zones.values():
        lines += _vtimezone(rule, min(year, *(_first_day(e).year for e in events)))
    for event in events:
        lines += _vevent(event, now)
    lines.append("END:VCALENDAR")
    return _join(lines)


def _join(lines: Iterable[str]) -> str:
    return "".join(fold_line(line) + "\r\n" for line in lines)
