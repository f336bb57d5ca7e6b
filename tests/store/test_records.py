"""Record operations: validation names every bad field, and the rules around accounts,
invitations, consent and pending interactions hold."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from attunement.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from attunement.store import StoreSession, records, transaction
from attunement.store.models import ReminderSchedule, Study
from attunement.store.passwords import verify_password
from attunement.store.records import (
    accept_invitation,
    add_measurement,
    authenticate,
    create_invitation,
    create_person,
    create_relationship,
    create_reminder,
    enroll,
    log_practice,
    pending_interactions,
    record_interaction,
)
from tests.store.world import EIS, RATINGS, T0, World

WorldDB = tuple[sessionmaker[StoreSession], World]


def _columns(error: pytest.ExceptionInfo[InvalidInputError]) -> set[str | None]:
    return {problem.column for problem in error.value.problems}


def test_sign_in_reveals_nothing(world_db: WorldDB) -> None:
    factory, _world = world_db
    with transaction(factory) as session:
        create_person(session, "dana@example.org", "Dana", "a long enough secret")
    with factory() as session:
        assert authenticate(session, " DANA@example.org ", "a long enough secret").last_sign_in_at
        with pytest.raises(PermissionDeniedError) as wrong:
            authenticate(session, "dana@example.org", "a long enough secreT")
        with pytest.raises(PermissionDeniedError) as unknown:
            authenticate(session, "nobody@example.org", "a long enough secret")
        assert wrong.value.message == unknown.value.message


def test_password_check_runs_outside_the_transaction(
    world_db: WorldDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argon2id is slow: with no transaction open, the look-up's ends before the check (on
    SQLite a transaction holds the only write lock); an open one is left to its owner."""
    factory, _world = world_db
    with transaction(factory) as session:
        create_person(session, "erin@example.org", "Erin", "a long enough secret")
    seen: list[bool] = []

    def spy(stored: str | None, password: str) -> bool:
        seen.append(session.in_transaction())
        return verify_password(stored, password)

    monkeypatch.setattr(records, "verify_password", spy)
    with factory() as session:
        authenticate(session, "erin@example.org", "a long enough secret")
        session.commit()
        session.execute(sa.select(1))  # the caller's own transaction stays the caller's
        authenticate(session, "erin@example.org", "a long enough secret")
        session.commit()
    assert seen == [False, True]


def test_account_validation_lists_every_field(world_db: WorldDB) -> None:
    factory, _world = world_db
    with factory() as session:
        with pytest.raises(InvalidInputError) as caught:
            create_person(session, "not-an-email", "  ")
        assert _columns(caught) == {"email", "display_name"}
        with pytest.raises(ConflictError):
            create_person(session, "Ana@Example.org", "Another Ana")


def test_relationship_validation(world_db: WorldDB) -> None:
    factory, world = world_db
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        create_relationship(session, world.people["zoe"], "spouse", "wife")
    assert _columns(caught) == {"type", "role"}
    assert "romantic_partner" in (caught.value.problems[0].allowed or "")


def test_invitation_expiry_and_membership(world_db: WorldDB) -> None:
    factory, world = world_db
    with transaction(factory) as session:
        _, late = create_invitation(
            session,
            world.people["ana"],
            world.relationships["couple"],
            "friend",
            lifetime=timedelta(microseconds=1),
        )
        _, again = create_invitation(
            session, world.people["ana"], world.relationships["couple"], "partner"
        )
    with factory() as session:
        with pytest.raises(ConflictError, match="expired"):
            accept_invitation(session, world.people["zoe"], late)
        with pytest.raises(ConflictError, match="already a member"):
            accept_invitation(session, world.people["ben"], again)


def test_pending_interactions_show_no_ratings(world_db: WorldDB) -> None:
    factory, world = world_db
    with factory() as session:
        pending = pending_interactions(session, world.people["ben"], world.relationships["couple"])
        assert [row[0] for row in pending] == [world.interactions["ana_unanswered"]]
        assert pending[0][2] == "in_person"
        assert pending[0][3] == world.people["ana"]
        with pytest.raises(NotFoundError):
            pending_interactions(session, world.people["zoe"], world.relationships["couple"])


def test_measurement_validation(world_db: WorldDB) -> None:
    factory, world = world_db
    with factory() as session:
        with pytest.raises(InvalidInputError) as caught:
            add_measurement(
                session,
                world.people["ana"],
                "eis",
                EIS,
                relationship_id=world.relationships["couple"],
                about_person_id=world.people["zoe"],
                taken_at=datetime(2026, 3, 1, 12),
            )
        assert _columns(caught) == {"taken_at", "about_person_id"}
        with pytest.raises(InvalidInputError) as unknown:
            add_measurement(session, world.people["ana"], "eis", {**EIS, "eis_9": 3}, taken_at=T0)
        assert _columns(unknown) == {"eis_9"}
        with pytest.raises(NotFoundError):
            add_measurement(
                session,
                world.people["zoe"],
                "eis",
                EIS,
                taken_at=T0,
                relationship_id=world.relationships["couple"],
            )


def test_interaction_validation(world_db: WorldDB) -> None:
    factory, world = world_db
    with factory() as session, pytest.raises(InvalidInputError) as caught:
        record_interaction(
            session,
            world.people["ana"],
            world.relationships["couple"],
            RATINGS,
            channel="carrier pigeon",
            occurred_at=datetime(2026, 3, 1, 12),
            duration_minutes=-5,
        )
    assert _columns(caught) == {"channel", "occurred_at", "duration_minutes"}


def test_reminders_and_practices(world_db: WorldDB) -> None:
    factory, world = world_db
    ana = world.people["ana"]
    with factory() as session:
        with pytest.raises(InvalidInputError) as weekly:
            create_reminder(session, ana, "eis", frequency="weekly", time_of_day=time(9))
        assert _columns(weekly) == {"weekdays"}
        with pytest.raises(InvalidInputError) as days:
            create_reminder(
                session, ana, "eis", frequency="weekly", time_of_day=time(9), weekdays="MO,XX"
            )
        assert _columns(days) == {"weekdays"}
        reminder, token = create_reminder(
            session, ana, "eis", frequency="weekly", time_of_day=time(9), weekdays="mo, th"
        )
        assert reminder.weekdays == "MO,TH"
        assert token not in reminder.feed_token_hash
        for frequency, every in (("weekly", 3), ("daily", 0), ("daily", 367)):
            with pytest.raises(InvalidInputError) as interval:
                create_reminder(
                    session,
                    ana,
                    "eis",
                    frequency=frequency,
                    time_of_day=time(9),
                    weekdays="MO" if frequency == "weekly" else None,
                    every_days=every,
                )
            assert _columns(interval) == {"every_days"}
        every_third, _token = create_reminder(
            session, ana, "eis", frequency="daily", time_of_day=time(9), every_days=3
        )
        assert every_third.every_days == 3
        # the database refuses what the checks above refuse, whoever writes it
        with pytest.raises(sa.exc.IntegrityError):
            session.execute(
                sa.update(ReminderSchedule)
                .where(ReminderSchedule.id == reminder.id)
                .values(every_days=2)
            )
        session.rollback()
        with pytest.raises(InvalidInputError) as practice:
            log_practice(session, ana, "Say Thanks!", done_at=T0)
        assert _columns(practice) == {"practice"}


def test_consent_version_must_match_and_not_repeat(world_db: WorldDB) -> None:
    factory, world = world_db
    with factory() as session:
        study = session.get_one(Study, world.studies["S"])
        with pytest.raises(ConflictError) as stale:
            enroll(session, world.people["cleo"], study.enrollment_code, "v0")
        assert stale.value.problems[0].allowed == "v1"
        with pytest.raises(ConflictError, match="already taking part"):
            enroll(session, world.people["ana"], study.enrollment_code.lower(), "v1")
        consent = enroll(session, world.people["cleo"], study.enrollment_code, "v1")
        assert consent.participant_code.startswith("P")
        with pytest.raises(NotFoundError):
            enroll(session, world.people["zoe"], "NOSUCHCODE", "v1")
