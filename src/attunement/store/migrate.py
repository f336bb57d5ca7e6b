"""Schema migrations: bring a database to the newest schema with Alembic.

The migration scripts ship inside the package (``attunement/store/migrations``), so an
installed wheel can upgrade a database without the source tree. :func:`upgrade` runs in one
transaction (SQLite and PostgreSQL both have transactional DDL): an upgrade that fails leaves
the schema as it was. On PostgreSQL an advisory lock makes concurrent upgrades (several
server processes starting at once) wait for each other.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine

from attunement.store.engine import create_engine_from_url

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x617474756E65  # "attune"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations (for ``alembic`` commands)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision of the packaged migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in the package")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine_or_url: Engine | str | URL, revision: str = "head") -> str:
    """Migrate the database to ``revision`` (default: the newest); returns the revision."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by copying it and dropping the old one; with foreign
                # keys on, the drop would cascade into the copy (ON DELETE SET NULL / CASCADE).
                # The switch only works outside a transaction, so before BEGIN.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
            try:
                with connection.begin():
                    _run_migrations(connection, revision)
                    if sqlite:
                        _check_foreign_keys(connection)
            finally:
                if sqlite:
                    connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]
        return current_revision(engine) or ""
    finally:
        if owned:
            engine.dispose()


def _run_migrations(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    with warnings.catch_warnings():
        # SQLite batch migrations reflect tables; the expression index on lower(email)
        # cannot be reflected there and is recreated by name instead.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index"
        )
        command.upgrade(config, revision)


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise RuntimeError(
            f"migration left {len(broken)} dangling references in {', '.join(tables)}; rolled back"
        )


def _engine(engine_or_url: Engine | str | URL) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return create_engine_from_url(engine_or_url), True
