"""Database engines and sessions, created from :class:`~attunement.settings.Settings`.

SQLite (the default: a file in ``data_dir``) is opened with write-ahead logging, foreign keys
on, ``synchronous=FULL`` (a committed write survives a crash of the process and of the
machine) and a 30 s busy timeout. Every SQLite transaction starts with ``BEGIN IMMEDIATE``: it
takes the write lock up front, so concurrent writers queue on the busy timeout instead of
failing with "database is locked" when a read turns into a write. PostgreSQL URLs use psycopg 3
(``postgresql://`` is read as ``postgresql+psycopg://``).

Sessions come from :func:`make_session_factory`; they are :class:`StoreSession` objects, which
turn constraint violations into :class:`~attunement.errors.ConflictError` or
:class:`~attunement.errors.InvalidInputError` naming the field (see
:mod:`attunement.store.constraints`). Nothing is created at import time.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from attunement.errors import InvalidInputError
from attunement.settings import Settings
from attunement.store.constraints import check_lengths, integrity_error_to_domain

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "StoreSession",
    "create_engine_from_settings",
    "create_engine_from_url",
    "is_sqlite",
    "make_session_factory",
    "normalize_url",
    "transaction",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "attunement_read_only"


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL, choose psycopg 3 for PostgreSQL, refuse unknown databases."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise InvalidInputError(
            f"Not a database URL: {url!s}",
            hint="Use sqlite:///path/to/file.sqlite3 or postgresql://user:password@host/dbname.",
        ) from error
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in ("sqlite", "postgresql"):
        raise InvalidInputError(
            f"Unsupported database {backend!r}.",
            hint="attunement runs on SQLite (the default) and PostgreSQL.",
        )
    return parsed


def is_sqlite(engine_or_url: Engine | str | URL) -> bool:
    """Whether the engine or URL is a SQLite database."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else normalize_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def create_engine_from_url(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` with attunement's connection settings (see the module docs).

    For a SQLite file the folder is created when missing. Extra keyword arguments go to
    :func:`sqlalchemy.create_engine`.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **kwargs)


def create_engine_from_settings(settings: Settings, **kwargs: Any) -> Engine:
    """The engine for ``settings.resolved_database_url()``."""
    return create_engine_from_url(settings.resolved_database_url(), **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            try:
                _use_wal(cursor)
            except sqlite3.DatabaseError as error:
                if isinstance(error, sqlite3.OperationalError):
                    raise  # busy or locked: not the file's fault
                raise InvalidInputError(
                    f"{engine.url.database} is not a SQLite database ({error}).",
                    hint="Check --database-url (or ATTUNEMENT_DATABASE_URL): it must name an "
                    "attunement SQLite file, or a new file to create.",
                ) from error
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # a reader: a WAL snapshot, no write lock
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _use_wal(cursor: Any) -> None:
    """Switch the file to write-ahead logging (a persistent setting of the file). Switching
    needs a moment with no other connection in a transaction and does not wait on the busy
    timeout, so two processes opening a new database at once retry here instead of failing."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class StoreSession(Session):
    """A session whose constraint violations become domain errors naming the field."""

    def flush(self, objects: Any = None) -> None:
        check_lengths([*self.new, *self.dirty])
        try:
            super().flush(objects)
        except exc.IntegrityError as error:
            raise integrity_error_to_domain(error) from error

    def commit(self) -> None:
        try:
            super().commit()
        except exc.IntegrityError as error:
            raise integrity_error_to_domain(error) from error


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[StoreSession]:
    """A session factory bound to ``engine``; objects stay usable after commit.

    ``read_only=True`` is for sessions that only read (pages, dashboards, exports): on SQLite
    their transactions take no write lock, so they never wait for writers nor make writers
    wait. Do not write in them: on SQLite a write there can fail with "database is locked".
    """
    bind = engine.execution_options(**{_READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, class_=StoreSession, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[StoreSession]) -> Iterator[StoreSession]:
    """One unit of work: commit when the block ends, roll back (and re-raise) on any error."""
    with factory() as session, session.begin():
        yield session
