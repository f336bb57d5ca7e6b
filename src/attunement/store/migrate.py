"""Schema migrations: bring a database to the newest schema with Alembic.

The migration scripts ship inside the package (``attunement/store/migrations``), so an
installed wheel can upgrade a database without the source tree. :func:`upgrade` runs in one
transaction (SQLite and PostgreSQL both have transactional DDL): an upgrade that fails leaves
the schema as it was. On PostgreSQL an advisory lock makes concurrent upgrades (several
server processes starting at once) wait for each other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

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
        config = alembic_config()
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        current = current_revision(engine)
        return current or ""
    finally:
        if owned:
            engine.dispose()


def _engine(engine_or_url: Engine | str | URL) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return create_engine_from_url(engine_or_url), True
