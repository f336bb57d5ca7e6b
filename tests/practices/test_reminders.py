"""When reminders fall due, in local time, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attunement.errors import InvalidInputError
from attunement.practices import (
    ReminderRule,
    due_occurrence,
    latest_occurrence,
    next_occurrence,
    occurrences,
    parse_weekdays,
)

BERLIN = ZoneInfo("Europe/Berlin")


def test_daily_reminder_stays_at_local_time_across_dst() -> None:
    rule = ReminderRule("daily", time(20, 0), "Europe/Berlin")
    # Clocks go forward on Sunday 29 March 2026.
    found = occurrences(rule, datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    assert [t.astimezone(BERLIN).hour for t in found] == [20, 20, 20, 20]
    assert [t.hour for t in found] == [19, 19, 18, 18]  # UTC: +1 in winter, +2 in summer


def test_weekly_reminder_only_on_its_days() -> None:
    rule = ReminderRule("weekly", time(8, 30), "UTC", weekdays=("MO", "TH"))
    found = occurrences(rule, datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 19, tzinfo=UTC))
    assert [t.date() for t in found] == [
        date(2026, 1, 5),
        date(2026, 1, 8),
        date(2026, 1, 12),
        date(2026, 1, 15),
    ]
    assert all(t.time() == time(8, 30) for t in found)


def test_nonexistent_local_time_uses_the_offset_before_the_gap() -> None:
    rule = ReminderRule("daily", time(2, 30), "Europe/Berlin")
    moment = rule.at(date(2026, 3, 29))
    assert moment == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # = 03:30 summer time


def test_ambiguous_local_time_is_its_first_occurrence() -> None:
    rule = ReminderRule("daily", time(2, 30), "Europe/Berlin")
    moment = rule.at(date(2026, 10, 25))  # clocks go back at 03:00 summer time
    assert moment == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time (+2)


def test_latest_and_next_occurrence() -> None:
    rule = ReminderRule("daily", time(20, 0), "UTC")
    now = datetime(2026, 2, 2, 21, 0, tzinfo=UTC)
    assert latest_occurrence(rule, now) == datetime(2026, 2, 2, 20, 0, tzinfo=UTC)
    assert next_occurrence(rule, now) == datetime(2026, 2, 3, 20, 0, tzinfo=UTC)
    exactly = datetime(2026, 2, 2, 20, 0, tzinfo=UTC)
    assert latest_occurrence(rule, exactly) == exactly
    assert next_occurrence(rule, exactly) == datetime(2026, 2, 3, 20, 0, tzinfo=UTC)


def test_due_once_per_occurrence_and_not_when_stale() -> None:
    rule = ReminderRule("daily", time(20, 0), "UTC")
    created = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    before = datetime(2026, 2, 1, 19, 59, tzinfo=UTC)
    assert due_occurrence(rule, before, since=created) is None
    at = datetime(2026, 2, 1, 20, 0, 30, tzinfo=UTC)
    occurrence = due_occurrence(rule, at, since=created)
    assert occurrence == datetime(2026, 2, 1, 20, 0, tzinfo=UTC)
    # Sent at `at`: not due again until the next evening.
    assert due_occurrence(rule, at + timedelta(hours=1), since=at) is None
    assert due_occurrence(rule, at + timedelta(days=1), since=at) is not None
    # The server was down for a day: the latest occurrence is stale after the grace period.
    assert due_occurrence(rule, datetime(2026, 2, 3, 3, 0, tzinfo=UTC), since=created) is None


def test_reminder_created_after_todays_time_is_not_due_today() -> None:
    rule = ReminderRule("daily", time(8, 0), "UTC")
    created = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    assert due_occurrence(rule, datetime(2026, 2, 1, 9, 1, tzinfo=UTC), since=created) is None


def test_invalid_rules_list_every_problem() -> None:
    with pytest.raises(InvalidInputError) as err:
        ReminderRule("weekly", time(8, 0), "Mars/Olympus", weekdays=())
    columns = sorted(p.column or "" for p in err.value.problems)
    assert columns == ["timezone", "weekdays"]
    with pytest.raises(InvalidInputError):
        ReminderRule("hourly", time(8, 0))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ReminderRule("weekly", time(8, 0), weekdays=("XX",))
    with pytest.raises(InvalidInputError):
        ReminderRule("daily", time(8, 0, tzinfo=UTC))


def test_naive_times_are_refused() -> None:
    rule = ReminderRule("daily", time(8, 0))
    with pytest.raises(InvalidInputError):
        latest_occurrence(rule, datetime(2026, 1, 1))


def test_parse_weekdays() -> None:
    assert parse_weekdays("th, mo") == ("MO", "TH")
    assert parse_weekdays("") == ()
    assert parse_weekdays(None) == ()
    with pytest.raises(InvalidInputError) as err:
        parse_weekdays("MO,XX,YY")
    assert [p.value for p in err.value.problems] == ["XX", "YY"]


zones = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"])
days = st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1)


@given(
    zone=zones,
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    weekdays=days,
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
)
def test_occurrences_are_ordered_on_their_days_and_at_their_local_time(
    zone: str, hour: int, minute: int, weekdays: list[str], start: datetime
) -> None:
    rule = ReminderRule("weekly", time(hour, minute), zone, tuple(sorted(set(weekdays))))
    found = occurrences(rule, start, start + timedelta(days=15))
    assert found == sorted(found)
    assert len(found) >= 2 * len(set(weekdays))
    for moment in found:
        local = moment.astimezone(ZoneInfo(zone))
        assert rule.falls_on(local.date())
        # Local time matches, except where it fell into a DST gap (moved by the gap's size).
        if (local.hour, local.minute) != (hour, minute):
            assert local.dst() != (local - timedelta(hours=2)).dst()
    nxt = next_occurrence(rule, start)
    assert nxt == occurrences(rule, start + timedelta(microseconds=1), nxt + timedelta(days=1))[0]


def test_every_few_days_counts_from_the_first_day_across_dst() -> None:
    rule = ReminderRule(
        "daily", time(20, 0), "Europe/Berlin", every_days=3, starts_on=date(2026, 3, 23)
    )
    found = occurrences(rule, datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC))
    local = [t.astimezone(BERLIN) for t in found]
    assert [t.date() for t in local] == [
        date(2026, 3, 23),
        date(2026, 3, 26),
        date(2026, 3, 29),  # clocks go forward this night: still 20:00 local
        date(2026, 4, 1),
        date(2026, 4, 4),
    ]
    assert {t.time() for t in local} == {time(20, 0)}


def test_latest_and_next_occurrence_every_few_days() -> None:
    rule = ReminderRule("daily", time(9, 0), "UTC", every_days=14, starts_on=date(2026, 1, 1))
    now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)  # 12 days after the second one
    assert latest_occurrence(rule, now) == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    assert next_occurrence(rule, now) == datetime(2026, 1, 29, 9, 0, tzinfo=UTC)
    # before the first day: nothing has fired yet, and the first day is next
    early = datetime(2025, 11, 1, tzinfo=UTC)
    assert latest_occurrence(rule, early) is None
    assert next_occurrence(rule, early) == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    yearly = ReminderRule("daily", time(9, 0), "UTC", every_days=366, starts_on=date(2026, 1, 1))
    assert next_occurrence(yearly, now) == datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    assert latest_occurrence(yearly, now) == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_every_few_days_is_due_once_per_occurrence() -> None:
    rule = ReminderRule("daily", time(18, 0), "UTC", every_days=3, starts_on=date(2026, 5, 1))
    created = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    first = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    assert due_occurrence(rule, first + timedelta(minutes=5), since=created) == first
    assert due_occurrence(rule, first + timedelta(minutes=10), since=first) is None
    # the next two days: nothing; the third: the next one
    assert due_occurrence(rule, datetime(2026, 5, 2, 18, 5, tzinfo=UTC), since=first) is None
    assert due_occurrence(rule, datetime(2026, 5, 3, 18, 5, tzinfo=UTC), since=first) is None
    fourth = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)
    assert due_occurrence(rule, fourth + timedelta(minutes=5), since=first) == fourth


def test_invalid_intervals_are_named() -> None:
    for every in (0, 367, -3, True, 2.5):
        with pytest.raises(InvalidInputError) as err:
            ReminderRule("daily", time(8, 0), every_days=every, starts_on=date(2026, 1, 1))  # type: ignore[arg-type]
        assert [p.column for p in err.value.problems] == ["every_days"]
    with pytest.raises(InvalidInputError) as err:
        ReminderRule("weekly", time(8, 0), weekdays=("MO",), every_days=2, starts_on=date.today())
    assert "only a daily reminder" in err.value.problems[0].message
    with pytest.raises(InvalidInputError) as err:
        ReminderRule("daily", time(8, 0), every_days=2)
    assert [p.column for p in err.value.problems] == ["starts_on"]


@given(
    zone=zones,
    every=st.integers(2, 366),
    first=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 1, 1)),
    offset=st.integers(0, 800),
)
def test_every_few_days_fires_exactly_on_multiples_of_the_interval(
    zone: str, every: int, first: date, offset: int
) -> None:
    rule = ReminderRule("daily", time(7, 15), zone, every_days=every, starts_on=first)
    after = datetime.combine(first, time(12), tzinfo=UTC) + timedelta(days=offset)
    coming = next_occurrence(rule, after)
    day = coming.astimezone(ZoneInfo(zone)).date()
    assert coming > after
    assert (day - first).days % every == 0
    assert coming - after <= timedelta(days=every + 1)
    assert latest_occurrence(rule, coming) == coming
