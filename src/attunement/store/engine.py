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

A server with many threads opens a :class:`Database` (:func:`open_database`): a writer and a
reader session factory. On a SQLite file the writer has one connection, so writers of this
process queue for it in order (woken the moment it is free) instead of polling SQLite's busy
timeout, whose sleeps grow to 100 ms; readers have their own connections and take no write
lock. On PostgreSQL both share one engine and pool.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    "QUICK_READ_BUSY_TIMEOUT_MS",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "QuickReadUnavailableError",
    "QuickReader",
    "StoreSession",
    "create_engine_from_settings",
    "create_engine_from_url",
    "is_sqlite",
    "make_session_factory",
    "normalize_url",
    "open_database",
    "transaction",
    "transaction_facts",
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

    @property
    def holds_connection(self) -> bool:
        """Whether a transaction holds a database connection now (closing the session then
        rolls it back on the server: a network round trip on PostgreSQL)."""
        facts = self.info.get(_TRANSACTION_FACTS, {})
        return self.in_transaction() and bool(facts.get("holds_connection"))

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


_TRANSACTION_FACTS = "attunement.transaction_facts"


def transaction_facts(session: Session) -> dict[str, Any]:
    """What the session's current transaction has learnt (that it holds a connection, which
    memberships it has checked), for code that would otherwise ask the database again.
    Forgotten when the outermost transaction ends."""
    facts: dict[str, Any] = session.info.setdefault(_TRANSACTION_FACTS, {})
    return facts


@event.listens_for(Session, "after_begin")
def _on_connection(session: Session, _transaction: Any, _connection: Any) -> None:
    transaction_facts(session)["holds_connection"] = True


@event.listens_for(Session, "after_transaction_end")
def _on_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_TRANSACTION_FACTS, None)


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


@dataclass(frozen=True)
class Database:
    """The engines and session factories of one server (see the module docs).

    ``writer`` sessions may read and write; ``reader`` sessions only read (on SQLite their
    transactions take no write lock). ``engine`` is the writer's engine (for migrations).
    """

    engine: Engine
    reader_engine: Engine
    writer: sessionmaker[StoreSession]
    reader: sessionmaker[StoreSession]
    quick_reader: QuickReader | None = None

    def read_now(self, statement: sa.Select[Any], params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of a small read, run in the calling thread without waiting for a pool
        or a lock; ``None`` when no row matches.

        Meant for the event loop of a server (see :class:`QuickReader`). Raises
        :class:`QuickReadUnavailableError` when that is not possible (PostgreSQL, an in-memory
        database, or a rare moment SQLite is busy, for example recovering its log): then run
        the read in a worker thread instead.
        """
        if self.quick_reader is None:
            raise QuickReadUnavailableError("no quick reader for this database")
        return self.quick_reader.first(statement, params)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.reader_engine is not self.engine:
            self.reader_engine.dispose()
        if self.quick_reader is not None:
            self.quick_reader.dispose()


class QuickReadUnavailableError(Exception):
    """:meth:`Database.read_now` cannot read at once here; read in a worker thread."""


@dataclass(frozen=True)
class _Plan:
    statement: sa.Select[Any]
    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]
    required: frozenset[str]
    processors: tuple[Any, ...]


class QuickReader:
    """Small reads of a SQLite file from the thread that asks, at the speed of SQLite itself.

    Each thread gets a connection of its own (opened through ``engine``, so with its settings:
    read-only, a short busy timeout) and keeps it. A statement is compiled once; each read is
    then one ``sqlite3`` call in autocommit mode (a single statement reads one consistent
    snapshot), with the column types' result processing, so rows hold the same values a
    session would give. A WAL read waits for no writer. This is for the server's event loop,
    which must not wait: going through a session costs it about 55 microseconds a read,
    this about 7.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._plans: dict[int, _Plan] = {}  # by id(statement); the plan keeps it alive
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    def first(self, statement: sa.Select[Any], params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row of ``statement`` with ``params`` for its bound parameters."""
        plan = self._plans.get(id(statement)) or self._plan(statement)
        missing = plan.required - params.keys()
        if missing:
            raise ValueError(f"no value for the parameters {sorted(missing)}")
        values = tuple(params.get(name, plan.defaults[name]) for name in plan.names)
        try:
            row = self._connection().execute(plan.sql, values).fetchone()
        except sqlite3.OperationalError as error:  # busy: let a worker thread wait instead
            raise QuickReadUnavailableError(str(error)) from error
        if row is None:
            return None
        return tuple(
            value if process is None else process(value)
            for process, value in zip(plan.processors, row, strict=True)
        )

    def _plan(self, statement: sa.Select[Any]) -> _Plan:
        dialect = self.engine.dialect
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        plan = _Plan(
            statement=statement,
            sql=compiled.string,
            names=names,
            defaults={name: compiled.binds[name].value for name in names},
            required=frozenset(name for name in names if compiled.binds[name].required),
            processors=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in statement.selected_columns
            ),
        )
        self._plans[id(statement)] = plan
        return plan

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            fairy = self.engine.raw_connection()  # runs the engine's connect events
            with self._lock:
                self._opened.append(fairy)
            connection = self._local.connection = fairy.driver_connection
        return connection

    def dispose(self) -> None:
        """Close the connections of every thread."""
        with self._lock:
            opened, self._opened = self._opened, []
        for fairy in opened:
            fairy.invalidate()  # closes the connection (it may belong to another thread)
        self._local = threading.local()
        self.engine.dispose()


#: How long a quick read waits for a busy SQLite file before giving up (it then runs in a
#: worker thread, where waiting harms no one).
QUICK_READ_BUSY_TIMEOUT_MS = 20


#: Connections a server's pool keeps open (PostgreSQL, and SQLite readers), and how many more
#: it may open under load: as many as the worker threads that may want one at once.
POOL_SIZE = 10
POOL_OVERFLOW = 30


def open_database(url: str | URL) -> Database:
    """The writer and reader of a server for ``url`` (see the module docs)."""
    parsed = normalize_url(url)
    pool_timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    quick_reader: QuickReader | None = None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        writer_engine = create_engine_from_url(
            parsed, pool_size=1, max_overflow=0, pool_timeout=pool_timeout
        )
        reader_engine = create_engine_from_url(
            parsed, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=pool_timeout
        )

        # A connection per thread (the event loop's), kept: a read waits for no pool. It
        # gives up on a busy file after a moment instead of 30 s.
        quick_engine = create_engine_from_url(
            parsed, poolclass=sa.pool.NullPool, connect_args={"check_same_thread": False}
        )

        @event.listens_for(reader_engine, "connect")
        @event.listens_for(quick_engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            # A write through a reader is a bug: fail at once, not under load.
            dbapi_connection.execute("PRAGMA query_only = ON")

        @event.listens_for(quick_engine, "connect")
        def _quick(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA busy_timeout = {QUICK_READ_BUSY_TIMEOUT_MS}")

        quick_reader = QuickReader(quick_engine)

    elif parsed.get_backend_name() == "sqlite":  # in memory: one shared connection
        writer_engine = reader_engine = create_engine_from_url(parsed)
    else:
        writer_engine = reader_engine = create_engine_from_url(
            parsed, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=pool_timeout
        )
    return Database(
        engine=writer_engine,
        reader_engine=reader_engine,
        writer=make_session_factory(writer_engine),
        reader=make_session_factory(reader_engine, read_only=True),
        quick_reader=quick_reader,
    )
