"""Practices pages, reminders and the private calendar feed, over HTTP."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from attunement.practices import send_due_reminders
from attunement.store.models import (
    Membership,
    MembershipRole,
    Relationship,
    RelationshipType,
    ReminderSchedule,
)
from attunement.web.mail import ConsoleMailer, OutgoingMail
from tests.web.people import WebPerson
from tests.web.test_closeness_web import person_id

FEED = re.compile(r'value="(http://testserver/practices/feed/[^"]+\.ics)"')


def pair(app: FastAPI) -> int:
    ada, ben = person_id(app, "ada@example.org"), person_id(app, "ben@example.org")
    with app.state.session_factory() as db:
        rel = Relationship(type=RelationshipType.ROMANTIC_PARTNER, name="Us", created_by_id=ada)
        db.add(rel)
        db.flush()
        for pid in (ada, ben):
            db.add(Membership(person_id=pid, relationship_id=rel.id, role=MembershipRole.PARTNER))
        db.commit()
        return rel.id


def test_practices_page_shows_steps_and_evidence(web: WebPerson) -> None:
    html = web.get("/practices").text
    for name in ("Appreciation", "Routine check-in", "Raising a problem early", "Active listening"):
        assert f">{name}</h2>" in html
    assert "Reis, H. T., &amp; Shaver, P. (1988)" in html
    assert "not checked against the paper" in html


def test_logged_practice_is_shared_only_when_asked(
    app: FastAPI, web: WebPerson, other_web: WebPerson
) -> None:
    rel = pair(app)
    private = web.post("/practices/log", {"practice": "appreciation", "note": "tea, thank you"})
    assert private.status_code == 303
    shared = web.post(
        "/practices/log",
        {"practice": "active_listening", "relationship_id": str(rel), "shared": "on"},
    )
    assert shared.status_code == 303
    mine = web.get("/practices").text
    assert "<strong>You</strong>: Appreciation" in mine
    assert "tea, thank you" in mine
    theirs = other_web.get("/practices").text
    assert "<strong>Ada</strong>: Active listening" in theirs
    assert "Appreciation</span>" not in theirs
    assert "tea, thank you" not in theirs


def test_logging_errors_are_shown(app: FastAPI, web: WebPerson, other_web: WebPerson) -> None:
    unknown = web.post("/practices/log", {"practice": "meditation"})
    assert unknown.status_code == 422
    assert "no practice" in unknown.text
    rel = pair(app)
    with app.state.session_factory() as db:
        db.execute(
            sa.delete(Membership).where(Membership.person_id == person_id(app, "ben@example.org"))
        )
        db.commit()
    refused = other_web.post(
        "/practices/log", {"practice": "appreciation", "relationship_id": str(rel)}
    )
    assert refused.status_code == 422
    assert "choose one of your relationships" in refused.text


def test_reminder_form_errors_next_to_fields(web: WebPerson) -> None:
    response = web.post(
        "/practices/reminders",
        {
            "what": "appreciation",
            "frequency": "weekly",
            "time_of_day": "25:99",
            "timezone": "Mars/Base",
        },
    )
    assert response.status_code == 422
    assert 'id="weekdays-error"' in response.text
    assert 'id="time_of_day-error"' in response.text
    assert 'id="timezone-error"' in response.text


def test_reminders_and_the_private_feed(app: FastAPI, web: WebPerson, other_web: WebPerson) -> None:
    added = web.post(
        "/practices/reminders",
        {
            "what": "appreciation",
            "frequency": "weekly",
            "weekdays": ["MO", "TH"],
            "time_of_day": "20:30",
            "timezone": "Europe/Berlin",
            "by_email": "on",
        },
    )
    assert added.status_code == 303
    web.post(
        "/practices/reminders",
        {"what": "check_in", "frequency": "daily", "time_of_day": "08:00", "timezone": "UTC"},
    )
    page = web.get("/practices").text
    assert "every Monday, Thursday at 20:30 (Europe/Berlin) · by email" in page
    assert "every day at 08:00 (UTC)" in page

    made = web.post("/practices/feed")
    assert made.status_code == 200
    url = FEED.search(made.text)
    assert url, "the new link is shown once"
    link = url.group(1).removeprefix("http://testserver")
    assert FEED.search(web.get("/practices").text) is None  # never shown again

    # The calendar app fetches the feed without any sign-in.
    feed = other_web.client.get(link)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(feed.text)
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Appreciation", "Routine check-in"}
    assert events["Appreciation"]["RRULE"]["BYDAY"] == ["MO", "TH"]
    assert events["Appreciation"]["DTSTART"].dt.hour == 20
    assert str(events["Routine check-in"]["UID"]).endswith("@testserver")

    assert other_web.client.get(link.replace(".ics", "x.ics")).status_code == 404
    assert other_web.client.get("/practices/feed/not-a-token.ics").status_code == 404

    # A new link revokes the old one; turning it off revokes every link.
    newer = FEED.search(web.post("/practices/feed").text)
    assert newer
    assert web.client.get(link).status_code == 404
    new_link = newer.group(1).removeprefix("http://testserver")
    assert web.client.get(new_link).status_code == 200
    assert web.post("/practices/feed/delete").status_code == 303
    assert web.client.get(new_link).status_code == 404


def test_a_reminder_every_few_days(web: WebPerson, other_web: WebPerson) -> None:
    for every in ("", "1", "367", "three"):
        refused = web.post(
            "/practices/reminders",
            {
                "what": "appreciation",
                "frequency": "every",
                "every_days": every,
                "time_of_day": "20:30",
                "timezone": "UTC",
            },
        )
        assert refused.status_code == 422, every
        assert 'id="every_days-error"' in refused.text
        assert f'value="{every}"' in refused.text  # what was typed is kept
    added = web.post(
        "/practices/reminders",
        {
            "what": "appreciation",
            "frequency": "every",
            "every_days": "3",
            "weekdays": ["MO"],  # ticked by mistake: not a weekly reminder, so ignored
            "time_of_day": "20:30",
            "timezone": "America/Chicago",
        },
    )
    assert added.status_code == 303
    assert "every 3 days at 20:30 (America/Chicago)" in web.get("/practices").text
    url = FEED.search(web.post("/practices/feed").text)
    assert url is not None
    calendar = icalendar.Calendar.from_ical(
        other_web.client.get(url.group(1).removeprefix("http://testserver")).text
    )
    (event,) = calendar.walk("VEVENT")
    assert event["RRULE"]["FREQ"] == ["DAILY"]
    assert event["RRULE"]["INTERVAL"] == [3]


def test_only_the_owner_removes_a_reminder(
    app: FastAPI, web: WebPerson, other_web: WebPerson
) -> None:
    web.post(
        "/practices/reminders",
        {"what": "appreciation", "frequency": "daily", "time_of_day": "20:00", "timezone": "UTC"},
    )
    with app.state.session_factory() as db:
        reminder_id = db.scalars(sa.select(ReminderSchedule.id)).one()
    assert other_web.post(f"/practices/reminders/{reminder_id}/delete").status_code == 404
    assert web.post(f"/practices/reminders/{reminder_id}/delete").status_code == 303
    with app.state.session_factory() as db:
        assert db.scalars(sa.select(ReminderSchedule)).all() == []


def test_due_email_reminders_are_sent_once(app: FastAPI, web: WebPerson) -> None:
    web.post(
        "/practices/reminders",
        {
            "what": "appreciation",
            "frequency": "daily",
            "time_of_day": "20:00",
            "timezone": "UTC",
            "by_email": "on",
        },
    )
    web.post(
        "/practices/reminders",
        {"what": "check_in", "frequency": "daily", "time_of_day": "20:00", "timezone": "UTC"},
    )
    mailer = ConsoleMailer(stream=io.StringIO())
    with app.state.session_factory() as db:
        for schedule in db.scalars(sa.select(ReminderSchedule)):
            schedule.created_at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
            assert schedule.time_of_day == time(20, 0)
        db.commit()
        evening = datetime(2026, 3, 1, 20, 1, tzinfo=UTC)
        sent = send_due_reminders(db, mailer, now=evening, base_url="http://testserver")
        assert len(sent) == 1  # only the email one
        again = send_due_reminders(
            db, mailer, now=evening + timedelta(minutes=5), base_url="http://testserver"
        )
        assert again == []
        next_day = send_due_reminders(
            db, mailer, now=evening + timedelta(days=1), base_url="http://testserver"
        )
        assert next_day == sent
    (first, second) = mailer.outbox
    assert first.to == "ada@example.org"
    assert first.subject == "Reminder: Appreciation"
    assert "http://testserver/practices" in first.body
    assert "To change or stop it" in first.body
    assert second.subject == first.subject


def test_two_senders_at_once_send_a_reminder_once_and_a_failed_send_is_tried_again(
    app: FastAPI, web: WebPerson
) -> None:
    web.post(
        "/practices/reminders",
        {
            "what": "appreciation",
            "frequency": "daily",
            "time_of_day": "20:00",
            "timezone": "UTC",
            "by_email": "on",
        },
    )
    with app.state.session_factory() as db:
        for schedule in db.scalars(sa.select(ReminderSchedule)):
            schedule.created_at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        db.commit()
    evening = datetime(2026, 3, 1, 20, 1, tzinfo=UTC)
    other_mailer = ConsoleMailer(stream=io.StringIO())
    inner: list[int] = []

    class CheckingMeanwhile(ConsoleMailer):
        """While this sender sends, a second sender (cron, another process) checks too."""

        def send(self, mail: OutgoingMail) -> None:
            with app.state.session_factory() as other_db:
                inner.extend(
                    send_due_reminders(
                        other_db, other_mailer, now=evening, base_url="http://testserver"
                    )
                )
            super().send(mail)

    mailer = CheckingMeanwhile(stream=io.StringIO())
    with app.state.session_factory() as db:
        sent = send_due_reminders(db, mailer, now=evening, base_url="http://testserver")
    assert len(sent) == 1
    assert inner == []
    assert len(mailer.outbox) + len(other_mailer.outbox) == 1

    class Down(ConsoleMailer):
        def send(self, mail: OutgoingMail) -> None:
            raise ConnectionRefusedError("the mail server is down")

    next_day = evening + timedelta(days=1)
    with app.state.session_factory() as db:
        with pytest.raises(ConnectionRefusedError):
            send_due_reminders(db, Down(), now=next_day, base_url="http://testserver")
        # not sent, so not marked sent: the next check sends it
        retried = ConsoleMailer(stream=io.StringIO())
        later = next_day + timedelta(minutes=5)
        assert send_due_reminders(db, retried, now=later, base_url="http://testserver") == sent
        assert len(retried.outbox) == 1
