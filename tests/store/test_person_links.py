"""Every table that refers to a person is in that person's export and is cleared by erasure.

The columns are found from the schema (foreign keys to ``person.id``), so a new table that
links to a person fails these tests until the export and the erasure know about it.
"""

from __future__ import annotations

from datetime import date, time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from attunement.store import StoreSession, transaction
from attunement.store.erasure import erase_person
from attunement.store.models import (
    AuditAction,
    Base,
    ClosenessCondition,
    ClosenessQuestion,
    ClosenessSession,
    KeptChatSummary,
    Measurement,
    Person,
)
from attunement.store.records import (
    accept_invitation,
    add_measurement,
    create_invitation,
    create_relationship,
    create_reminder,
    record_audit,
)
from attunement.web.personal_data import PERSON_LINKS, personal_data
from tests.store.world import EIS, T0, World


def _person_links() -> list[sa.Column[object]]:
    person_id = Person.__table__.c.id
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column is person_id for fk in column.foreign_keys)
    ]


@pytest.fixture
def linked_db(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> tuple[sessionmaker[StoreSession], World]:
    """The world, with ana linked through every kind of link (except owning a study)."""
    factory, world = world_db
    ana, ben, cleo = (world.people[n] for n in ("ana", "ben", "cleo"))
    couple = world.relationships["couple"]
    with transaction(factory) as session:
        add_measurement(
            session, ben, "eis", EIS, taken_at=T0, relationship_id=couple, about_person_id=ana
        )
        siblings = create_relationship(session, cleo, "friend", "friend")
        _, token = create_invitation(session, cleo, siblings.id, "friend")
        accept_invitation(session, ana, token)
        live = ClosenessSession(
            join_code="LINKS1",
            relationship_id=couple,
            person_a_id=ben,
            person_b_id=ana,
            first_reader_id=ana,
            condition=ClosenessCondition.CLOSENESS,
            ios_before_a=2,
            ios_before_b=5,
            ios_after_b=6,
        )
        waiting = ClosenessSession(
            join_code="LINKS2", person_a_id=ana, condition=ClosenessCondition.CLOSENESS
        )
        session.add_all([live, waiting])
        session.flush()
        session.add_all(
            [
                ClosenessQuestion(
                    session_id=live.id,
                    set_number=1,
                    question_number=n,
                    reader_id=ana if n % 2 else ben,
                    shown_at=T0,
                )
                for n in (1, 2, 3)
            ]
        )
        session.add(
            KeptChatSummary(
                person_id=ana,
                relationship_id=couple,
                first_week=date(2026, 3, 2),
                last_week=date(2026, 3, 9),
                participants={"labels": ["Person A", "Person B"]},
                weekly={"rows": [{"week": "2026-03-02", "messages": 12}]},
            )
        )
        create_reminder(session, ana, "eis", frequency="daily", time_of_day=time(20, 0))
        record_audit(session, ana, AuditAction.EXPORT, relationship_id=couple, row_count=3)
    return factory, world


def test_every_link_to_a_person_is_named_by_the_export() -> None:
    names = {f"{c.table.name}.{c.name}" for c in _person_links()}
    missing = sorted(names - set(PERSON_LINKS))
    assert not missing, (
        f"{missing} refer to a person but the export (attunement.web.personal_data) does not "
        "say where they go: add them to PERSON_LINKS and to personal_data()"
    )
    assert not set(PERSON_LINKS) - names, "PERSON_LINKS names columns that no longer exist"


def test_export_holds_every_row_linked_to_the_person(
    linked_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = linked_db
    seen: set[str] = set()
    with factory() as db:
        for person_id in world.people.values():
            export = personal_data(db, db.get_one(Person, person_id))
            for column in _person_links():
                name = f"{column.table.name}.{column.name}"
                section, why = PERSON_LINKS[name]
                rows = db.execute(sa.select(column.table).where(column == person_id)).all()
                seen.update(name for _ in rows[:1])
                if section is None:
                    continue
                exported = export[section]
                for row in rows:
                    if name == "closeness_question.reader_id":
                        (live,) = (s for s in exported if s["id"] == row.session_id)
                        places = {
                            (q["set_number"], q["question_number"])
                            for q in live["questions_you_read"]
                        }
                        assert (row.set_number, row.question_number) in places
                    else:
                        ids = {item["id"] for item in exported}
                        assert row.id in ids, f"{name} row {row.id} ({why}) is not exported"
    # Every kind of link was exercised (a new one needs a row in the world or the fixture).
    assert seen == set(PERSON_LINKS)


def test_export_keeps_to_the_persons_own_answers(
    linked_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = linked_db
    ana, ben = world.people["ana"], world.people["ben"]
    with factory() as db:
        export = personal_data(db, db.get_one(Person, ana))
        live, waiting = export["closeness_sessions"]
        assert (live["your_seat"], live["ios_before"], live["ios_after"]) == ("b", 5, 6)
        assert (waiting["your_seat"], waiting["ios_before"], waiting["state"]) == (
            "a",
            None,
            "waiting",
        )
        assert live["you_read_first"] is True
        assert [q["question_number"] for q in live["questions_you_read"]] == [1, 3]
        assert "LINKS1" not in str(export)  # a join code is a key to the session
        about_ana = db.scalars(sa.select(Measurement.id).where(Measurement.person_id == ben)).all()
        assert not set(about_ana) & {m["id"] for m in export["measurements"]}
        (kept,) = export["kept_chat_summaries"]
        assert kept["weekly"] == {"rows": [{"week": "2026-03-02", "messages": 12}]}
        assert [e["action"] for e in export["audit_events"]] == ["export"]
        assert all("feed_token_hash" not in r for r in export["reminders"])


def test_erasure_leaves_no_row_linked_to_the_person(
    linked_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = linked_db
    ana = world.people["ana"]
    links = _person_links()
    with factory() as db:
        before = {
            f"{c.table.name}.{c.name}": db.scalar(
                sa.select(sa.func.count()).select_from(c.table).where(c == ana)
            )
            for c in links
        }
    # ana is linked everywhere except as a study's owner (an owner cannot be erased).
    assert {name for name, n in before.items() if not n} == {"study.owner_id"}
    with factory() as db:
        report = erase_person(db, ana)
    assert report.counts["kept chat summaries"] == 1
    with factory() as db:
        left = {
            f"{c.table.name}.{c.name}": db.scalar(
                sa.select(sa.func.count()).select_from(c.table).where(c == ana)
            )
            for c in links
        }
        assert not any(left.values()), f"still naming the erased person: {left}"
        assert db.scalar(sa.select(sa.func.count()).select_from(KeptChatSummary)) == 0
        questions = db.scalars(sa.select(ClosenessQuestion.reader_id)).all()
        assert (questions.count(None), questions.count(world.people["ben"])) == (2, 1)
