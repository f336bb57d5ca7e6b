"""The demo data: reproducible from its seed, realistic in shape, and stored through the same
rules as real data (scored, linked, private notes private)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from attunement.errors import ConflictError
from attunement.store import StoreSession, create_engine_from_url, make_session_factory, upgrade
from attunement.store.access import read_interaction
from attunement.store.demo import DEMO_DOMAIN, generate_demo
from attunement.store.models import (
    ClosenessSession,
    ClosenessState,
    Interaction,
    Measurement,
    Person,
)
from attunement.store.passwords import verify_password
from attunement.store.records import create_person

START = date(2026, 3, 2)


def _content(factory: sessionmaker[StoreSession]) -> dict[str, list[Any]]:
    with factory() as session:
        interactions = session.execute(
            sa.select(
                Interaction.person_id,
                Interaction.occurred_at,
                Interaction.channel,
                Interaction.duration_minutes,
                Interaction.responses,
                Interaction.scores,
                Interaction.note,
                Interaction.partner_record_id,
            ).order_by(Interaction.id)
        ).all()
        measurements = session.execute(
            sa.select(
                Measurement.person_id,
                Measurement.instrument_id,
                Measurement.taken_at,
                Measurement.responses,
                Measurement.scores,
            ).order_by(Measurement.id)
        ).all()
    return {"interactions": list(interactions), "measurements": list(measurements)}


def _generated(path: Path, seed: int) -> dict[str, list[Any]]:
    engine = create_engine_from_url(f"sqlite:///{path}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        generate_demo(session, seed=seed, start=START, days=7)
    content = _content(factory)
    engine.dispose()
    return content


@pytest.mark.slow
def test_same_seed_same_data(tmp_path: Path) -> None:
    first = _generated(tmp_path / "first.sqlite3", seed=7)
    assert _generated(tmp_path / "second.sqlite3", seed=7) == first
    assert _generated(tmp_path / "third.sqlite3", seed=8) != first


@pytest.mark.slow
def test_three_weeks_of_realistic_data(factory: sessionmaker[StoreSession]) -> None:
    with factory() as session:
        summary = generate_demo(session, start=START)
    assert len(summary.people) == 6
    with factory() as session:
        records = session.scalars(sa.select(Interaction)).all()
        assert 60 <= len(records) <= 250
        linked = [r for r in records if r.partner_record_id is not None]
        assert len(linked) >= len(records) / 2, "most interactions are rated by both people"
        for record in linked:  # links are symmetric and within one relationship
            partner = session.get_one(Interaction, record.partner_record_id)
            assert partner.partner_record_id == record.id
            assert partner.relationship_id == record.relationship_id
            assert partner.person_id != record.person_id
        days = {r.occurred_at.date() for r in records}
        assert min(days) >= START
        assert (max(days) - START).days <= 20
        for record in records:
            assert set(record.scores) >= {"interaction_responsiveness", "interaction_intimacy"}
        eis = session.scalars(sa.select(Measurement).where(Measurement.instrument_id == "eis"))
        totals = [m.scores["eis_total"] for m in eis]
        assert len(totals) == 6 * 3  # at the end of each of three weeks, six people
        assert all(total is None or 5 <= total <= 25 for total in totals)
        live = session.get_one(ClosenessSession, summary.closeness_session_id)
        assert live.state is ClosenessState.FINISHED
        assert len(live.questions) == 36
        assert len(live.sets) == 3
        assert (live.ios_before_a, live.ios_after_a) == (3, 5)
        maya = session.scalars(sa.select(Person).where(Person.email == f"maya@{DEMO_DOMAIN}")).one()
        assert verify_password(maya.password_hash, summary.password)
        # Private notes stay private in the demo too.
        hidden = [r for r in linked if r.note is not None and not r.note_shared]
        assert hidden, "the demo has private notes"
        other = session.get_one(Interaction, hidden[0].partner_record_id)
        assert read_interaction(session, other.person_id, hidden[0].id).note is None


def test_demo_refuses_to_run_twice(factory: sessionmaker[StoreSession]) -> None:
    with factory() as session:
        create_person(session, f"maya@{DEMO_DOMAIN}", "Maya")
        session.commit()
    with factory() as session, pytest.raises(ConflictError, match="already holds the demo"):
        generate_demo(session, start=START, days=7)
    with factory() as session:
        assert session.scalar(sa.select(sa.func.count(Person.id))) == 1


@pytest.mark.slow
def test_study_export_feeds_the_diary_apim(tmp_path: Path) -> None:
    """The long export goes straight into the actor-partner model: the demo generates intimacy
    that rises with one's own perceived responsiveness, and the model finds that."""
    from attunement.analysis import apim_diary
    from attunement.store.export import study_tables

    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    upgrade(engine)
    with make_session_factory(engine)() as session:
        summary = generate_demo(session, start=START, days=14)
        rosa = session.scalars(sa.select(Person).where(Person.email == f"rosa@{DEMO_DOMAIN}"))
        tables = study_tables(session, rosa.one().id, summary.study_id or 0)
    engine.dispose()
    long = tables.long
    diary = long[(long["record_type"] == "interaction") & long["dyad_id"].notna()]
    result = apim_diary(
        diary,
        dyad="dyad_id",
        person="participant_id",
        occasion="interaction_key",
        x="interaction_responsiveness",
        y="interaction_intimacy",
    )
    effects = result.effects.set_index("effect")
    assert effects.loc["actor_within", "ci_low"] > 0
