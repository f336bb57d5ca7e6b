"""Live sessions in a real database: joining, access, resuming, and two devices at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from attunement.closeness import (
    ManualClock,
    SessionState,
    act,
    create_live_session,
    join_live_session,
    next_question,
    participant_session,
    record_ios,
    sessions_of,
)
from attunement.errors import NotFoundError, PermissionDeniedError
from attunement.store import StoreSession, create_engine_from_url, make_session_factory
from attunement.store.models import Person
from attunement.store.records import create_relationship


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_from_url(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[StoreSession]:
    return make_session_factory(engine)


@pytest.fixture
def people(factory: sessionmaker[StoreSession]) -> tuple[int, int, int]:
    with factory() as db:
        found = [Person(email=f"{n}@example.org", display_name=n) for n in ("ana", "ben", "cy")]
        db.add_all(found)
        db.commit()
        return found[0].id, found[1].id, found[2].id


def ready(db: StoreSession, clock: ManualClock, ana: int, ben: int) -> str:
    code = create_live_session(db, ana, clock).state.code
    db.commit()
    join_live_session(db, code.lower(), ben, clock)
    for person, value in ((ana, 2), (ben, 6)):
        act(
            db,
            code,
            person,
            clock,
            lambda s, p=person, v=value: record_ios(s, p, "before", v, clock),
        )
    return code


def test_join_resume_and_strangers(
    factory: sessionmaker[StoreSession], people: tuple[int, int, int]
) -> None:
    ana, ben, cy = people
    clock = ManualClock()
    with factory() as db:
        code = ready(db, clock, ana, ben)
        with pytest.raises(NotFoundError):
            participant_session(db, code, cy)
        with pytest.raises(NotFoundError):
            act(db, code, cy, clock, lambda s: next_question(s, cy, (0, 0), clock))
        with pytest.raises(NotFoundError):  # a full session: nothing to see
            join_live_session(db, code, cy, clock)
        with pytest.raises(NotFoundError):
            join_live_session(db, "ZZZZZZ", cy, clock)
        assert [r.join_code for r in sessions_of(db, ben)] == [code]
        assert sessions_of(db, cy) == []
    with factory() as db:  # a new connection resumes the same state
        stored = participant_session(db, code, ben)
        assert stored.state.phase == "questions"
        assert stored.state.ios_before == {ana: 2, ben: 6}
        assert stored.record.ios_before_a == 2
        assert SessionState.from_dict(stored.record.live_state or {}) == stored.state


def test_relationship_sessions_admit_members_only(
    factory: sessionmaker[StoreSession], people: tuple[int, int, int]
) -> None:
    ana, _, cy = people
    clock = ManualClock()
    with factory() as db:
        rel = create_relationship(db, ana, "friend", "friend")
        db.commit()
        code = create_live_session(db, ana, clock, relationship_id=rel.id).state.code
        db.commit()
        with pytest.raises(PermissionDeniedError, match="not part of"):
            join_live_session(db, code, cy, clock)
        with pytest.raises(NotFoundError):
            create_live_session(db, cy, clock, relationship_id=rel.id)


def test_two_devices_tapping_next_at_once_advance_once(
    database_url: str, factory: sessionmaker[StoreSession], people: tuple[int, int, int]
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE); the race needs PostgreSQL")
    ana, ben, _ = people
    clock = ManualClock()
    with factory() as setup:
        code = ready(setup, clock, ana, ben)
    calls = []

    def ana_taps(state: SessionState) -> SessionState:
        calls.append(state.version)
        if len(calls) == 1:
            # Ben's phone saves its tap between Ana's read and Ana's write.
            with factory() as other:
                act(other, code, ben, clock, lambda s: next_question(s, ben, (0, 0), clock))
        return next_question(state, ana, (0, 0), clock)

    with factory() as db:
        result = act(db, code, ana, clock, ana_taps)
    assert len(calls) == 2  # Ana's write failed on the stale version and was applied again
    assert result.state.question_number == 2
    with factory() as db:
        stored = participant_session(db, code, ana).state
    shown = [(e.set_index, e.question_index) for e in stored.events if e.kind == "question"]
    assert shown == [(0, 0), (0, 1)]
