"""Nothing acknowledged is lost: 8 concurrent writers, and a writer killed with SIGKILL in the
middle of its stream, on SQLite and PostgreSQL. (The longer run is
benchmarks/store_concurrency.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter

import pytest

from attunement.store.stress import (
    consistency_problems,
    prepare_writers,
    stored_tags,
    write_records,
)

WRITERS = 8
SECONDS = 2.0


def test_eight_writers_lose_nothing(database_url: str) -> None:
    people = prepare_writers(database_url, WRITERS)
    acknowledged: dict[int, list[int]] = {n: [] for n in range(WRITERS)}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            write_records(
                database_url, people[n], f"c{n}", seconds=SECONDS, ack=acknowledged[n].append
            )
        except BaseException as error:  # any failure of a writer fails the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = 0
    for n in range(WRITERS):
        stored = Counter(stored_tags(database_url, f"c{n}"))
        expected = {f"c{n}-{i}" for i in acknowledged[n]}
        assert set(stored) == expected, f"writer {n}: stored and acknowledged differ"
        assert max(stored.values()) == 1, f"writer {n}: a row was stored twice"
        assert acknowledged[n], f"writer {n} never got to write"
        total += len(expected)
    assert total >= WRITERS * 5
    assert consistency_problems(database_url) == []


@pytest.mark.slow
def test_killed_writer_keeps_every_acknowledged_record(database_url: str) -> None:
    (person,) = prepare_writers(database_url, 1, prefix="crash")
    command = [sys.executable, "-m", "attunement.store.stress", "write", database_url]
    acked = 0
    with subprocess.Popen(
        [*command, str(person), "k"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as writer:
        try:
            assert writer.stdout is not None
            for line in writer.stdout:
                acked = int(line.split()[1])
                if acked >= 40:
                    os.kill(writer.pid, signal.SIGKILL)
                    break
        finally:
            if writer.poll() is None:
                writer.kill()
            writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    stored = stored_tags(database_url, "k")
    numbers = sorted(int(tag.split("-")[1]) for tag in stored)
    # Every acknowledged write is there; the writer may have committed a few more before the
    # kill landed (acknowledged to nobody), but never with a gap or a duplicate.
    assert numbers[:acked] == list(range(1, acked + 1))
    assert numbers == list(range(1, len(numbers) + 1))
    assert consistency_problems(database_url) == []


@pytest.mark.parametrize("tag", ["x"])
def test_stored_tags_sees_only_its_own_tag(database_url: str, tag: str) -> None:
    (person,) = prepare_writers(database_url, 1)
    write_records(database_url, person, tag, count=3)
    write_records(database_url, person, tag + "y", count=2)
    assert sorted(stored_tags(database_url, tag)) == ["x-1", "x-2", "x-3"]
