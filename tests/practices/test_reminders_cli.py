"""``attunement reminders send`` against a real SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from attunement.cli import cli
from attunement.store import upgrade
from attunement.store.engine import create_engine_from_url, make_session_factory
from attunement.store.models import Person, ReminderFrequency, ReminderSchedule
from attunement.store.tokens import new_token


def test_send_prints_due_mail_without_smtp(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = create_engine_from_url(url)
    upgrade(engine)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with make_session_factory(engine)() as db:
        person = Person(email="ada@example.org", display_name="Ada")
        db.add(person)
        db.flush()
        for what, by_email in (("appreciation", True), ("check_in", False)):
            db.add(
                ReminderSchedule(
                    person_id=person.id,
                    what=what,
                    frequency=ReminderFrequency.DAILY,
                    time_of_day=(now - timedelta(minutes=2)).time(),
                    timezone="UTC",
                    by_email=by_email,
                    feed_token_hash=new_token()[1],
                    created_at=now - timedelta(days=2),
                )
            )
        db.commit()
    engine.dispose()
    env = {"ATTUNEMENT_DATABASE_URL": url, "ATTUNEMENT_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["reminders", "send"], env=env)
    assert result.exit_code == 0, result.output
    assert "Subject: Reminder: Appreciation" in result.output
    assert "Routine check-in" not in result.output
    assert "1 reminder(s) sent." in result.output
    again = CliRunner().invoke(cli, ["reminders", "send"], env=env)
    assert "0 reminder(s) sent." in again.output
    engine = create_engine_from_url(url)
    with make_session_factory(engine)() as db:
        sent_at = db.scalars(
            sa.select(ReminderSchedule.last_sent_at).where(ReminderSchedule.by_email.is_(True))
        ).one()
        assert sent_at is not None
    engine.dispose()
