"""The dashboard's database-side summaries follow exactly the rules of ``readable_interactions``.

``readable_interaction_means`` (counts and means per person, computed by the database) and
``readable_interaction_points`` (the newest records' scores) must give every actor the same
numbers as summing up what :func:`readable_interactions` lets them read, and nothing more: a
record hidden from an actor must not move their means.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from attunement.errors import NotFoundError, PermissionDeniedError
from attunement.store.access import (
    readable_interaction_means,
    readable_interaction_points,
    readable_interactions,
)
from attunement.store.engine import StoreSession
from attunement.store.records import record_interaction

from .world import T0, World

KEYS = ("interaction_intimacy", "interaction_self_disclosure", "interaction_responsiveness")
ACTORS = ("ana", "ben", "cleo", "eve", "zoe")


def _add_varied_records(factory: sessionmaker[StoreSession], world: World) -> None:
    """Records with different ratings (and some unanswered items) in both relationships."""
    with factory() as session:
        for n in range(12):
            who, rel = [("ana", "couple"), ("ben", "couple"), ("cleo", "friends")][n % 3]
            ratings = {f"interaction_{i}": (n * i) % 7 + 1 for i in range(1, 9)}
            if n % 4 == 0:
                del ratings["interaction_1"]  # a record that leaves an item out
            record_interaction(
                session,
                world.people[who],
                world.relationships[rel],
                ratings,
                channel="phone",
                occurred_at=T0 + timedelta(days=1, hours=n),
                shared=n % 5 != 0,
            )
        session.commit()


def _expected_means(views: list, keys: tuple[str, ...]) -> dict[int, tuple[int, dict]]:
    found: dict[int, list] = {}
    for view in views:
        found.setdefault(view.person_id, []).append(view.scores)
    result = {}
    for person, scores in found.items():
        means = {}
        for key in keys:
            values = [s[key] for s in scores if s.get(key) is not None]
            means[key] = sum(values) / len(values) if values else None
        result[person] = (len(scores), means)
    return result


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("relationship", ["couple", "friends"])
def test_means_and_points_are_what_the_actor_may_read(
    world_db: tuple[sessionmaker[StoreSession], World], actor: str, relationship: str
) -> None:
    factory, world = world_db
    _add_varied_records(factory, world)
    actor_id, relationship_id = world.people[actor], world.relationships[relationship]
    with factory() as session:
        try:
            views = readable_interactions(session, actor_id, relationship_id)
        except (NotFoundError, PermissionDeniedError) as refused:
            with pytest.raises(type(refused)):
                readable_interaction_means(session, actor_id, relationship_id, KEYS)
            with pytest.raises(type(refused)):
                readable_interaction_points(session, actor_id, relationship_id, KEYS, latest=5)
            return
        means = readable_interaction_means(session, actor_id, relationship_id, KEYS)
        points = readable_interaction_points(session, actor_id, relationship_id, KEYS, latest=1000)
        newest = readable_interaction_points(session, actor_id, relationship_id, KEYS, latest=3)

    expected = _expected_means(views, KEYS)
    assert {row.person_id: row.records for row in means} == {
        person: count for person, (count, _) in expected.items()
    }
    for row in means:
        for key in KEYS:
            want = expected[row.person_id][1][key]
            got = row.means[key]
            assert (got is None) == (want is None), (row.person_id, key)
            if want is not None:
                assert got == pytest.approx(want, rel=1e-12)

    assert [(p.person_id, p.occurred_at) for p in points] == [
        (v.person_id, v.occurred_at) for v in views
    ]
    for point, view in zip(points, views, strict=True):
        for key in KEYS:
            value = view.scores.get(key)
            assert point.scores[key] == (None if value is None else pytest.approx(value))
    assert newest == points[-3:]
    assert all(not math.isnan(v) for p in points for v in p.scores.values() if v is not None)


def test_a_stranger_learns_nothing_not_even_counts(
    world_db: tuple[sessionmaker[StoreSession], World],
) -> None:
    factory, world = world_db
    with factory() as session, pytest.raises(NotFoundError):
        readable_interaction_means(
            session, world.people["zoe"], world.relationships["couple"], KEYS
        )
