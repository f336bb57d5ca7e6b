"""Exports: pseudonymized, only consenting participants, only what a member may read, dyad
tables with both people side by side, readable CSV, Parquet and SPSS with labels, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from attunement.errors import InvalidInputError, PermissionDeniedError
from attunement.store import StoreSession, transaction
from attunement.store.export import (
    LONG_ID_COLUMNS,
    export_archive,
    export_relationship,
    export_study,
    relationship_tables,
    study_tables,
)
from attunement.store.models import AuditAction, AuditEvent, Consent
from attunement.store.records import withdraw_consent
from tests.store.world import RATINGS, World

NAMES_AND_NOTES = (
    "example.org",
    "uni.example",
    "Ana",
    "Ben",
    "Cleo",
    "private note",
    "for ben too",
    "secret",
)


def test_study_export_is_pseudonymized_and_complete(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, world = world_db
    with factory() as session:
        paths = export_study(session, world.people["rita"], world.studies["S"], tmp_path)
        codes = {
            c.person_id: c.participant_code
            for c in session.scalars(sa.select(Consent).where(Consent.study_id == 1))
        }
    names = sorted(path.name for path in paths)
    assert names == sorted(
        [
            f"study_1_{t}.{k}"
            for t in ("long", "dyad_interactions", "dyad_weekly")
            for k in ("csv", "parquet", "sav")
        ]
        + ["study_1_codebook.json", "study_1_codebook.md"]
    )
    for path in paths:  # nothing identifying in any file, in any format
        content = path.read_bytes()
        for text in NAMES_AND_NOTES:
            assert text.encode() not in content, f"{text!r} leaked into {path.name}"
    long = pd.read_csv(tmp_path / "study_1_long.csv")
    assert list(long.columns[: len(LONG_ID_COLUMNS)]) == list(LONG_ID_COLUMNS)
    assert set(long["participant_id"]) == {codes[world.people["ana"]], codes[world.people["ben"]]}
    # ana's couple records: 4 interaction records of the couple (3 ana + 1 ben) + ana's
    # friends record with cleo (cleo does not take part: partner_id empty); EIS x3 of ana.
    interactions = long[long["record_type"] == "interaction"]
    assert len(interactions) == 5
    friends = interactions[interactions["partner_id"].isna()]
    assert len(friends) == 1
    assert set(long.loc[long["record_type"] == "measurement", "instrument_id"]) == {"eis"}
    assert "swls_total" not in long.columns  # not an instrument of the study


def test_dyad_table_puts_both_views_side_by_side(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    with factory() as session:
        tables = study_tables(session, world.people["rita"], world.studies["S"])
        codes = {
            c.person_id: c.participant_code
            for c in session.scalars(sa.select(Consent).where(Consent.study_id == 1))
        }
    wide = tables.dyad_interactions
    both = wide[
        wide["interaction_responsiveness_a"].notna() & wide["interaction_responsiveness_b"].notna()
    ]
    assert len(both) == 1  # the one interaction both recorded
    row = both.iloc[0]
    assert row["participant_a"] == codes[world.people["ana"]]  # joined first
    assert row["participant_b"] == codes[world.people["ben"]]
    # Hand-computed from RATINGS (n % 7 + 1): items 5, 6, 7 -> 6, 7, 1, mean 14/3.
    assert RATINGS["interaction_5"] == 6
    assert row["interaction_responsiveness_a"] == pytest.approx(14 / 3)
    assert row["interaction_responsiveness_b"] == pytest.approx(14 / 3)
    assert row["interaction_1_a"] == 2
    assert row["channel"] == "in_person"
    assert row["duration_minutes"] == 30
    # The couple's dyad rows: 3 interactions of ana (one answered by ben) -> 3 rows.
    couple = wide[wide["participant_b"] == codes[world.people["ben"]]]
    assert len(couple) == 3
    weekly = tables.dyad_weekly
    assert set(weekly.columns) >= {"week", "eis_total_a", "eis_total_b"}
    assert (
        weekly.loc[weekly["participant_b"] == codes[world.people["ben"]], "eis_total_a"].iloc[0]
        == 20
    )


def test_withdrawn_participant_leaves_later_exports(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    with transaction(factory) as session:
        withdraw_consent(session, world.people["ben"], world.studies["S"])
    with factory() as session:
        tables = study_tables(session, world.people["rita"], world.studies["S"])
    assert tables.long["participant_id"].nunique() == 1
    assert tables.dyad_interactions["interaction_1_b"].isna().all()
    assert tables.codebook["participants"] == 1


@pytest.mark.parametrize("actor", ["oscar", "ana", "zoe"])
def test_only_the_owner_exports_a_study(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, tmp_path: Path
) -> None:
    factory, world = world_db
    out = tmp_path / "export"
    with factory() as session, pytest.raises(PermissionDeniedError):
        export_study(session, world.people[actor], world.studies["S"], out)
    assert not out.exists()


def test_member_export_holds_only_what_they_may_read(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    with factory() as session:
        ben = relationship_tables(session, world.people["ben"], world.relationships["couple"])
        ana = relationship_tables(session, world.people["ana"], world.relationships["couple"])
    # ben sees his own record and ana's answered one; not her unanswered or private ones.
    assert len(ben.long[ben.long["record_type"] == "interaction"]) == 2
    assert len(ana.long[ana.long["record_type"] == "interaction"]) == 4
    # measurements: ben sees ana's shared EIS only; practices are not part of exports.
    assert len(ben.long[ben.long["record_type"] == "measurement"]) == 1
    assert set(ben.long["participant_id"]) == {"P1", "P2"}
    assert ben.codebook["members"] == {
        "P1": {"role": "partner", "current": True},
        "P2": {"role": "partner", "current": True},
    }


def test_formats_read_back_with_labels(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, world = world_db
    with factory() as session:
        export_relationship(session, world.people["ana"], world.relationships["couple"], tmp_path)
        tables = relationship_tables(session, world.people["ana"], world.relationships["couple"])
    parquet = pd.read_parquet(tmp_path / "relationship_1_long.parquet")
    pd.testing.assert_frame_equal(parquet, tables.long, check_dtype=False)
    frame, meta = pyreadstat.read_sav(str(tmp_path / "relationship_1_long.sav"))
    assert len(frame) == len(tables.long)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["eis_1"].startswith("Emotional Intimacy Scale, item 1")
    assert labels["interaction_5"].endswith("How much did you feel understood by the other person?")
    assert meta.variable_value_labels["eis_1"][1.0] == "strongly disagree"
    assert meta.variable_value_labels["both_recorded"] == {0.0: "one person", 1.0: "both people"}
    codebook = json.loads((tmp_path / "relationship_1_codebook.json").read_text())
    assert codebook["tables"]["dyad_interactions"]["interaction_responsiveness_a"]["label"] == (
        "Interaction record (intimacy process model): Perceived partner responsiveness "
        "(understood, validated, cared for) (member a)"
    )
    markdown = (tmp_path / "relationship_1_codebook.md").read_text()
    assert "| `interaction_responsiveness_a` | number |" in markdown
    assert "Sinclair, V. G., & Dowdy, S. W. (2005)" in markdown


def test_exports_are_audited(
    world_db: tuple[sessionmaker[StoreSession], World], tmp_path: Path
) -> None:
    factory, world = world_db
    rita, study = world.people["rita"], world.studies["S"]
    with factory() as session:
        with pytest.raises(InvalidInputError, match="Cannot write the export"):
            export_study(session, rita, study, "/dev/null/never")
        export_study(session, rita, study, tmp_path, formats=["csv"])
        archive = export_archive(study_tables(session, rita, study), formats=["csv"])
    assert archive[:2] == b"PK"
    with factory() as session:
        events = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
        ).all()
        assert len(events) == 1  # the failed export wrote nothing and is not an export
        event = events[0]
        assert (event.actor_id, event.study_id) == (rita, study)
        assert event.row_count == len(pd.read_csv(tmp_path / "study_1_long.csv"))
        assert event.details["formats"] == ["csv"]


def test_reading_study_tables_is_audited(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    with factory() as session:
        tables = study_tables(session, world.people["rita"], world.studies["S"])
        session.commit()
    with factory() as session:
        event = session.scalars(sa.select(AuditEvent)).one()
    assert event.action == AuditAction.RESEARCHER_READ
    assert (event.actor_id, event.study_id) == (world.people["rita"], world.studies["S"])
    assert event.row_count == len(tables.long)
