"""A writer loop for durability checks: many writers, or a writer killed mid-stream.

Each write is one transaction storing one practice-log row whose ``note`` is a unique tag
(``<tag>-<n>``); the write is *acknowledged* once the commit has returned. The concurrency and
crash tests (tests/store/test_durability.py) and ``benchmarks/store_concurrency.py`` check
that every acknowledged tag is stored, exactly once, and that the database is consistent.

Command line (used for the crash test, so the writer is a separate process that can be
killed): ``python -m attunement.store.stress write URL PERSON_ID TAG`` prints ``ack <n>`` on
standard output after each commit.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from attunement.store.engine import create_engine_from_url, make_session_factory
from attunement.store.models import PracticeLog
from attunement.store.records import create_person

__all__ = ["consistency_problems", "prepare_writers", "stored_tags", "write_records"]

PRACTICE = "durability_check"


def prepare_writers(url: str, writers: int, *, prefix: str = "writer") -> list[int]:
    """Create one person per writer; returns their ids."""
    engine = create_engine_from_url(url)
    try:
        with make_session_factory(engine)() as session:
            ids = [
                create_person(session, f"{prefix}{n}@load.invalid", f"Writer {n}").id
                for n in range(writers)
            ]
            session.commit()
        return ids
    finally:
        engine.dispose()


def write_records(
    url: str,
    person_id: int,
    tag: str,
    *,
    seconds: float | None = None,
    count: int | None = None,
    ack: Callable[[int], None] | None = None,
) -> int:
    """Write rows one transaction each until ``seconds`` pass or ``count`` rows are written;
    call ``ack(n)`` after each commit. Returns the number of acknowledged rows."""
    engine = create_engine_from_url(url, pool_size=1, max_overflow=0)
    factory = make_session_factory(engine)
    deadline = time.monotonic() + seconds if seconds is not None else None
    written = 0
    try:
        while (count is None or written < count) and (
            deadline is None or time.monotonic() < deadline
        ):
            with factory() as session:
                session.add(
                    PracticeLog(
                        person_id=person_id,
                        practice=PRACTICE,
                        done_at=datetime.now(UTC),
                        note=f"{tag}-{written + 1}",
                    )
                )
                session.commit()
            written += 1
            if ack is not None:
                ack(written)
        return written
    finally:
        engine.dispose()


def stored_tags(url: str, tag: str) -> list[str]:
    """The tags stored for ``tag`` (with duplicates, if any)."""
    engine = create_engine_from_url(url)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    sa.select(PracticeLog.note).where(
                        PracticeLog.practice == PRACTICE, PracticeLog.note.like(f"{tag}-%")
                    )
                )
            )
    finally:
        engine.dispose()


def consistency_problems(url: str) -> list[str]:
    """What is wrong with the database's integrity (empty: nothing): SQLite's integrity and
    foreign key checks; on PostgreSQL, that every practice log has its person."""
    engine = create_engine_from_url(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                integrity = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                problems = [str(row) for row in integrity if row != "ok"]
                return problems + [f"dangling reference {tuple(row)}" for row in dangling]
            orphans = connection.execute(
                sa.text(
                    "SELECT count(*) FROM practice_log p LEFT JOIN person s "
                    "ON s.id = p.person_id WHERE s.id IS NULL"
                )
            ).scalar()
            return [f"{orphans} practice logs without a person"] if orphans else []
    finally:
        engine.dispose()


def _main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "write":
        print("usage: python -m attunement.store.stress write URL PERSON_ID TAG", file=sys.stderr)
        return 2
    _, url, person_id, tag = argv

    def ack(number: int) -> None:
        sys.stdout.write(f"ack {number}\n")
        sys.stdout.flush()

    write_records(url, int(person_id), tag, ack=ack)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
