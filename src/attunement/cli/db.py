"""``attunement db``: create or upgrade the database, and show its schema revision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from attunement.cli._group import cli
from attunement.settings import Settings

__all__ = ["database_url_option", "db", "existing_database_settings", "settings_from"]

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


def existing_database_settings(database_url: str | None) -> Settings:
    """:func:`settings_from`, refusing a SQLite file that does not exist yet.

    For commands that work on data already stored (export, erase-person, reminders, roles):
    a mistyped path would otherwise create a new, empty database and the command would answer
    as if the person or study did not exist.
    """
    from attunement.errors import InvalidInputError
    from attunement.store.engine import normalize_url

    settings = settings_from(database_url)
    url = normalize_url(settings.resolved_database_url())
    path = url.database
    in_a_file = bool(path) and path != ":memory:" and not str(path).startswith("file:")
    if (
        url.get_backend_name() == "sqlite"
        and in_a_file
        and not Path(str(path)).expanduser().exists()
    ):
        raise InvalidInputError(
            f"No database at {path}.",
            hint="Check --database-url (or ATTUNEMENT_DATABASE_URL, or ATTUNEMENT_DATA_DIR). "
            "`attunement serve` or `attunement db upgrade` creates a new database.",
        )
    return settings


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
