"""``attunement reminders send``: email the practice reminders that are due now."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from attunement.cli._group import cli
from attunement.cli.db import existing_database_settings

__all__ = ["reminders"]


@cli.group()
def reminders() -> None:
    """Email reminders of daily practices (the calendar feed needs nothing running)."""


@reminders.command("send")
@click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default: ATTUNEMENT_DATABASE_URL, else a SQLite file in the data "
    "folder).",
)
@click.option(
    "--every",
    type=click.FloatRange(min=10),
    default=None,
    help="Keep running and check every N seconds (default: check once and exit, for cron).",
)
def send(database_url: str | None, every: float | None) -> None:
    """Send the email reminders due now, each at most once per occurrence.

    Uses the SMTP settings (ATTUNEMENT_SMTP_*); without an SMTP server the mail is printed.
    """
    from attunement.practices import send_due_reminders
    from attunement.store import upgrade
    from attunement.store.engine import create_engine_from_settings, make_session_factory
    from attunement.web.mail import mailer_from_settings

    settings = existing_database_settings(database_url)
    settings.check_safe()
    engine = create_engine_from_settings(settings)
    upgrade(engine)
    factory = make_session_factory(engine)
    mailer = mailer_from_settings(settings)
    try:
        while True:
            with factory() as db:
                sent = send_due_reminders(
                    db, mailer, now=datetime.now(UTC), base_url=settings.base_url
                )
            click.echo(f"{len(sent)} reminder(s) sent.")
            if every is None:
                return
            time.sleep(every)
    finally:
        engine.dispose()
