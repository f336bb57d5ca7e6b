"""A small world of people, relationships and records for the access and export tests.

- ana and ben: a couple (mutual reveal on); ana and cleo and eve: friends (mutual reveal off),
  eve has left; zoe: a stranger; rita: researcher owning the study "S" in which ana and ben
  take part; oscar: researcher with a study of his own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from attunement.store.records import (
    accept_invitation,
    add_measurement,
    create_invitation,
    create_person,
    create_relationship,
    create_study,
    enroll,
    leave_relationship,
    log_practice,
    record_interaction,
)

T0 = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
RATINGS = {f"interaction_{n}": n % 7 + 1 for n in range(1, 9)}
EIS = {f"eis_{n}": 4 for n in range(1, 6)}


@dataclass
class World:
    people: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    interactions: dict[str, int] = field(default_factory=dict)
    measurements: dict[str, int] = field(default_factory=dict)
    practices: dict[str, int] = field(default_factory=dict)
    studies: dict[str, int] = field(default_factory=dict)


def build_world(session: Session) -> World:
    world = World()
    for name in ("ana", "ben", "cleo", "eve", "zoe"):
        world.people[name] = create_person(session, f"{name}@example.org", name.title()).id
    for name in ("rita", "oscar"):
        world.people[name] = create_person(
            session, f"{name}@uni.example", name.title(), is_researcher=True
        ).id
    p = world.people

    couple = create_relationship(session, p["ana"], "romantic_partner", "partner")
    _, token = create_invitation(session, p["ana"], couple.id, "partner")
    accept_invitation(session, p["ben"], token)
    friends = create_relationship(
        session, p["ana"], "friend", "friend", mutual_reveal=False, share_measurements_default=True
    )
    for name in ("cleo", "eve"):
        _, token = create_invitation(session, p["ana"], friends.id, "friend")
        accept_invitation(session, p[name], token)
    world.relationships = {"couple": couple.id, "friends": friends.id}

    def interaction(key: str, who: str, rel: str, hours: int, **kwargs: object) -> None:
        world.interactions[key] = record_interaction(
            session,
            p[who],
            world.relationships[rel],
            RATINGS,
            channel="in_person",
            occurred_at=T0 + timedelta(hours=hours),
            duration_minutes=30,
            **kwargs,  # type: ignore[arg-type]
        ).id

    # Couple: shared but unanswered; private; answered by both (linked).
    interaction("ana_unanswered", "ana", "couple", 0, note="ana's private note")
    interaction("ana_private", "ana", "couple", 1, shared=False)
    interaction("ana_answered", "ana", "couple", 2, note="for ben too", note_shared=True)
    interaction("ben_answer", "ben", "couple", 2, responds_to=world.interactions["ana_answered"])
    # Friends: no mutual reveal; a shared record written while eve was still a member.
    interaction("ana_friends", "ana", "friends", 3, note="secret")
    interaction("eve_friends", "eve", "friends", 4)

    world.measurements["ana_eis_shared"] = add_measurement(
        session,
        p["ana"],
        "eis",
        EIS,
        taken_at=T0,
        relationship_id=couple.id,
        about_person_id=p["ben"],
        shared=True,
    ).id
    world.measurements["ana_eis_private"] = add_measurement(
        session,
        p["ana"],
        "eis",
        EIS,
        taken_at=T0,
        relationship_id=couple.id,
        about_person_id=p["ben"],
    ).id
    world.measurements["ana_friends_eis"] = add_measurement(
        session,
        p["ana"],
        "eis",
        EIS,
        taken_at=T0,
        relationship_id=friends.id,
        about_person_id=p["cleo"],
    ).id
    world.measurements["ana_swls"] = add_measurement(
        session, p["ana"], "swls", {f"swls_{n}": 5 for n in range(1, 6)}, taken_at=T0
    ).id
    world.practices["ana_shared"] = log_practice(
        session, p["ana"], "appreciation", done_at=T0, relationship_id=couple.id, shared=True
    ).id
    world.practices["ana_private"] = log_practice(
        session, p["ana"], "appreciation", done_at=T0, relationship_id=couple.id
    ).id

    leave_relationship(session, p["eve"], friends.id)

    study = create_study(
        session,
        p["rita"],
        "Daily intimacy",
        consent_text="I agree.",
        consent_version="v1",
        instruments=["eis", "interaction"],
    )
    other = create_study(
        session,
        p["oscar"],
        "Other study",
        consent_text="I agree.",
        consent_version="1",
        instruments=["swls"],
    )
    for name in ("ana", "ben"):
        consent = enroll(session, p[name], study.enrollment_code, "v1")
        consent.given_at = T0 - timedelta(days=1)  # the records are dated from T0
    world.studies = {"S": study.id, "T": other.id}
    session.flush()
    return world
