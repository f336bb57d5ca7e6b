"""Backup and restore of SQLite with the online backup API; PostgreSQL is pointed to pg_dump."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from attunement.errors import InvalidInputError
from attunement.store import create_engine_from_url, head_revision, make_session_factory, upgrade
from attunement.store.backup import backup_sqlite, check_backup, restore_sqlite
from attunement.store.models import AuditAction, AuditEvent, Person
from attunement.store.records import create_person


def _people(url: str) -> set[str]:
    engine = create_engine_from_url(url)
    with make_session_factory(engine)() as session:
        emails = set(session.scalars(sa.select(Person.email)))
    engine.dispose()
    return emails


def _add(url: str, *emails: str) -> None:
    engine = create_engine_from_url(url)
    with make_session_factory(engine)() as session:
        for email in emails:
            create_person(session, email, email.split("@")[0])
        session.commit()
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'live' / 'attunement.sqlite3'}"
    upgrade(url)
    return url


def test_backup_then_restore_brings_back_that_moment(sqlite_url: str, tmp_path: Path) -> None:
    _add(sqlite_url, "ana@example.org", "ben@example.org")
    info = backup_sqlite(sqlite_url, tmp_path / "copies" / "one.sqlite3")
    assert info.path.exists()
    assert (info.people, info.revision) == (2, head_revision())
    assert not list((tmp_path / "copies").glob("*.partial"))
    _add(sqlite_url, "cleo@example.org")
    saved = restore_sqlite(info.path, sqlite_url)
    assert _people(sqlite_url) == {"ana@example.org", "ben@example.org"}
    # The database as it was before the restore is kept beside it.
    assert saved.path.name.startswith("before-restore-")
    assert _people(f"sqlite:///{saved.path}") == {
        "ana@example.org",
        "ben@example.org",
        "cleo@example.org",
    }
    engine = create_engine_from_url(sqlite_url)
    with make_session_factory(engine)() as session:
        actions = [e.action for e in session.scalars(sa.select(AuditEvent))]
    engine.dispose()
    assert actions == [AuditAction.RESTORE]  # the backup event is after the snapshot


def test_backup_is_consistent_while_writers_write(sqlite_url: str, tmp_path: Path) -> None:
    stop = threading.Event()
    written: list[str] = []

    def writer() -> None:
        engine = create_engine_from_url(sqlite_url)
        factory = make_session_factory(engine)
        number = 0
        while not stop.is_set():
            number += 1
            email = f"w{number}@example.org"
            with factory() as session:
                create_person(session, email, "W")
                session.commit()
            written.append(email)
        engine.dispose()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        info = backup_sqlite(sqlite_url, tmp_path / "during.sqlite3")
    finally:
        stop.set()
        thread.join()
    copied = _people(f"sqlite:///{info.path}")
    assert check_backup(info.path).people == len(copied) >= 20
    # A consistent snapshot: exactly a prefix of the acknowledged writes.
    assert copied == set(written[: len(copied)])


def test_default_destination_and_no_overwrite(sqlite_url: str) -> None:
    info = backup_sqlite(sqlite_url)
    assert info.path.parent.name == "backups"
    assert info.path.name.startswith("attunement-")
    with pytest.raises(InvalidInputError, match="exists already"):
        backup_sqlite(sqlite_url, info.path)


def test_restore_upgrades_an_older_backup(tmp_path: Path) -> None:
    old = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(old, "0002")
    _add(old, "ana@example.org")
    live = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    upgrade(live)
    restore_sqlite(tmp_path / "old.sqlite3", live)
    assert check_backup(tmp_path / "live.sqlite3").revision == head_revision()
    assert _people(live) == {"ana@example.org"}


def test_bad_backups_are_refused(sqlite_url: str, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InvalidInputError, match="not a readable SQLite database"):
        restore_sqlite(garbage, sqlite_url)
    with pytest.raises(InvalidInputError, match="No backup file"):
        check_backup(tmp_path / "missing.sqlite3")


def test_postgres_is_pointed_to_pg_dump() -> None:
    with pytest.raises(InvalidInputError) as caught:
        backup_sqlite("postgresql://u@localhost/db")
    assert "pg_dump" in (caught.value.hint or "")


def test_a_malformed_database_url_is_a_clear_error(sqlite_url: str, tmp_path: Path) -> None:
    backup = backup_sqlite(sqlite_url, tmp_path / "backup.sqlite3").path
    with pytest.raises(InvalidInputError, match="Not a database URL: notaurl") as caught:
        backup_sqlite("notaurl")
    assert "sqlite:///" in (caught.value.hint or "")
    with pytest.raises(InvalidInputError, match="Not a database URL: notaurl"):
        restore_sqlite(backup, "notaurl")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "answers.csv"
    junk.write_bytes(b"person,eis_1\nana,4\n" * 100)
    url = f"sqlite:///{junk}"
    with pytest.raises(InvalidInputError, match="is not a SQLite database") as caught:
        backup_sqlite(url, tmp_path / "copy.sqlite3")
    assert str(junk) in caught.value.message
    assert not list(tmp_path.glob("copy.sqlite3*"))  # no partial copy left behind
    with pytest.raises(InvalidInputError, match="is not a SQLite database") as opened:
        upgrade(url)
    assert "--database-url" in (opened.value.hint or "")
