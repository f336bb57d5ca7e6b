"""The running server sends due reminder emails by itself (no cron needed)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from attunement.settings import Settings
from attunement.store.models import ReminderSchedule
from attunement.web import create_app
from attunement.web.mail import ConsoleMailer
from tests.web.people import WebPerson


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"reminder_check_seconds": 0.05})


def add_due_reminder(app: FastAPI, client: TestClient) -> None:
    ada = WebPerson.sign_up(client, "ada@example.org", "Ada")
    due = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%H:%M")
    ada.post(
        "/practices/reminders",
        {
            "what": "active_listening",
            "frequency": "daily",
            "time_of_day": due,
            "timezone": "UTC",
            "by_email": "on",
        },
    )
    with app.state.session_factory() as db:
        schedule = db.scalars(sa.select(ReminderSchedule)).one()
        schedule.created_at = datetime.now(UTC) - timedelta(days=1)
        db.commit()


def test_server_sends_a_due_reminder_once(settings: Settings) -> None:
    mailer = ConsoleMailer(stream=io.StringIO())
    app = create_app(settings, mailer=mailer)
    with TestClient(app) as client:
        add_due_reminder(app, client)
        deadline = time.monotonic() + 10
        while not mailer.outbox and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # several more checks: still one mail
    assert [m.subject for m in mailer.outbox] == ["Reminder: Active listening"]
    assert mailer.outbox[0].to == "ada@example.org"


def test_zero_turns_the_loop_off(settings: Settings) -> None:
    mailer = ConsoleMailer(stream=io.StringIO())
    app = create_app(settings.model_copy(update={"reminder_check_seconds": 0}), mailer=mailer)
    with TestClient(app) as client:
        add_due_reminder(app, client)
        time.sleep(0.3)
    assert mailer.outbox == []
