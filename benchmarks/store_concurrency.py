"""Concurrency and crash durability of the data store, with a bare-driver peer.

1. Concurrency: W writer *processes* (default 8) write for S seconds through the store (one
   ORM transaction per row, via attunement.store.stress.write_records); every acknowledged
   row must be stored exactly once. The peer: the same rows written by W processes straight
   through the driver (sqlite3 with the same pragmas and BEGIN IMMEDIATE; psycopg with
   autocommit). Printed: rows/s of each and the ratio store / bare driver.
2. Crash: R rounds of a writer process killed with SIGKILL at a random moment mid-stream;
   after each, every acknowledged row must be present, without gaps or duplicates, and the
   database must pass its integrity checks.

Runs on a fresh SQLite file, and on PostgreSQL too when ATTUNEMENT_TEST_DATABASE_URL (or
--postgres URL) names a server where databases may be created.

    python benchmarks/store_concurrency.py --seconds 10 --writers 8 --crash-rounds 10
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from attunement.store import create_engine_from_url, upgrade
from attunement.store.stress import (
    PRACTICE,
    consistency_problems,
    prepare_writers,
    stored_tags,
    write_records,
)


def _store_writer(url: str, person: int, tag: str, seconds: float, start: object) -> int:
    start.wait()  # type: ignore[attr-defined]
    return write_records(url, person, tag, seconds=seconds)


def _bare_writer(url: str, person: int, tag: str, seconds: float, start: object) -> int:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    written = 0
    insert = (
        "INSERT INTO practice_log (person_id, practice, done_at, note, shared, created_at) "
        "VALUES ({p}, {p}, {p}, {p}, {false}, {p})"
    )
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(parsed.database or "", timeout=30, isolation_level=None)
        for pragma in ("busy_timeout = 30000", "foreign_keys = ON", "synchronous = FULL"):
            connection.execute(f"PRAGMA {pragma}")
        sql = insert.format(p="?", false="0")
        start.wait()  # type: ignore[attr-defined]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(sql, (person, PRACTICE, now, f"{tag}-{written + 1}", now))
            connection.execute("COMMIT")
            written += 1
        connection.close()
        return written
    import psycopg

    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        sql = insert.format(p="%s", false="false")
        start.wait()  # type: ignore[attr-defined]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = datetime.now(UTC)
            connection.execute(sql, (person, PRACTICE, now, f"{tag}-{written + 1}", now))
            written += 1
    return written


def _concurrent(url: str, writers: int, seconds: float, bare: bool) -> tuple[float, int]:
    kind = "bare" if bare else "store"
    people = prepare_writers(url, writers, prefix=f"{kind}{uuid.uuid4().hex[:6]}")
    context = mp.get_context("spawn")
    start = context.Manager().Event()
    target = _bare_writer if bare else _store_writer
    with context.Pool(writers) as pool:
        results = [
            pool.apply_async(target, (url, people[n], f"{kind}{n}", seconds, start))
            for n in range(writers)
        ]
        time.sleep(3.0)  # let every process import and connect before the clock starts
        start.set()
        counts = [result.get(timeout=seconds + 120) for result in results]
    for n, acknowledged in enumerate(counts):
        stored = Counter(stored_tags(url, f"{kind}{n}"))
        expected = {f"{kind}{n}-{i}" for i in range(1, acknowledged + 1)}
        if set(stored) != expected or (stored and max(stored.values()) > 1):
            raise SystemExit(f"LOST OR DUPLICATED WRITES: writer {n} of {kind}")
    return sum(counts) / seconds, sum(counts)


def _crash_rounds(url: str, rounds: int) -> tuple[int, int]:
    acked_total = extra_total = 0
    for round_number in range(rounds):
        (person,) = prepare_writers(url, 1, prefix=f"crash{round_number}x")
        tag = f"k{round_number}"
        command = [sys.executable, "-m", "attunement.store.stress", "write", url, str(person), tag]
        acked = 0
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as writer:
            assert writer.stdout is not None
            kill_at = random.uniform(0.2, 1.5)
            first = None
            for line in writer.stdout:
                acked = int(line.split()[1])
                first = first or time.monotonic()
                if time.monotonic() - first >= kill_at:
                    os.kill(writer.pid, signal.SIGKILL)
                    break
            writer.wait(timeout=60)
        numbers = sorted(int(tag_.split("-")[1]) for tag_ in stored_tags(url, tag))
        if numbers[:acked] != list(range(1, acked + 1)) or numbers != list(
            range(1, len(numbers) + 1)
        ):
            raise SystemExit(f"CRASH ROUND {round_number}: acknowledged rows missing")
        problems = consistency_problems(url)
        if problems:
            raise SystemExit(f"CRASH ROUND {round_number}: inconsistent database: {problems}")
        acked_total += acked
        extra_total += len(numbers) - acked
    return acked_total, extra_total


def _run(name: str, url: str, args: argparse.Namespace) -> None:
    upgrade(url)
    store_rate, store_rows = _concurrent(url, args.writers, args.seconds, bare=False)
    bare_rate, bare_rows = _concurrent(url, args.writers, args.seconds, bare=True)
    print(f"[{name}] {args.writers} writers x {args.seconds:.0f} s, one transaction per row")
    print(f"  store (ORM, attunement session): {store_rate:8.1f} rows/s ({store_rows} rows)")
    print(f"  bare driver (peer)             : {bare_rate:8.1f} rows/s ({bare_rows} rows)")
    print(f"  ratio store / bare driver      : {store_rate / bare_rate:8.2f}")
    print("  every acknowledged row of both stored exactly once")
    acked, extra = _crash_rounds(url, args.crash_rounds)
    print(
        f"  crash: {args.crash_rounds} writers killed with SIGKILL mid-stream; {acked} "
        f"acknowledged rows all present, {extra} committed-but-unacknowledged rows, "
        "integrity checks clean"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--crash-rounds", type=int, default=10)
    parser.add_argument("--postgres", default=os.environ.get("ATTUNEMENT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _run("SQLite", f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args)
    if args.postgres:
        from sqlalchemy.engine import make_url

        name = f"attunement_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine_from_url(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            _run("PostgreSQL", url, args)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
