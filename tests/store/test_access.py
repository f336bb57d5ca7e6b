"""The privacy rules as a matrix of actor x resource x action, each cell proven on SQLite and
PostgreSQL: who reads what, who changes what, and which error every denial raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from attunement.errors import ConflictError, NotFoundError, PermissionDeniedError
from attunement.store import StoreSession, transaction
from attunement.store.access import (
    participants_in_force,
    read_interaction,
    read_measurement,
    readable_interaction_means,
    readable_interaction_points,
    readable_interactions,
    readable_measurements,
    readable_practice_logs,
    require_closeness_participant,
    require_current_member,
    require_own_interaction,
    require_own_measurement,
    require_study_owner,
)
from attunement.store.records import (
    accept_invitation,
    create_invitation,
    link_interactions,
    record_interaction,
    withdraw_consent,
)
from tests.store.world import RATINGS, World

OK = "ok"
Outcome = type[Exception] | str


def _outcome(action: Callable[[], Any]) -> Outcome:
    try:
        action()
    except (NotFoundError, PermissionDeniedError) as error:
        return type(error)
    return OK


# (actor, interaction record, outcome of read)
INTERACTION_READS = [
    ("ana", "ana_unanswered", OK),  # own
    ("ana", "ana_private", OK),
    ("ben", "ana_unanswered", PermissionDeniedError),  # mutual reveal: ben has not answered
    ("ben", "ana_private", NotFoundError),  # not shared
    ("ben", "ana_answered", OK),  # both recorded the same interaction
    ("ana", "ben_answer", OK),
    ("cleo", "ana_unanswered", NotFoundError),  # not a member of the couple
    ("zoe", "ana_unanswered", NotFoundError),
    ("rita", "ana_answered", NotFoundError),  # researchers read only through their study
    ("cleo", "ana_friends", OK),  # friends: shared, no mutual reveal
    ("eve", "ana_friends", PermissionDeniedError),  # former member
    ("eve", "eve_friends", OK),  # a former member keeps their own records
    ("cleo", "eve_friends", OK),
    ("ben", "ana_friends", NotFoundError),
]


@pytest.mark.parametrize(("actor", "record", "expected"), INTERACTION_READS)
def test_reading_an_interaction_record(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, record: str, expected: Outcome
) -> None:
    factory, world = world_db
    with factory() as session:
        actor_id, record_id = world.people[actor], world.interactions[record]
        assert _outcome(lambda: read_interaction(session, actor_id, record_id)) == expected
        listed = _listed_interactions(session, world, actor, record)
        assert listed == (expected == OK), "list and single read disagree"


def _listed_interactions(session: Session, world: World, actor: str, record: str) -> bool:
    from attunement.store.models import Interaction

    relationship_id = session.get_one(Interaction, world.interactions[record]).relationship_id
    try:
        views = readable_interactions(session, world.people[actor], relationship_id)
    except (NotFoundError, PermissionDeniedError):
        return False
    return world.interactions[record] in {view.id for view in views}


@pytest.mark.parametrize(
    ("actor", "record", "note"),
    [
        ("ana", "ana_unanswered", "ana's private note"),
        ("ben", "ana_answered", "for ben too"),
        ("cleo", "ana_friends", None),  # the record is shared, its note is not
    ],
)
def test_notes_are_private_unless_shared(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, record: str, note: str | None
) -> None:
    factory, world = world_db
    with factory() as session:
        view = read_interaction(session, world.people[actor], world.interactions[record])
        assert view.note == note


@pytest.mark.parametrize(
    ("actor", "record", "expected"),
    [
        ("ana", "ana_unanswered", OK),
        ("ben", "ana_answered", PermissionDeniedError),  # readable, but not his
        ("ben", "ana_unanswered", NotFoundError),
        ("cleo", "ana_friends", PermissionDeniedError),
        ("zoe", "ana_friends", NotFoundError),
        ("eve", "eve_friends", OK),
    ],
)
def test_changing_an_interaction_record(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, record: str, expected: Outcome
) -> None:
    factory, world = world_db
    with factory() as session:
        actor_id, record_id = world.people[actor], world.interactions[record]
        assert _outcome(lambda: require_own_interaction(session, actor_id, record_id)) == expected


MEASUREMENT_READS = [
    ("ana", "ana_eis_private", OK),
    ("ana", "ana_swls", OK),
    ("ben", "ana_eis_shared", OK),
    ("ben", "ana_eis_private", NotFoundError),
    ("ben", "ana_swls", NotFoundError),  # about no relationship: only its owner
    ("cleo", "ana_eis_shared", NotFoundError),
    ("cleo", "ana_friends_eis", OK),  # the friends' default shares measurements
    ("eve", "ana_friends_eis", PermissionDeniedError),  # former member
    ("zoe", "ana_eis_shared", NotFoundError),
    ("rita", "ana_eis_shared", NotFoundError),
]


@pytest.mark.parametrize(("actor", "record", "expected"), MEASUREMENT_READS)
def test_reading_a_measurement(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, record: str, expected: Outcome
) -> None:
    factory, world = world_db
    with factory() as session:
        actor_id, record_id = world.people[actor], world.measurements[record]
        assert _outcome(lambda: read_measurement(session, actor_id, record_id)) == expected
        listed = {view.id for view in readable_measurements(session, actor_id)}
        assert (record_id in listed) == (expected == OK)


@pytest.mark.parametrize(
    ("actor", "record", "expected"),
    [
        ("ana", "ana_eis_shared", OK),
        ("ben", "ana_eis_shared", PermissionDeniedError),
        ("ben", "ana_eis_private", NotFoundError),
        ("zoe", "ana_swls", NotFoundError),
    ],
)
def test_changing_a_measurement(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, record: str, expected: Outcome
) -> None:
    factory, world = world_db
    with factory() as session:
        actor_id, record_id = world.people[actor], world.measurements[record]
        assert _outcome(lambda: require_own_measurement(session, actor_id, record_id)) == expected


@pytest.mark.parametrize(
    ("actor", "visible"),
    [("ana", {"ana_shared", "ana_private"}), ("ben", {"ana_shared"}), ("cleo", set())],
)
def test_practice_logs(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, visible: set[str]
) -> None:
    factory, world = world_db
    with factory() as session:
        ids = {view.id for view in readable_practice_logs(session, world.people[actor])}
        assert ids == {world.practices[name] for name in visible}


@pytest.mark.parametrize(
    ("actor", "relationship", "expected"),
    [
        ("ana", "couple", OK),
        ("ben", "couple", OK),
        ("cleo", "couple", NotFoundError),
        ("eve", "friends", PermissionDeniedError),
        ("zoe", "friends", NotFoundError),
    ],
)
def test_relationship_membership(
    world_db: tuple[sessionmaker[StoreSession], World],
    actor: str,
    relationship: str,
    expected: Outcome,
) -> None:
    factory, world = world_db
    with factory() as session:
        actor_id, rel_id = world.people[actor], world.relationships[relationship]
        assert _outcome(lambda: require_current_member(session, actor_id, rel_id)) == expected


@pytest.mark.parametrize(
    ("actor", "study", "expected"),
    [
        ("rita", "S", OK),
        ("oscar", "S", PermissionDeniedError),  # a researcher, but not of this study
        ("ana", "S", PermissionDeniedError),  # a participant
        ("zoe", "S", PermissionDeniedError),
        ("rita", "T", PermissionDeniedError),
    ],
)
def test_study_data_only_for_its_researcher(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, study: str, expected: Outcome
) -> None:
    factory, world = world_db
    with factory() as session:
        actor_id, study_id = world.people[actor], world.studies[study]
        assert _outcome(lambda: require_study_owner(session, actor_id, study_id)) == expected
        assert _outcome(lambda: participants_in_force(session, actor_id, study_id)) == expected


def test_withdrawal_removes_the_participant(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    rita, study = world.people["rita"], world.studies["S"]
    with factory() as session:
        before = {c.person_id for c in participants_in_force(session, rita, study)}
    with transaction(factory) as session:
        withdraw_consent(session, world.people["ben"], study)
    with factory() as session:
        after = {c.person_id for c in participants_in_force(session, rita, study)}
    assert before == {world.people["ana"], world.people["ben"]}
    assert after == {world.people["ana"]}


def test_answering_reveals_the_partner_record(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    ben = world.people["ben"]
    target = world.interactions["ana_unanswered"]
    with factory() as session, pytest.raises(PermissionDeniedError):
        read_interaction(session, ben, target)
    with transaction(factory) as session:
        record_interaction(
            session,
            ben,
            world.relationships["couple"],
            RATINGS,
            channel="in_person",
            responds_to=target,
        )
    with factory() as session:
        view = read_interaction(session, ben, target)
        assert view.responses == RATINGS
        assert view.note is None  # the record is revealed, the private note is not


def test_leaving_takes_away_access(world_db: tuple[sessionmaker[StoreSession], World]) -> None:
    factory, world = world_db
    from attunement.store.records import leave_relationship

    ben, target = world.people["ben"], world.interactions["ana_answered"]
    with transaction(factory) as session:
        leave_relationship(session, ben, world.relationships["couple"])
    with factory() as session:
        with pytest.raises(PermissionDeniedError):
            read_interaction(session, ben, target)
        own = readable_interactions(session, ben, world.relationships["couple"])
        assert [view.id for view in own] == [world.interactions["ben_answer"]]


def test_linking_refuses_other_people_and_double_links(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    ana, ben = world.people["ana"], world.people["ben"]
    with factory() as session:
        with pytest.raises(NotFoundError):  # cleo's relationship record is not in the couple
            link_interactions(
                session, ben, world.interactions["ben_answer"], world.interactions["ana_friends"]
            )
        with pytest.raises(NotFoundError):  # not shared
            link_interactions(
                session, ben, world.interactions["ben_answer"], world.interactions["ana_private"]
            )
        with pytest.raises(PermissionDeniedError):  # not ben's own record
            link_interactions(
                session, ben, world.interactions["ana_answered"], world.interactions["ana_answered"]
            )
        with pytest.raises(ConflictError):
            link_interactions(
                session, ana, world.interactions["ana_unanswered"], world.interactions["ben_answer"]
            )


def test_invitation_is_single_use(world_db: tuple[sessionmaker[StoreSession], World]) -> None:
    factory, world = world_db
    with transaction(factory) as session:
        _, token = create_invitation(
            session, world.people["ana"], world.relationships["couple"], "other"
        )
        accept_invitation(session, world.people["zoe"], token)
    with pytest.raises(ConflictError, match="already been used"), transaction(factory) as session:
        accept_invitation(session, world.people["cleo"], token)
    with pytest.raises(NotFoundError), transaction(factory) as session:
        accept_invitation(session, world.people["cleo"], "forged-token")
    with pytest.raises(NotFoundError), transaction(factory) as session:  # strangers cannot invite
        create_invitation(session, world.people["cleo"], world.relationships["couple"], "friend")


def test_closeness_session_only_for_its_two_people(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    from attunement.store.models import ClosenessCondition, ClosenessSession

    factory, world = world_db
    with transaction(factory) as session:
        live = ClosenessSession(
            join_code="QWE234",
            person_a_id=world.people["ana"],
            person_b_id=world.people["ben"],
            condition=ClosenessCondition.CLOSENESS,
        )
        session.add(live)
        session.flush()
        live_id = live.id
    with factory() as session:
        for name in ("ana", "ben"):
            require_closeness_participant(session, world.people[name], live_id)
        for name in ("cleo", "rita"):
            with pytest.raises(NotFoundError):
                require_closeness_participant(session, world.people[name], live_id)


def test_a_membership_found_once_is_not_asked_again_in_the_same_transaction(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    """A page asks several access functions in turn; the "is or was a member" check is made
    once per transaction and pair, never shared between people or relationships, and
    forgotten when the transaction ends."""
    factory, world = world_db
    ana, zoe = world.people["ana"], world.people["zoe"]
    couple, friends = world.relationships["couple"], world.relationships["friends"]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    with factory() as session:
        engine = session.get_bind()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            readable_interactions(session, ana, couple)
            readable_interaction_means(session, ana, couple, ["intimacy"])
            readable_interaction_points(session, ana, couple, ["intimacy"], latest=5)
            checks = [s for s in statements if "count(membership.id)" in s]
            assert len(checks) == 1
            # Another person, or another relationship, is checked afresh.
            with pytest.raises(NotFoundError):
                readable_interactions(session, zoe, couple)
            readable_interactions(session, ana, friends)
            assert len([s for s in statements if "count(membership.id)" in s]) == 3
            # A new transaction asks again: a membership can be erased in between.
            session.rollback()
            readable_interactions(session, ana, couple)
            assert len([s for s in statements if "count(membership.id)" in s]) == 4
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
