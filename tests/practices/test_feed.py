"""The iCalendar feed, checked by parsing it back with an independent parser (icalendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st

from attunement.practices import FeedEvent, ReminderRule, calendar_feed, fold_line, occurrences

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def feed(*events: FeedEvent) -> str:
    return calendar_feed(events, name="Ana's practices", now=NOW)


def event_text() -> FeedEvent:
    return berlin_event()


def berlin_event() -> FeedEvent:
    return FeedEvent(
        uid="reminder-7@attunement.example",
        rule=ReminderRule("weekly", time(20, 0), "Europe/Berlin", ("MO", "TH")),
        summary="Appreciation; one thing, said out loud",
        description="Tell them one specific thing.\nTakes 2 minutes, maybe less.",
        starts_on=date(2026, 3, 1),
        url="https://attunement.example/practices",
    )


def test_lines_end_with_crlf_and_fit_75_octets() -> None:
    text = feed(berlin_event())
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75


def test_feed_parses_back_with_its_properties() -> None:
    calendar = icalendar.Calendar.from_ical(feed(berlin_event()))
    assert str(calendar["VERSION"]) == "2.0"
    assert "attunement" in str(calendar["PRODID"])
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "reminder-7@attunement.example"
    assert event["DTSTAMP"].dt == NOW
    start = event["DTSTART"].dt
    assert start.tzinfo is not None
    assert start.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) == datetime(
        2026, 3, 2, 20, 0
    )  # the first Monday on or after 1 March
    assert event["RRULE"]["FREQ"] == ["WEEKLY"]
    assert event["RRULE"]["BYDAY"] == ["MO", "TH"]
    assert str(event["SUMMARY"]) == "Appreciation; one thing, said out loud"
    assert str(event["DESCRIPTION"]) == event_text().description
    assert event["DURATION"].dt == timedelta(minutes=10)
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"


def test_vtimezone_gives_the_same_offsets_as_the_time_zone_database() -> None:
    calendar = icalendar.Calendar.from_ical(feed(berlin_event()))
    (component,) = calendar.walk("VTIMEZONE")
    built = component.to_tz(lookup_tzid=False)
    real = ZoneInfo("Europe/Berlin")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment < datetime(2030, 1, 1, tzinfo=UTC):
        local = moment.astimezone(real).replace(tzinfo=None)
        assert built.utcoffset(local) == real.utcoffset(local), local
        moment += timedelta(hours=37)


def test_expanded_recurrence_matches_the_email_reminders() -> None:
    event_def = berlin_event()
    calendar = icalendar.Calendar.from_ical(feed(event_def))
    (event,) = calendar.walk("VEVENT")
    start = event["DTSTART"].dt
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    window_end = datetime(2026, 4, 30, tzinfo=UTC)
    expanded = [t.astimezone(UTC) for t in rule.between(start, window_end, inc=True)]
    mine = occurrences(event_def.rule, start, window_end)
    assert expanded == mine
    assert len(mine) == 17  # Mondays and Thursdays, 2 March to 30 April


def test_utc_and_daily_reminders_and_several_zones() -> None:
    utc_event = FeedEvent(
        uid="reminder-1@x",
        rule=ReminderRule("daily", time(7, 15)),
        summary="Check-in",
        description="",
        starts_on=date(2026, 3, 5),
    )
    ny_event = FeedEvent(
        uid="reminder-2@x",
        rule=ReminderRule("daily", time(21, 0), "America/New_York"),
        summary="Listening",
        description="",
        starts_on=date(2026, 3, 5),
    )
    text = feed(utc_event, ny_event, berlin_event())
    calendar = icalendar.Calendar.from_ical(text)
    assert sorted(str(z["TZID"]) for z in calendar.walk("VTIMEZONE")) == [
        "America/New_York",
        "Europe/Berlin",
    ]
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert events["reminder-1@x"]["DTSTART"].dt == datetime(2026, 3, 5, 7, 15, tzinfo=UTC)
    assert "DTSTART:20260305T071500Z" in text
    assert events["reminder-2@x"]["RRULE"]["FREQ"] == ["DAILY"]


def test_zone_without_daylight_saving_has_one_standard_component() -> None:
    event = FeedEvent(
        uid="r@x",
        rule=ReminderRule("daily", time(9, 0), "Asia/Kolkata"),
        summary="s",
        description="d",
        starts_on=date(2026, 3, 5),
    )
    calendar = icalendar.Calendar.from_ical(feed(event))
    (zone,) = calendar.walk("VTIMEZONE")
    (standard,) = zone.walk("STANDARD")
    assert standard["TZOFFSETTO"].td == timedelta(hours=5, minutes=30)


def test_empty_feed_is_a_valid_calendar() -> None:
    calendar = icalendar.Calendar.from_ical(feed())
    assert calendar.walk("VEVENT") == []


@given(st.text(min_size=0, max_size=400))
def test_folding_round_trips_and_never_splits_a_character(text: str) -> None:
    line = "DESCRIPTION:" + text.replace("\r", "").replace("\n", "")
    folded = fold_line(line)
    for piece in folded.split("\r\n"):
        assert len(piece.encode("utf-8")) <= 75
    assert folded.replace("\r\n ", "") == line


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=300))
def test_any_summary_survives_the_round_trip(summary: str) -> None:
    event = FeedEvent(
        uid="r@x",
        rule=ReminderRule("daily", time(9, 0)),
        summary=summary,
        description=summary + "\n" + summary,
        starts_on=date(2026, 3, 5),
    )
    (parsed,) = icalendar.Calendar.from_ical(feed(event)).walk("VEVENT")
    assert str(parsed["SUMMARY"]) == summary
    assert str(parsed["DESCRIPTION"]) == summary + "\n" + summary
