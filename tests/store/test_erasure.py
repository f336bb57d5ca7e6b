"""Erasure: after erasing a person, no row of any table holds anything that identifies them,
while the other people's own data stays (unlinked)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from attunement.errors import ConflictError
from attunement.store import StoreSession, transaction
from attunement.store.access import read_interaction
from attunement.store.erasure import erase_person
from attunement.store.models import (
    AuditAction,
    AuditEvent,
    Base,
    ClosenessCondition,
    ClosenessSession,
    ClosenessState,
    Interaction,
    Measurement,
    Person,
    Relationship,
)
from attunement.store.records import add_measurement
from tests.store.world import EIS, T0, World

ANA_TRACES = ("ana@example.org", "Ana", "ana's private note", "for ben too", "secret")


def _all_text(engine: Engine) -> str:
    """Every value of every table, as one text."""
    parts = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


@pytest.fixture
def erasure_db(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> tuple[sessionmaker[StoreSession], World]:
    factory, world = world_db
    with transaction(factory) as session:
        # ben answers a questionnaire about ana, and the two did a 36 Questions session.
        add_measurement(
            session,
            world.people["ben"],
            "eis",
            EIS,
            taken_at=T0,
            relationship_id=world.relationships["couple"],
            about_person_id=world.people["ana"],
        )
        session.add(
            ClosenessSession(
                join_code="ERASE2",
                person_a_id=world.people["ana"],
                person_b_id=world.people["ben"],
                condition=ClosenessCondition.CLOSENESS,
                ios_before_a=3,
                ios_before_b=4,
                live_state={"participants": [1, 2]},
                state=ClosenessState.IN_PROGRESS,
            )
        )
    return factory, world


def test_erasure_keeps_nothing_identifying(
    erasure_db: tuple[sessionmaker[StoreSession], World], world_engine: Engine
) -> None:
    factory, world = erasure_db
    engine = world_engine
    ana, ben = world.people["ana"], world.people["ben"]
    assert all(trace in _all_text(engine) for trace in ANA_TRACES)
    with factory() as session:
        report = erase_person(session, ana)
    text = _all_text(engine)
    for trace in ANA_TRACES:
        assert trace not in text, f"{trace!r} survived the erasure"
    assert report.counts["interaction records"] == 4
    assert report.counts["others' records unlinked"] == 1
    with factory() as session:
        assert session.get(Person, ana) is None
        for model in (Interaction, Measurement):
            owners = set(session.scalars(sa.select(model.person_id)))
            assert ana not in owners
        # ben's own records stay, unlinked; his EIS about ana is about nobody now.
        ben_record = session.get_one(Interaction, world.interactions["ben_answer"])
        assert ben_record.partner_record_id is None
        assert read_interaction(session, ben, ben_record.id).is_own
        about = session.scalars(sa.select(Measurement).where(Measurement.person_id == ben)).one()
        assert about.about_person_id is None
        live = session.scalars(sa.select(ClosenessSession)).one()
        assert (live.person_a_id, live.ios_before_a, live.live_state) == (None, None, None)
        assert (live.person_b_id, live.ios_before_b) == (ben, 4)
        assert live.state is ClosenessState.ABANDONED
        # The couple still has ben; the friends still have cleo (eve left but is a member row).
        assert session.get(Relationship, world.relationships["couple"]) is not None
        event = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ERASURE)
        ).one()
        assert event.actor_id is None
        assert event.details["counts"]["memberships"] == 2


def test_relationship_without_members_is_deleted(
    erasure_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = erasure_db
    for name in ("ana", "ben"):
        with factory() as session:
            erase_person(session, world.people[name])
    with factory() as session:
        assert session.get(Relationship, world.relationships["couple"]) is None
        assert session.get(Relationship, world.relationships["friends"]) is not None


def test_study_owner_cannot_be_erased(
    erasure_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = erasure_db
    with factory() as session, pytest.raises(ConflictError, match="owns 1 study"):
        erase_person(session, world.people["rita"])
    with factory() as session:
        assert session.get(Person, world.people["rita"]) is not None
