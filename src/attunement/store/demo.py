"""Realistic generated data to explore attunement with: ``attunement demo``.

Two couples and a friendship over three weeks, all taking part in one demo study of a
researcher: every day each pair has a few interactions, each recorded by one or both people
with the interaction record (linked when both answered); weekly EIS and IOS check-ins about
the other person, life satisfaction (SWLS) at the start and the end, shared appreciation
practices, a daily reminder each, and one 36 Questions session of the two friends, played
through the real live-session code with a simulated clock.

The numbers follow the interpersonal process model of intimacy (Reis & Shaver, 1988;
Laurenceau et al., 1998) in spirit, not in fitted values: intimacy rises with self-disclosure,
the partner's disclosure and, most, perceived responsiveness; both people's ratings of the same
interaction share that day's mood of the pair. The effect sizes are invented for the
demonstration and are NOT estimates from any study. Everything is drawn from one seeded
generator: the same ``seed`` and ``start`` give the same database content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from attunement.errors import ConflictError
from attunement.store.models import Person, RecordSource
from attunement.store.passwords import hash_password
from attunement.store.records import (
    accept_invitation,
    add_measurement,
    create_invitation,
    create_person,
    create_relationship,
    create_reminder,
    create_study,
    enroll,
    log_practice,
    record_interaction,
)

__all__ = ["DEMO_DOMAIN", "DEMO_PASSWORD", "DemoSummary", "generate_demo"]

DEMO_DOMAIN = "demo.attunement.invalid"
DEMO_PASSWORD = "attunement-demo"

_CHANNELS = ("in_person", "video", "phone", "text", "silent_together")


@dataclass(frozen=True)
class _PersonPlan:
    key: str
    name: str
    disclosure: float  # how much this person tends to disclose (1-7 scale centre)
    responsiveness: float  # how responsive the OTHER person feels to them (1-7)


@dataclass(frozen=True)
class _DyadPlan:
    key: str
    name: str
    type: str
    role: str
    people: tuple[_PersonPlan, _PersonPlan]
    per_day: float  # expected interactions per day
    channels: tuple[float, float, float, float, float]  # in_person, video, phone, text, silent
    mutual_reveal: bool
    trend: float  # change in the pair's mood per week


_DYADS = (
    _DyadPlan(
        "maya_jonas",
        "Maya & Jonas",
        "romantic_partner",
        "partner",
        (_PersonPlan("maya", "Maya", 5.2, 5.6), _PersonPlan("jonas", "Jonas", 4.4, 5.3)),
        1.7,
        (0.72, 0.03, 0.08, 0.12, 0.05),
        True,
        0.10,
    ),
    _DyadPlan(
        "priya_sam",
        "Priya & Sam",
        "romantic_partner",
        "partner",
        # Priya feels little responsiveness from Sam: the dashboard should notice.
        (_PersonPlan("priya", "Priya", 4.8, 3.4), _PersonPlan("sam", "Sam", 3.6, 4.9)),
        1.4,
        (0.62, 0.05, 0.13, 0.15, 0.05),
        True,
        -0.05,
    ),
    _DyadPlan(
        "lea_noor",
        "Lea & Noor",
        "friend",
        "friend",
        (_PersonPlan("lea", "Lea", 4.6, 5.0), _PersonPlan("noor", "Noor", 4.9, 4.7)),
        0.6,
        (0.40, 0.15, 0.15, 0.30, 0.0),
        False,
        0.20,
    ),
)

_NOTES = (
    "Talked about the week ahead.",
    "Cooked dinner together.",
    "Long walk, good talk.",
    "A bit tense at first, better after.",
    "Shared something I had been holding back.",
    "Mostly logistics.",
    "Laughed a lot.",
)


@dataclass
class DemoSummary:
    """What :func:`generate_demo` stored: ids by key, row counts, and the demo password."""

    start: date
    days: int
    seed: int
    people: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    study_id: int | None = None
    closeness_session_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    password: str = DEMO_PASSWORD

    def describe(self) -> str:
        lines = [
            f"Demo data for {self.days} days from {self.start.isoformat()} (seed {self.seed}):",
            *(f"  {name}: {count}" for name, count in self.counts.items()),
            f"Sign in as any of {', '.join(f'{k}@{DEMO_DOMAIN}' for k in self.people)}",
            f"with the password {self.password!r} (researcher: rosa@{DEMO_DOMAIN}).",
        ]
        return "\n".join(lines)


def generate_demo(
    session: Session,
    *,
    seed: int = 2026,
    start: date | None = None,
    days: int = 21,
    password: str = DEMO_PASSWORD,
) -> DemoSummary:
    """Fill the database with the demo data set and commit it (see the module docs).

    ``start`` defaults to ``days`` days before today, so the data ends now. Refuses (with
    :class:`~attunement.errors.ConflictError`) when demo accounts exist already.
    """
    existing = session.scalar(
        sa.select(sa.func.count(Person.id)).where(Person.email.like(f"%@{DEMO_DOMAIN}"))
    )
    if existing:
        raise ConflictError(
            "This database already holds the demo data.",
            hint="Use a fresh database (--database-url) or erase the demo people first.",
        )
    start = start or (datetime.now(UTC).date() - timedelta(days=days))
    rng = np.random.default_rng(seed)
    summary = DemoSummary(start=start, days=days, seed=seed, password=password)
    t0 = datetime.combine(start, time(0, 0), tzinfo=UTC)
    counts = {"interaction records": 0, "measurements": 0, "practices": 0}

    # One argon2id hash for all demo accounts: they share a published password anyway, and
    # hashing seven times would take seconds.
    password_hash = hash_password(password)
    for dyad in _DYADS:
        for plan in dyad.people:
            account = create_person(session, f"{plan.key}@{DEMO_DOMAIN}", plan.name)
            account.password_hash = password_hash
            summary.people[plan.key] = account.id
    researcher = create_person(session, f"rosa@{DEMO_DOMAIN}", "Dr Rosa Lind", is_researcher=True)
    researcher.password_hash = password_hash
    study = create_study(
        session,
        researcher.id,
        "Everyday intimacy (demo study)",
        consent_text="Demo consent: my answers may be analysed in pseudonymized form. "
        "I can withdraw at any time.",
        consent_version="demo-1",
        instruments=["eis", "ios", "interaction", "swls"],
        schedule={
            "eis": {"every_days": 7},
            "ios": {"every_days": 7},
            "interaction": {"every_days": 1},
        },
        description="Generated data to explore attunement; not real people.",
    )
    summary.study_id = study.id

    for dyad in _DYADS:
        first, second = (summary.people[p.key] for p in dyad.people)
        relationship = create_relationship(
            session, first, dyad.type, dyad.role, name=dyad.name, mutual_reveal=dyad.mutual_reveal
        )
        relationship.created_at = t0 - timedelta(days=2)
        _, token = create_invitation(session, first, relationship.id, dyad.role)
        accept_invitation(session, second, token)
        summary.relationships[dyad.key] = relationship.id
        for person in (first, second):
            consent = enroll(session, person, study.enrollment_code, "demo-1")
            consent.given_at = t0 - timedelta(days=1)
            create_reminder(
                session,
                person,
                "interaction",
                frequency="daily",
                time_of_day=time(21, 0),
                relationship_id=relationship.id,
                study_id=study.id,
            )
        intimacy = _simulate_interactions(
            session, rng, dyad, (first, second), relationship.id, study.id, t0, days, counts
        )
        _weekly_checkins(
            session,
            rng,
            dyad,
            (first, second),
            relationship.id,
            study.id,
            t0,
            days,
            intimacy,
            counts,
        )
        for person in (first, second):
            for day in sorted(rng.choice(days, size=int(rng.integers(3, 8)), replace=False)):
                log_practice(
                    session,
                    person,
                    "appreciation",
                    done_at=_at(t0, int(day), 20.5, rng),
                    relationship_id=relationship.id,
                    shared=True,
                )
                counts["practices"] += 1
    summary.counts = counts
    session.commit()
    summary.closeness_session_id = _closeness_session(
        session, rng, summary, t0 + timedelta(days=min(10, days - 1), hours=19)
    )
    summary.counts["36 Questions sessions"] = 1 if summary.closeness_session_id else 0
    return summary


def _at(t0: datetime, day: int, hour: float, rng: np.random.Generator) -> datetime:
    minutes = int(hour * 60 + rng.integers(-40, 41))
    return t0 + timedelta(days=day, minutes=max(0, min(minutes, 24 * 60 - 1)))


def _rating(value: float) -> int:
    return int(np.clip(np.rint(value), 1, 7))


def _simulate_interactions(
    session: Session,
    rng: np.random.Generator,
    dyad: _DyadPlan,
    people: tuple[int, int],
    relationship_id: int,
    study_id: int,
    t0: datetime,
    days: int,
    counts: dict[str, int],
) -> dict[tuple[int, int], list[float]]:
    """Record the pair's interactions; return each person's intimacy ratings per week."""
    intimacy: dict[tuple[int, int], list[float]] = {}
    channel_p = np.array(dyad.channels) / sum(dyad.channels)
    for day in range(days):
        mood = rng.normal(0.0, 0.6) + dyad.trend * day / 7
        for _ in range(int(rng.poisson(dyad.per_day))):
            when = _at(t0, day, float(rng.uniform(8, 22)), rng)
            channel = str(rng.choice(_CHANNELS, p=channel_p))
            duration = int(np.clip(rng.lognormal(3.4, 0.6), 10, 240))
            quality = mood + rng.normal(0.0, 0.4)
            answered = [bool(rng.random() < 0.9) for _ in people]
            order = [0, 1] if rng.random() < 0.5 else [1, 0]
            first_record: int | None = None
            for index in order:
                if not answered[index]:
                    continue
                me, other = dyad.people[index], dyad.people[1 - index]
                ratings = _interaction_ratings(rng, me, other, quality)
                intimacy.setdefault((people[index], day // 7), []).append(ratings["interaction_8"])
                note = str(rng.choice(_NOTES)) if rng.random() < 0.25 else None
                record = record_interaction(
                    session,
                    people[index],
                    relationship_id,
                    ratings,
                    channel=channel,
                    occurred_at=when,
                    duration_minutes=duration,
                    note=note,
                    note_shared=bool(note and rng.random() < 0.3),
                    responds_to=first_record,
                    study_id=study_id,
                    source=RecordSource.DEMO,
                )
                record.created_at = when + timedelta(minutes=duration + int(rng.integers(5, 90)))
                first_record = record.id if first_record is None else first_record
                counts["interaction records"] += 1
    return intimacy


def _interaction_ratings(
    rng: np.random.Generator, me: _PersonPlan, other: _PersonPlan, quality: float
) -> dict[str, int]:
    disclosure = me.disclosure + quality + rng.normal(0, 0.5)
    partner_disclosure = other.disclosure + quality + rng.normal(0, 0.6)
    responsiveness = me.responsiveness + 0.6 * quality + rng.normal(0, 0.5)
    ratings = {
        "interaction_1": _rating(disclosure + 0.3 + rng.normal(0, 0.4)),
        "interaction_2": _rating(disclosure + rng.normal(0, 0.4)),
        "interaction_3": _rating(disclosure - 0.4 + rng.normal(0, 0.5)),
        "interaction_4": _rating(partner_disclosure),
        "interaction_5": _rating(responsiveness + rng.normal(0, 0.35)),
        "interaction_6": _rating(responsiveness + rng.normal(0, 0.35)),
        "interaction_7": _rating(responsiveness + 0.2 + rng.normal(0, 0.35)),
    }
    intimacy = (
        0.6
        + 0.25 * disclosure
        + 0.15 * partner_disclosure
        + 0.5 * responsiveness
        + rng.normal(0, 0.5)
    )
    ratings["interaction_8"] = _rating(intimacy)
    return ratings


def _weekly_checkins(
    session: Session,
    rng: np.random.Generator,
    dyad: _DyadPlan,
    people: tuple[int, int],
    relationship_id: int,
    study_id: int,
    t0: datetime,
    days: int,
    intimacy: dict[tuple[int, int], list[float]],
    counts: dict[str, int],
) -> None:
    weeks = days // 7
    for index, person in enumerate(people):
        other = people[1 - index]
        plan = dyad.people[index]
        for week in range(weeks):  # at the end of each week, about that week
            when = _at(t0, week * 7 + 6, 21.0, rng)
            recent = intimacy.get((person, week), [])
            level = float(np.mean(recent)) if recent else (plan.responsiveness + 4.5) / 2
            eis_centre = 1 + (level - 1) * 4 / 6  # 1-7 intimacy onto the EIS 1-5 agreement
            eis: dict[str, int | None] = {
                f"eis_{n}": int(np.clip(np.rint(eis_centre + rng.normal(0, 0.5)), 1, 5))
                for n in range(1, 6)
            }
            if rng.random() < 0.08:  # an item left out now and then
                eis[f"eis_{int(rng.integers(1, 6))}"] = None
            add_measurement(
                session,
                person,
                "eis",
                eis,
                taken_at=when,
                relationship_id=relationship_id,
                about_person_id=other,
                study_id=study_id,
                shared=True,
                source=RecordSource.DEMO,
            )
            ios = {"ios_1": _rating(level - 0.5 + rng.normal(0, 0.6))}
            add_measurement(
                session,
                person,
                "ios",
                ios,
                taken_at=when,
                relationship_id=relationship_id,
                about_person_id=other,
                study_id=study_id,
                shared=True,
                source=RecordSource.DEMO,
            )
            counts["measurements"] += 2
        for day in (0, days - 1):
            swls = {
                f"swls_{n}": _rating(4.6 + 0.3 * (plan.responsiveness - 4.5) + rng.normal(0, 0.8))
                for n in range(1, 6)
            }
            add_measurement(
                session,
                person,
                "swls",
                swls,
                taken_at=_at(t0, day, 21.2, rng),
                study_id=study_id,
                source=RecordSource.DEMO,
            )
            counts["measurements"] += 1


def _closeness_session(
    session: Session, rng: np.random.Generator, summary: DemoSummary, when: datetime
) -> int | None:
    """Play one whole 36 Questions session of the two friends through the live-session code."""
    from attunement.closeness import (
        ManualClock,
        act,
        create_live_session,
        finish_session,
        join_live_session,
        next_question,
        record_ios,
    )

    lea, noor = summary.people["lea"], summary.people["noor"]
    clock = ManualClock(current=when)
    created = create_live_session(
        session, lea, clock, relationship_id=summary.relationships["lea_noor"]
    )
    session.commit()
    code = created.record.join_code
    clock.advance(45)
    join_live_session(session, code, noor, clock)
    for person, value in ((lea, 3), (noor, 4)):
        clock.advance(float(rng.uniform(10, 40)))
        act(session, code, person, clock, _bind(record_ios, person, "before", value, clock))
    state = act(session, code, lea, clock, lambda s: s).state
    while state.phase == "questions":
        clock.advance(float(rng.uniform(50, 140)))
        at = (state.set_index, state.question_index)
        reader = state.reader or lea
        state = act(session, code, reader, clock, _bind(next_question, reader, at, clock)).state
    for person, value in ((lea, 5), (noor, 5)):
        clock.advance(float(rng.uniform(15, 45)))
        state = act(
            session, code, person, clock, _bind(record_ios, person, "after", value, clock)
        ).state
    if state.phase == "ending":
        clock.advance(30)
        act(session, code, lea, clock, _bind(finish_session, lea, clock))
    session.commit()
    return created.record.id


def _bind(function: Any, *args: Any) -> Any:
    """``lambda state: function(state, *args)`` (a named helper keeps the loop readable)."""

    def transition(state: Any) -> Any:
        return function(state, *args)

    return transition
