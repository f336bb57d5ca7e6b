"""``attunement db``: create or upgrade the database, and show its schema revision."""

from __future__ import annotations

from typing import Any

import click

from attunement.cli._group import cli
from attunement.settings import Settings

__all__ = ["database_url_option", "db", "settings_from"]

database_url_option = click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default: ATTUNEMENT_DATABASE_URL, else a SQLite file in the data "
    "folder). PostgreSQL: postgresql://user:password@host/dbname",
)


def settings_from(database_url: str | None) -> Settings:
    """Settings from the environment, with ``--database-url`` applied when given."""
    overrides: dict[str, Any] = {}
    if database_url is not None:
        overrides["database_url"] = database_url
    return Settings(**overrides)


@cli.group()
def db() -> None:
    """Create, upgrade and inspect the database."""


@db.command()
@database_url_option
def upgrade(database_url: str | None) -> None:
    """Create the database or bring it to the newest schema (safe to run repeatedly)."""
    from attunement.store import create_engine_from_settings
    from attunement.store import upgrade as upgrade_schema

    settings = settings_from(database_url)
    engine = create_engine_from_settings(settings)
    try:
        revision = upgrade_schema(engine)
    finally:
        engine.dispose()
    click.echo(f"Database at revision {revision}: {_safe_url(settings)}")


@db.command()
@database_url_option
def current(database_url: str | None) -> None:
    """Show the schema revision of the database and the newest one available."""
    from attunement.store import create_engine_from_settings, current_revision, head_revision

    settings = settings_from(database_url)
    engine = create_engine_from_settings(settings)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if revision == head else "needs `attunement db upgrade`"
    click.echo(f"{_safe_url(settings)}: revision {revision or '(empty)'}, newest {head} ({state})")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url()).render_as_string(hide_password=True)
