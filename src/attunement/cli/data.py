"""Data commands: ``attunement demo``, ``export``, ``import``, ``backup``, ``restore`` and
``erase-person``. Each opens the database from the settings, calls one library function of
:mod:`attunement.store` and prints what it did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from attunement.cli._group import cli
from attunement.cli.db import database_url_option, existing_database_settings, settings_from
from attunement.store.engine import StoreSession

__all__ = ["backup", "demo", "erase_person_command", "export", "import_", "restore"]


@contextmanager
def _session(
    database_url: str | None, *, upgrade: bool = True, must_exist: bool = True
) -> Iterator[StoreSession]:
    """A session on the database; ``must_exist`` refuses a SQLite file not created yet."""
    from attunement.store import create_engine_from_settings, make_session_factory
    from attunement.store import upgrade as upgrade_schema

    settings = (
        existing_database_settings(database_url) if must_exist else settings_from(database_url)
    )
    engine = create_engine_from_settings(settings)
    try:
        if upgrade:
            upgrade_schema(engine)
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@cli.command()
@database_url_option
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed.")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day (YYYY-MM-DD); default: three weeks ago, so the data ends today.",
)
@click.option("--days", type=click.IntRange(7, 366), default=21, show_default=True)
def demo(database_url: str | None, seed: int, start: datetime | None, days: int) -> None:
    """Fill the database with generated demo data: two couples and a friendship.

    Three weeks of interaction records rated by both people, weekly check-ins, practices and
    one 36 Questions session, all in a demo study. Same seed and start, same data.
    """
    from attunement.store.demo import generate_demo

    first_day = start.date() if start is not None else None
    with _session(database_url, must_exist=False) as session:
        summary = generate_demo(session, seed=seed, start=first_day, days=days)
    click.echo(summary.describe())


def _person_id(session: StoreSession, email: str, hint: str) -> int:
    from attunement.errors import NotFoundError
    from attunement.store.records import find_person_by_email

    person = find_person_by_email(session, email)
    if person is None:
        raise NotFoundError(
            f"No account with the email address {email!r}.",
            hint=hint,
        )
    return person.id


@cli.command()
@database_url_option
@click.option("--study", "study_id", type=int, default=None, help="Export this study.")
@click.option(
    "--relationship", "relationship_id", type=int, default=None, help="Export this relationship."
)
@click.option(
    "--as",
    "actor_email",
    required=True,
    help="Email of the account the export is made for: the study's researcher, or a member "
    "of the relationship. Its access rules apply and the export is audited under it.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the files to (created if missing).",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["csv", "parquet", "sav"]),
    multiple=True,
    help="File formats (repeat the option); default: all three. The codebook (JSON and "
    "Markdown) is always written.",
)
def export(
    database_url: str | None,
    study_id: int | None,
    relationship_id: int | None,
    actor_email: str,
    out_dir: Path,
    formats: tuple[str, ...],
) -> None:
    """Export a study (pseudonymized) or a relationship: long and dyad-wide tables.

    Writes <name>_long, <name>_dyad_interactions and <name>_dyad_weekly as CSV, Parquet and
    SPSS .sav, with a codebook. See docs/store.md for the columns and the _a/_b suffixes.
    """
    from attunement.errors import InvalidInputError
    from attunement.store.export import EXPORT_FORMATS, export_relationship, export_study

    if (study_id is None) == (relationship_id is None):
        raise InvalidInputError(
            "Give exactly one of --study and --relationship.",
            hint="For example: attunement export --study 1 --as researcher@example.org --out x",
        )
    chosen = list(formats) or list(EXPORT_FORMATS)
    with _session(database_url) as session:
        actor = _person_id(
            session,
            actor_email,
            "Give the email address of the account the export is made for (--as).",
        )
        if study_id is not None:
            paths = export_study(session, actor, study_id, out_dir, formats=chosen)
        else:
            paths = export_relationship(
                session, actor, relationship_id or 0, out_dir, formats=chosen
            )
    click.echo(f"Wrote {len(paths)} files to {out_dir}:")
    for path in paths:
        click.echo(f"  {path.name}")


@cli.command(name="import")
@database_url_option
@click.argument("kind", type=click.Choice(["measurements", "interactions"]))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--instrument",
    "instrument_id",
    default=None,
    help="Instrument of every row (measurements without an instrument_id column).",
)
@click.option("--dry-run", is_flag=True, help="Check the file and count; store nothing.")
def import_(
    database_url: str | None,
    kind: str,
    path: Path,
    instrument_id: str | None,
    dry_run: bool,
) -> None:
    """Import measurements or interaction records (diary) from a CSV, Excel, .sav or Parquet
    file. The whole file is checked first: a file with any problem is rejected whole and every
    problem is listed with its line and column. See docs/store.md for the columns."""
    from attunement.store.imports import import_interactions, import_measurements

    with _session(database_url, must_exist=False) as session:
        if kind == "measurements":
            report = import_measurements(
                session, path, instrument_id=instrument_id, dry_run=dry_run
            )
        else:
            report = import_interactions(session, path, dry_run=dry_run)
    click.echo(report.describe())


@cli.command()
@database_url_option
@click.argument("destination", required=False, type=click.Path(path_type=Path))
def backup(database_url: str | None, destination: Path | None) -> None:
    """Copy the SQLite database while it runs (online backup), checked, to DESTINATION (a
    file or folder; default: backups/ beside the database). PostgreSQL: use pg_dump."""
    from attunement.store.backup import backup_sqlite

    settings = settings_from(database_url)
    info = backup_sqlite(settings.resolved_database_url(), destination)
    click.echo(f"Backup written: {info.describe()}")


@cli.command()
@database_url_option
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(database_url: str | None, backup_file: Path, yes: bool) -> None:
    """Replace the SQLite database with BACKUP_FILE (checked first; the current database is
    saved as backups/before-restore-*.sqlite3). Stop the server first."""
    from attunement.store.backup import check_backup, restore_sqlite

    settings = settings_from(database_url)
    info = check_backup(backup_file)
    if not yes:
        click.confirm(
            f"Replace {settings.resolved_database_url()} with {info.describe()}?", abort=True
        )
    saved = restore_sqlite(backup_file, settings.resolved_database_url())
    click.echo(f"Restored {info.path}. The previous database is saved as {saved.path}.")


@cli.command(name="erase-person")
@database_url_option
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_person_command(database_url: str | None, email: str, yes: bool) -> None:
    """Erase a person and everything that identifies them (right to be forgotten).

    Their account and all their records go; other people's records stay, unlinked from
    theirs. This cannot be undone (backups made before still hold the data).
    """
    from attunement.store.erasure import erase_person

    with _session(database_url) as session:
        person_id = _person_id(
            session, email, "Check the spelling: give the email address the person signs in with."
        )
        if not yes:
            click.confirm(f"Erase {email} and all their records? This cannot be undone", abort=True)
        report = erase_person(session, person_id)
    click.echo(report.describe())
