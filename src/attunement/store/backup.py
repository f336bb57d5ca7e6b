"""Backups and restores of the SQLite database (PostgreSQL: use pg_dump, see docs/store.md).

:func:`backup_sqlite` copies the live database with SQLite's online backup API: the copy is a
consistent snapshot even while the app is writing, and the app keeps running. The copy is
written to a temporary file, checked (``PRAGMA integrity_check``) and then renamed into place,
so a backup file either is complete or does not exist.

:func:`restore_sqlite` checks the backup first (integrity, an attunement schema no newer than
this version), saves the current database beside it (``before-restore-*.sqlite3``), copies the
backup in with the same API (in one step, under SQLite's lock), and upgrades it to the newest
schema if the backup is older.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, Engine

from attunement.errors import InvalidInputError
from attunement.store.engine import create_engine_from_url, make_session_factory, normalize_url
from attunement.store.migrate import head_revision, upgrade
from attunement.store.models import AuditAction
from attunement.store.records import record_audit

__all__ = ["PG_DUMP_HINT", "BackupInfo", "backup_sqlite", "check_backup", "restore_sqlite"]

PG_DUMP_HINT = (
    "For PostgreSQL use its own tools: `pg_dump --format=custom --file=attunement.dump DBURL` "
    "to back up and `pg_restore --clean --if-exists --dbname=DBURL attunement.dump` to restore "
    "(see docs/store.md)."
)


@dataclass(frozen=True)
class BackupInfo:
    """A checked backup file: where, its size, schema revision and row counts."""

    path: Path
    size_bytes: int
    revision: str | None
    people: int
    records: int

    def describe(self) -> str:
        return (
            f"{self.path} ({self.size_bytes / 1024:.0f} KiB, schema {self.revision}, "
            f"{self.people} people, {self.records} measurements and interaction records)"
        )


def _sqlite_path(engine_or_url: Engine | str | URL) -> Path:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else normalize_url(engine_or_url)
    if url.get_backend_name() != "sqlite":
        raise InvalidInputError(
            "attunement backup and restore work on SQLite databases.", hint=PG_DUMP_HINT
        )
    if not url.database or url.database == ":memory:":
        raise InvalidInputError("An in-memory database cannot be backed up.")
    return Path(url.database).expanduser()


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    # pages=-1: the whole database in one step, so no other writer can interleave.
    source.backup(target, pages=-1)


def backup_sqlite(
    engine_or_url: Engine | str | URL, destination: str | Path | None = None
) -> BackupInfo:
    """Copy the SQLite database to ``destination`` (a file, or a folder for a timestamped
    name; default: ``backups/`` beside the database). Returns the checked backup."""
    source_path = _sqlite_path(engine_or_url)
    if not source_path.exists():
        raise InvalidInputError(f"No database at {source_path}.", hint="Check --database-url.")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(destination) if destination else source_path.parent / "backups"
    if target.is_dir() or destination is None or str(destination).endswith(os.sep):
        target = target / f"attunement-{stamp}.sqlite3"
    if target.exists():
        raise InvalidInputError(f"{target} exists already.", hint="Choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(str(source_path), timeout=30)
    try:
        copy = sqlite3.connect(str(partial))
        try:
            _copy(source, copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        finally:
            copy.close()
    except sqlite3.DatabaseError as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, sqlite3.OperationalError):
            raise  # busy or locked: not the file's fault
        raise InvalidInputError(
            f"{source_path} is not a SQLite database ({error}).",
            hint="Check --database-url (or ATTUNEMENT_DATABASE_URL).",
        ) from error
    finally:
        source.close()
    info = check_backup(partial)
    partial.replace(target)
    _audit(engine_or_url, AuditAction.BACKUP, {"revision": info.revision})
    return BackupInfo(target, info.size_bytes, info.revision, info.people, info.records)


def check_backup(path: str | Path) -> BackupInfo:
    """Check a backup file: SQLite integrity and an attunement schema this version can use."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInputError(f"No backup file at {file}.")
    try:
        connection = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables or "person" not in tables:
                raise InvalidInputError(f"{file.name} is not an attunement database.")
            revision_row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            people = connection.execute("SELECT count(*) FROM person").fetchone()[0]
            records = connection.execute(
                "SELECT (SELECT count(*) FROM measurement) + (SELECT count(*) FROM interaction)"
            ).fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise InvalidInputError(
            f"{file.name} is not a readable SQLite database: {error}."
        ) from error
    if result is None or result[0] != "ok":
        raise InvalidInputError(f"{file.name} is damaged: integrity check says {result}.")
    revision = revision_row[0] if revision_row else None
    if revision is not None and revision > head_revision():
        raise InvalidInputError(
            f"{file.name} was made by a newer attunement (schema {revision}).",
            hint="Upgrade attunement before restoring this backup.",
        )
    return BackupInfo(file, file.stat().st_size, revision, int(people), int(records))


def restore_sqlite(backup: str | Path, engine_or_url: Engine | str | URL) -> BackupInfo:
    """Replace the SQLite database with ``backup`` (checked first); the current database is
    saved beside it as ``before-restore-<time>.sqlite3``. Returns the saved copy's info."""
    info = check_backup(backup)
    target_path = _sqlite_path(engine_or_url)
    saved: BackupInfo | None = None
    if target_path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        saved = backup_sqlite(
            engine_or_url, target_path.parent / "backups" / f"before-restore-{stamp}.sqlite3"
        )
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{info.path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(str(target_path), timeout=30)
        try:
            _copy(source, target)
            target.execute("PRAGMA journal_mode = WAL")
        finally:
            target.close()
    finally:
        source.close()
    upgrade(f"sqlite:///{target_path}")
    _audit(engine_or_url, AuditAction.RESTORE, {"revision": info.revision})
    return saved or info


def _audit(
    engine_or_url: Engine | str | URL, action: AuditAction, details: dict[str, object]
) -> None:
    """Record the backup or restore in the live database (when it has the schema)."""
    path = _sqlite_path(engine_or_url)
    engine = create_engine_from_url(f"sqlite:///{path}")
    try:
        with make_session_factory(engine)() as session:
            revision = (
                session.connection()
                .exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'audit_event'")
                .scalar()
            )
            if revision:
                record_audit(session, None, action, details=dict(details))
                session.commit()
    finally:
        engine.dispose()
