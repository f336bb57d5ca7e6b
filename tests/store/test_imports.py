"""Imports: a valid file is stored whole, a file with any problem is rejected whole with every
problem listed by line and column, and a dry run stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker

from attunement.errors import InvalidInputError
from attunement.store import StoreSession
from attunement.store.imports import import_interactions, import_measurements
from attunement.store.models import AuditAction, AuditEvent, Interaction, Measurement, RecordSource
from tests.store.world import World


def _count(
    factory: sessionmaker[StoreSession], model: type[Measurement] | type[Interaction]
) -> int:
    with factory() as session:
        return int(session.scalar(sa.select(sa.func.count(model.id))) or 0)


def _write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


EIS_OK = """
email,instrument_id,taken_at,relationship_id,about_email,eis_1,eis_2,eis_3,eis_4,eis_5
ana@example.org,eis,2026-03-09T21:00:00+01:00,1,ben@example.org,5,4,4,5,5
BEN@example.org,eis,2026-03-09,1,ana@example.org,3,3,,4,4
ana@example.org,swls,2026-03-09T21:00:00Z,,,,,,,
"""


def test_valid_measurements_are_stored_and_scored(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, world = world_db
    text = EIS_OK.replace(
        ",swls,2026-03-09T21:00:00Z,,,,,,,", ",eis,2026-03-10T08:00:00Z,,,2,2,2,2,2"
    )
    path = _write(tmp_path / "eis.csv", text)
    before = _count(factory, Measurement)
    with factory() as session:
        report = import_measurements(session, path)
    assert (report.rows, report.stored, report.dry_run) == (3, 3, False)
    assert _count(factory, Measurement) == before + 3
    with factory() as session:
        stored = session.scalars(
            sa.select(Measurement)
            .where(Measurement.source == RecordSource.IMPORT)
            .order_by(Measurement.id)
        ).all()
        assert [m.scores["eis_total"] for m in stored] == [23, 17.5, 10]  # 14 of 4 items -> 17.5
        assert stored[0].taken_at.isoformat() == "2026-03-09T20:00:00+00:00"
        assert stored[1].person_id == world.people["ben"]
        assert stored[1].about_person_id == world.people["ana"]
        assert stored[1].responses["eis_3"] is None
        audit = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == AuditAction.IMPORT)
        ).one()
        assert audit.row_count == 3


def test_dry_run_stores_nothing(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, _world = world_db
    text = EIS_OK.replace(
        ",swls,2026-03-09T21:00:00Z,,,,,,,", ",eis,2026-03-10T08:00:00Z,,,2,2,2,2,2"
    )
    path = _write(tmp_path / "eis.csv", text)
    before = _count(factory, Measurement)
    with factory() as session:
        report = import_measurements(session, path, dry_run=True)
    assert report.stored == 3
    assert "dry run" in report.describe()
    assert _count(factory, Measurement) == before


BAD = """
email,instrument_id,taken_at,relationship_id,about_email,eis_1,eis_2,eis_3,eis_4,eis_5
ana@example.org,eis,2026-03-09T21:00:00+01:00,1,ben@example.org,5,4,4,5,5
nobody@example.org,eis,2026-03-09T21:00:00,1,,6,4,4,5,x
ana@example.org,eis,yesterday,2,ben@example.org,1,1,1,1,1
cleo@example.org,nope,2026-03-09,,,1,1,1,1,1
"""


def test_a_bad_file_is_rejected_whole_with_every_problem(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, _world = world_db
    path = _write(tmp_path / "bad.csv", BAD)
    before = _count(factory, Measurement)
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        import_measurements(session, path)
    assert _count(factory, Measurement) == before
    found = {(p.line, p.column, p.message) for p in caught.value.problems}
    assert found == {
        (3, "email", "no account with this email address"),
        (3, "taken_at", "time without a timezone"),
        (3, "eis_1", "out of range"),
        (3, "eis_5", "not a number"),
        (4, "taken_at", "not a date or time"),
        (4, "about_email", "not a current member of relationship 2"),
        (5, "instrument_id", "unknown instrument"),
    }
    assert caught.value.message == "bad.csv: 7 problem(s); nothing was imported."


def test_missing_and_unknown_columns(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, _world = world_db
    path = _write(tmp_path / "cols.csv", "email,when,eis_1\nana@example.org,2026-03-09,3")
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        import_measurements(session, path)
    columns = {p.column for p in caught.value.problems}
    assert columns == {"taken_at", "instrument_id", "when"}


DIARY = """
email,relationship_id,occurred_at,channel,duration_minutes,shared,pair,note,interaction_1,interaction_2,interaction_3,interaction_4,interaction_5,interaction_6,interaction_7,interaction_8
ana@example.org,1,2026-03-10T19:00:00Z,in_person,45,true,p1,dinner,5,5,4,4,6,6,6,6
ben@example.org,1,2026-03-10T19:00:00Z,in_person,45,,p1,,4,4,4,5,5,5,6,5
ana@example.org,1,2026-03-11T08:00:00Z,text,,false,,,3,3,3,3,3,3,3,3
"""


def test_diary_records_are_stored_and_pairs_linked(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, world = world_db
    path = _write(tmp_path / "diary.csv", DIARY)
    before = _count(factory, Interaction)
    with factory() as session:
        report = import_interactions(session, path)
    assert (report.stored, report.linked_pairs) == (3, 1)
    assert _count(factory, Interaction) == before + 3
    with factory() as session:
        rows = session.scalars(
            sa.select(Interaction)
            .where(Interaction.source == RecordSource.IMPORT)
            .order_by(Interaction.id)
        ).all()
        assert rows[0].partner_record_id == rows[1].id
        assert rows[1].partner_record_id == rows[0].id
        assert rows[2].partner_record_id is None
        assert rows[2].shared is False
        assert rows[1].shared is True  # the relationship's default
        assert rows[0].note == "dinner"
        assert rows[0].note_shared is False
        assert rows[0].scores["interaction_responsiveness"] == 6
        assert rows[1].person_id == world.people["ben"]


def test_bad_pairs_are_reported(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, _world = world_db
    text = DIARY.replace(",false,,", ",false,p1,").replace(
        "ben@example.org,1,", "ben@example.org,1,"
    )
    text += "ana@example.org,1,2026-03-12T08:00:00Z,walk,,maybe,p2,,1,1,1,1,1,1,1,1\n"
    text += "ana@example.org,1,2026-03-12T08:00:00Z,text,,,p2,,1,1,1,1,1,1,1,1\n"
    path = _write(tmp_path / "pairs.csv", text)
    before = _count(factory, Interaction)
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        import_interactions(session, path)
    assert _count(factory, Interaction) == before
    found = {(p.line, p.column, p.message) for p in caught.value.problems}
    assert found == {
        (5, "channel", "unknown channel"),
        (5, "shared", "not true or false"),
        (2, "pair", "3 rows share this pair label"),
        (6, "pair", "both records of the pair are by one person"),
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    row=st.integers(min_value=0, max_value=2),
    item=st.integers(min_value=1, max_value=5),
    value=st.sampled_from(["0", "6", "2.5", "-1", "many", "99"]),
)
def test_any_bad_answer_rejects_the_whole_file(
    world_db: tuple[sessionmaker[StoreSession], World],
    tmp_path: Path,
    row: int,
    item: int,
    value: str,
) -> None:
    factory, _world = world_db
    lines = EIS_OK.strip().splitlines()[:3]
    lines.append("ana@example.org,eis,2026-03-10T08:00:00Z,,,2,2,2,2,2")
    cells = lines[row + 1].split(",")
    cells[4 + item] = value
    lines[row + 1] = ",".join(cells)
    path = _write(tmp_path / "one_bad.csv", "\n".join(lines))
    before = _count(factory, Measurement)
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        import_measurements(session, path)
    assert _count(factory, Measurement) == before
    assert [(p.line, p.column) for p in caught.value.problems] == [(row + 2, f"eis_{item}")]


def test_a_row_without_any_answer_names_the_item_columns(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, _world = world_db
    path = _write(
        tmp_path / "empty.csv",
        "email,taken_at,instrument_id,eis_1,eis_2,eis_3,eis_4,eis_5\n"
        "ana@example.org,2026-03-09T10:00:00Z,eis,,,,,\n",
    )
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        import_measurements(session, path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, "eis_1")
    assert problem.message == "no answers for eis: every item cell is empty"
    assert problem.allowed == "at least one answer in eis_1 ... eis_5"


def test_answers_are_quoted_as_written_and_fractions_are_not_whole(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, _world = world_db
    path = _write(
        tmp_path / "values.csv",
        "email,taken_at,instrument_id,eis_1,eis_2,eis_3,eis_4,eis_5\n"
        "ana@example.org,2026-03-09T10:00:00Z,eis,9,2.5,,4,4\n"
        "ana@example.org,2026-03-10T10:00:00Z,eis,,4,4,4,4\n",
    )
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        import_measurements(session, path)
    found = [(p.line, p.column, p.message, p.value) for p in caught.value.problems]
    assert found == [
        (2, "eis_1", "out of range", "9"),  # the column has a gap, so pandas read 9.0
        (2, "eis_2", "not a whole number", "2.5"),
    ]
