"""The schema: migrations agree with the models, connection settings, and constraint violations
coming back as domain errors that name the field, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from attunement.errors import ConflictError, InvalidInputError
from attunement.settings import Settings
from attunement.store import (
    StoreSession,
    create_engine_from_settings,
    create_engine_from_url,
    current_revision,
    head_revision,
    transaction,
    upgrade,
)
from attunement.store.models import (
    Base,
    Channel,
    ClosenessCondition,
    ClosenessSession,
    Interaction,
    Membership,
    MembershipRole,
    Person,
    Relationship,
    RelationshipType,
)


def _person(session: StoreSession, email: str, name: str = "Ana") -> Person:
    person = Person(email=email, display_name=name)
    session.add(person)
    session.flush()
    return person


def _save(factory: sessionmaker[StoreSession], *records: Base) -> None:
    with transaction(factory) as session:
        session.add_all(records)


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect the expression index on lower(email); it is checked below.
        warnings.simplefilter("ignore")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(engine) == head_revision()


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    assert upgrade(engine) == head_revision()
    assert upgrade(engine) == head_revision()


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new" / "folder")
    engine = create_engine_from_settings(settings)
    with engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 30_000
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()
    assert (tmp_path / "new" / "folder" / "attunement.sqlite3").exists()


def test_postgres_url_uses_psycopg_3() -> None:
    engine = create_engine_from_url("postgresql://u:p@localhost/db")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_unknown_database_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="Unsupported database 'mysql'"):
        create_engine_from_url("mysql://u:p@localhost/db")
    with pytest.raises(InvalidInputError, match="Not a database URL"):
        create_engine_from_url("not a url")


def test_timestamps_come_back_in_utc(factory: sessionmaker[StoreSession]) -> None:
    plus_two = timezone(timedelta(hours=2))
    with transaction(factory) as session:
        person = _person(session, "ana@example.org")
        person.email_verified_at = datetime(2026, 3, 1, 12, 0, tzinfo=plus_two)
        person_id = person.id
    with factory() as session:
        stored = session.get_one(Person, person_id)
        assert stored.email_verified_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
        assert stored.email_verified_at.tzinfo == UTC
        assert stored.created_at.tzinfo == UTC


def test_naive_timestamps_are_refused(factory: sessionmaker[StoreSession]) -> None:
    naive = Person(
        email="ana@example.org", display_name="Ana", email_verified_at=datetime(2026, 3, 1, 12)
    )
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        _save(factory, naive)


def test_email_is_unique_ignoring_case(factory: sessionmaker[StoreSession]) -> None:
    with transaction(factory) as session:
        _person(session, "Ana@Example.org")
    with pytest.raises(ConflictError) as caught, transaction(factory) as session:
        _person(session, "ana@example.ORG")
    assert caught.value.problems[0].column == "email"
    assert "email address exists" in str(caught.value)


def test_missing_required_value_names_the_field(factory: sessionmaker[StoreSession]) -> None:
    with pytest.raises(InvalidInputError) as caught, transaction(factory) as session:
        session.add(Person(email="ana@example.org", display_name=None))
    assert "display_name" in (caught.value.problems[0].column or "")


def _couple(session: StoreSession) -> tuple[Person, Person, Relationship]:
    ana, ben = _person(session, "ana@example.org"), _person(session, "ben@example.org", "Ben")
    couple = Relationship(type=RelationshipType.ROMANTIC_PARTNER)
    session.add(couple)
    session.flush()
    for person in (ana, ben):
        session.add(
            Membership(relationship_id=couple.id, person_id=person.id, role=MembershipRole.PARTNER)
        )
    session.flush()
    return ana, ben, couple


def _interaction(person: Person, couple: Relationship, **values: object) -> Interaction:
    fields: dict[str, object] = {
        "person_id": person.id,
        "relationship_id": couple.id,
        "occurred_at": datetime(2026, 3, 1, 20, tzinfo=UTC),
        "channel": Channel.IN_PERSON,
        "instrument_version": "1",
        "responses": {"interaction_1": 5},
    }
    fields.update(values)
    return Interaction(**fields)


def test_check_constraint_names_the_field(factory: sessionmaker[StoreSession]) -> None:
    with transaction(factory) as session:
        ana, _ben, couple = _couple(session)
    with pytest.raises(InvalidInputError) as caught:
        _save(factory, _interaction(ana, couple, duration_minutes=2000))
    problem = caught.value.problems[0]
    assert problem.column == "duration_minutes"
    assert problem.allowed == "0 to 1440 minutes"


def test_one_current_membership_per_person(factory: sessionmaker[StoreSession]) -> None:
    with transaction(factory) as session:
        ana, _ben, couple = _couple(session)
        ana_id, couple_id = ana.id, couple.id
    with pytest.raises(ConflictError) as caught, transaction(factory) as session:
        session.add(
            Membership(relationship_id=couple_id, person_id=ana_id, role=MembershipRole.FRIEND)
        )
    assert "already a current member" in caught.value.message
    # After leaving, joining again is allowed.
    with transaction(factory) as session:
        membership = session.scalars(
            sa.select(Membership).where(Membership.person_id == ana_id)
        ).one()
        membership.left_at = membership.joined_at + timedelta(days=1)
        session.add(
            Membership(relationship_id=couple_id, person_id=ana_id, role=MembershipRole.PARTNER)
        )


def test_foreign_keys_are_enforced(factory: sessionmaker[StoreSession]) -> None:
    dangling = Membership(relationship_id=999, person_id=998, role=MembershipRole.PARTNER)
    with pytest.raises(InvalidInputError, match="referenced record does not exist"):
        _save(factory, dangling)


def test_deleting_a_record_unlinks_the_partner_record(
    factory: sessionmaker[StoreSession],
) -> None:
    with transaction(factory) as session:
        ana, ben, couple = _couple(session)
        first, second = _interaction(ana, couple), _interaction(ben, couple)
        session.add_all([first, second])
        session.flush()
        first.partner_record_id, second.partner_record_id = second.id, first.id
        first_id, second_id = first.id, second.id
    with transaction(factory) as session:
        session.delete(session.get_one(Interaction, first_id))
    with factory() as session:
        assert session.get_one(Interaction, second_id).partner_record_id is None


def test_ios_rating_out_of_range(factory: sessionmaker[StoreSession]) -> None:
    with transaction(factory) as session:
        ana = _person(session, "ana@example.org")
    live = ClosenessSession(
        join_code="ABC234", person_a_id=ana.id, condition=ClosenessCondition.CLOSENESS
    )
    live.ios_before_a = 8
    with pytest.raises(InvalidInputError) as caught:
        _save(factory, live)
    assert caught.value.problems[0].column == "ios_before_a"
    assert caught.value.problems[0].allowed == "1 to 7"


def test_closeness_session_rejects_stale_updates(factory: sessionmaker[StoreSession]) -> None:
    """A device that saves a session state it read before another device's change fails
    (optimistic locking on ``version``) instead of silently undoing that change."""
    with transaction(factory) as session:
        ana = _person(session, "ana@example.org")
        live = ClosenessSession(
            join_code="ABC234", person_a_id=ana.id, condition=ClosenessCondition.CLOSENESS
        )
        session.add(live)
        session.flush()
        session_id = live.id
    with factory() as session:
        seen_by_first_device = session.get_one(ClosenessSession, session_id)
    with transaction(factory) as session:
        session.get_one(ClosenessSession, session_id).current_question = 2
    seen_by_first_device.current_question = 3
    with pytest.raises(StaleDataError):
        _save(factory, seen_by_first_device)
    with factory() as session:
        stored = session.get_one(ClosenessSession, session_id)
        assert (stored.current_question, stored.version) == (2, 2)


def test_too_long_text_names_the_field(factory: sessionmaker[StoreSession]) -> None:
    too_long = Person(email="ana@example.org", display_name="x" * 101)
    with pytest.raises(InvalidInputError) as caught:
        _save(factory, too_long)
    assert caught.value.problems[0].column == "person.display_name"
    assert caught.value.problems[0].allowed == "up to 100 characters"


def test_sqlite_table_rebuilds_keep_linked_records(tmp_path: Path) -> None:
    """Migration 0003 rebuilds the interaction table on SQLite; the links between partners'
    records (a self-referencing key with ON DELETE SET NULL) must survive the rebuild."""
    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0002")
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(
            "INSERT INTO person (id, email, display_name, is_researcher, timezone, created_at)"
            " VALUES (1, 'a@x.org', 'A', 0, 'UTC', '2026-01-01'),"
            " (2, 'b@x.org', 'B', 0, 'UTC', '2026-01-01')"
        )
        run(
            "INSERT INTO relationship (id, type, created_at, share_measurements_default,"
            " share_interactions_default, mutual_reveal)"
            " VALUES (1, 'friend', '2026-01-01', 0, 1, 1)"
        )
        for record, person, partner in ((1, 1, None), (2, 2, 1)):
            run(
                "INSERT INTO interaction (id, person_id, relationship_id, occurred_at, channel,"
                " instrument_version, responses, scores, note_shared, shared, partner_record_id,"
                f" source, created_at) VALUES ({record}, {person}, 1, '2026-01-01', 'phone', '1',"
                f" '{{}}', '{{}}', 0, 1, {partner or 'NULL'}, 'app', '2026-01-01')"
            )
        run("UPDATE interaction SET partner_record_id = 2 WHERE id = 1")
    assert upgrade(engine) == head_revision()
    with engine.connect() as connection:
        links = connection.exec_driver_sql(
            "SELECT id, partner_record_id FROM interaction ORDER BY id"
        ).fetchall()
        assert [tuple(row) for row in links] == [(1, 2), (2, 1)]
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_readers_do_not_block_writers(tmp_path: Path) -> None:
    """A read-only session holds a snapshot without the write lock; a writer commits at once,
    and the reader keeps its consistent snapshot until it ends."""
    import time

    from attunement.store import make_session_factory

    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'rw.sqlite3'}")
    upgrade(engine)
    writer, reader = make_session_factory(engine), make_session_factory(engine, read_only=True)
    with transaction(writer) as session:
        _person(session, "ana@example.org")
    with reader() as reading:
        assert reading.scalar(sa.select(sa.func.count(Person.id))) == 1
        started = time.monotonic()
        with transaction(writer) as session:
            _person(session, "ben@example.org", "Ben")
        assert time.monotonic() - started < 5  # a locking reader would hold it for 30 s
        assert reading.scalar(sa.select(sa.func.count(Person.id))) == 1  # its snapshot
    with reader() as reading:
        assert reading.scalar(sa.select(sa.func.count(Person.id))) == 2
    engine.dispose()


def _upgrade_at_once(url: str) -> list[str]:
    """Two server processes starting together both upgrade the same empty database."""
    import threading

    results: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(upgrade(url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_concurrent_upgrades_of_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert _upgrade_at_once(url) == [head_revision()] * 2


@pytest.mark.postgres
def test_concurrent_upgrades_of_postgres() -> None:
    from tests.conftest import postgres_database, postgres_url

    with postgres_database() as name:
        assert _upgrade_at_once(postgres_url(name)) == [head_revision()] * 2
