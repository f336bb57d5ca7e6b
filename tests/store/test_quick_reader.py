"""Quick reads (``Database.read_now``): the event loop's small reads of a SQLite file.

They skip the session and the pool, so these tests check that they give exactly what a session
gives (every column type the schema uses), that they cannot write, that a busy file or a
database without a quick reader sends the caller to a worker thread, and that each thread has a
connection of its own which ``dispose`` closes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from attunement.store import upgrade
from attunement.store.engine import Database, QuickReadUnavailableError, StoreSession, open_database
from attunement.store.models import Interaction, Membership, Person, Relationship, Study
from tests.store.world import World


@pytest.fixture
def database(world_url: tuple[str, World]) -> Iterator[Database]:
    database = open_database(world_url[0])
    yield database
    database.dispose()


def _everything(model: type[object]) -> sa.Select[tuple[object, ...]]:
    return sa.select(*sa.inspect(model).columns).where(
        sa.inspect(model).primary_key[0] == sa.bindparam("key")
    )


@pytest.mark.parametrize("model", [Person, Relationship, Membership, Interaction, Study])
def test_a_quick_read_gives_what_a_session_gives(
    database: Database, world_url: tuple[str, World], model: type[object]
) -> None:
    if not world_url[0].startswith("sqlite"):
        pytest.skip("only a SQLite file has a quick reader (see the PostgreSQL test below)")
    statement = _everything(model)
    with database.reader() as session:
        keys = session.scalars(sa.select(sa.inspect(model).primary_key[0])).all()
        assert keys, f"the world has no {model.__name__}"
        for key in keys:
            expected = tuple(session.execute(statement, {"key": key}).one())
            assert database.read_now(statement, {"key": key}) == expected
    assert database.read_now(statement, {"key": 2_000_000}) is None


def test_values_written_into_a_statement_are_bound_too(
    database: Database, world_url: tuple[str, World]
) -> None:
    if not world_url[0].startswith("sqlite"):
        pytest.skip("only a SQLite file has a quick reader")
    ana = world_url[1].people["ana"]
    statement = sa.select(Person.display_name).where(Person.id == ana, Person.email.like("ana@%"))
    assert database.read_now(statement, {}) == ("Ana",)


def test_a_missing_parameter_is_named(database: Database, world_url: tuple[str, World]) -> None:
    if not world_url[0].startswith("sqlite"):
        pytest.skip("only a SQLite file has a quick reader")
    with pytest.raises(ValueError, match=r"\['key'\]"):
        database.read_now(_everything(Person), {})


def test_postgres_reads_in_a_worker_thread(
    database: Database, world_url: tuple[str, World]
) -> None:
    if world_url[0].startswith("sqlite"):
        pytest.skip("the SQLite copy of this test is the one above")
    assert database.quick_reader is None
    with pytest.raises(QuickReadUnavailableError):
        database.read_now(_everything(Person), {"key": 1})


def test_an_in_memory_database_has_no_quick_reader() -> None:
    database = open_database("sqlite://")
    try:
        with pytest.raises(QuickReadUnavailableError):
            database.read_now(_everything(Person), {"key": 1})
    finally:
        database.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[tuple[Database, Path]]:
    path = tmp_path / "quick.sqlite3"
    database = open_database(f"sqlite:///{path}")
    upgrade(database.engine)
    with database.writer() as session:
        session.add(Person(email="q@example.org", display_name="Q"))
        session.commit()
    yield database, path
    database.dispose()


def test_a_busy_file_sends_the_read_to_a_worker_thread(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, path = sqlite_database
    statement = _everything(Person)
    assert database.read_now(statement, {"key": 1}) is not None
    database.dispose()  # an exclusive lock can only be taken with no other connection open
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        # An exclusive lock keeps even WAL readers out: the quick read gives up in moments.
        blocker.execute("PRAGMA locking_mode = EXCLUSIVE")
        blocker.execute("BEGIN EXCLUSIVE")
        blocker.execute("UPDATE person SET display_name = 'R'")
        with pytest.raises(QuickReadUnavailableError, match="locked"):
            database.read_now(statement, {"key": 1})
        blocker.execute("COMMIT")
    finally:
        blocker.close()
    row = database.read_now(statement, {"key": 1})
    assert row is not None
    assert row[2] == "R"


def test_the_quick_reader_cannot_write(sqlite_database: tuple[Database, Path]) -> None:
    database, _path = sqlite_database
    reader = database.quick_reader
    assert reader is not None
    reader.first(_everything(Person), {"key": 1})
    connection = reader._connection()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM person")
    with database.reader() as session:
        assert session.scalar(sa.select(sa.func.count(Person.id))) == 1


def test_each_thread_has_its_own_connection_and_dispose_closes_them(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, _path = sqlite_database
    reader = database.quick_reader
    assert reader is not None
    connections: list[object] = []

    def read() -> None:
        assert database.read_now(_everything(Person), {"key": 1}) is not None
        connections.append(reader._connection())

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read()
    read()
    assert len({id(c) for c in connections}) == 4  # three threads and this one, reused here
    database.dispose()
    for connection in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")  # type: ignore[attr-defined]


def test_a_session_knows_whether_it_holds_a_connection(
    sqlite_database: tuple[Database, Path],
) -> None:
    database, _path = sqlite_database
    session: StoreSession = database.writer()
    try:
        person = Person(id=99, email="x@example.org", display_name="X")
        session.add(person)  # begins a transaction, but takes no connection
        assert session.in_transaction()
        assert not session.holds_connection
        session.flush()
        assert session.holds_connection
        session.commit()
        assert not session.holds_connection
        session.scalar(sa.select(Person.id).where(Person.id == 99))
        assert session.holds_connection
        session.rollback()
        assert not session.holds_connection
    finally:
        session.close()
