"""Live sessions in the database: create, find by join code, change with optimistic locking.

The whole :class:`SessionState` is kept as a JSON document (``live_state``) so a reload, a
second device or a restarted server resumes exactly where the session was; the plain columns of
:class:`~attunement.store.models.ClosenessSession` and the per-set and per-question rows mirror
it for research queries. Two phones acting at once: the row's ``version`` column makes the
later write fail (``StaleDataError``); :func:`act` then reloads and applies the person's action
again to the fresh state, where a stale "next" changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from attunement.closeness.assignment import Assignment
from attunement.closeness.clock import Clock
from attunement.closeness.protocol import session_plan, thirty_six_questions
from attunement.closeness.session import SessionState, join_session, start_session
from attunement.errors import ConflictError, NotFoundError, PermissionDeniedError
from attunement.store.access import current_membership, require_current_member
from attunement.store.models import (
    ClosenessCondition,
    ClosenessQuestion,
    ClosenessSession,
    ClosenessSet,
    ClosenessState,
    Consent,
)
from attunement.store.tokens import new_code, normalize_code

__all__ = [
    "StoredSession",
    "act",
    "create_live_session",
    "join_live_session",
    "participant_session",
    "sessions_of",
]

_PHASE_TO_STATE = {
    "questions": ClosenessState.IN_PROGRESS,
    "ios_after": ClosenessState.IOS_AFTER,
    "ending": ClosenessState.IOS_AFTER,
    "finished": ClosenessState.FINISHED,
}
MAX_RETRIES = 5


@dataclass(frozen=True)
class StoredSession:
    """A session row and its state, as one person may see it."""

    record: ClosenessSession
    state: SessionState


def _load(record: ClosenessSession) -> SessionState:
    if not record.live_state:
        raise ConflictError(
            "this session was stored without its live state and cannot be resumed",
            hint="Start a new session.",
        )
    return SessionState.from_dict(record.live_state)


def _mirror(db: Session, record: ClosenessSession, state: SessionState, clock: Clock) -> None:
    """Copy the state into the plain columns and the per-set and per-question rows."""
    people = state.participants
    record.person_a_id = people[0]
    record.person_b_id = people[1] if len(people) > 1 else None
    record.condition = ClosenessCondition(state.condition)
    if state.phase == "lobby":
        record.state = ClosenessState.IOS_BEFORE if len(people) == 2 else ClosenessState.WAITING
    else:
        record.state = _PHASE_TO_STATE[state.phase]
    record.current_set = state.set_index + 1
    record.current_question = state.question_index + 1
    record.first_reader_id = (
        people[state.first_reader] if len(people) > state.first_reader else None
    )
    record.eye_contact_ending = state.eye_contact_started_at is not None
    for moment, ratings in (("before", state.ios_before), ("after", state.ios_after)):
        for slot, person in zip("ab", people, strict=False):
            setattr(record, f"ios_{moment}_{slot}", ratings.get(person))
    record.started_at = next((e.at for e in state.events if e.kind == "set_started"), None)
    record.finished_at = state.finished_at
    record.live_state = state.to_dict()
    _mirror_rows(db, record, state, clock)


def _mirror_rows(db: Session, record: ClosenessSession, state: SessionState, clock: Clock) -> None:
    sets = {row.set_number: row for row in record.sets}
    questions = {(row.set_number, row.question_number): row for row in record.questions}
    limit = timedelta(seconds=state.plan.minutes_per_set * 60 / clock.speed)
    last_question: ClosenessQuestion | None = None
    last_set: ClosenessSet | None = None
    for event in state.events:
        if event.kind == "set_started" and event.set_index is not None:
            number = event.set_index + 1
            if last_set is not None and last_set.ended_at is None:
                last_set.ended_at = event.at
            row = sets.get(number)
            if row is None:
                row = ClosenessSet(set_number=number, started_at=event.at)
                record.sets.append(row)
                sets[number] = row
            last_set = row
        elif event.kind == "question" and event.set_index is not None:
            key = (event.set_index + 1, (event.question_index or 0) + 1)
            if last_question is not None and last_question.answered_at is None:
                last_question.answered_at = event.at
            row_q = questions.get(key)
            if row_q is None:
                row_q = ClosenessQuestion(
                    set_number=key[0],
                    question_number=key[1],
                    reader_id=event.person,
                    shown_at=event.at,
                )
                record.questions.append(row_q)
                questions[key] = row_q
            last_question = row_q
        elif event.kind in ("ios_after_started", "set_left_early"):
            if last_question is not None and last_question.answered_at is None:
                last_question.answered_at = event.at
            if event.kind == "ios_after_started" and last_set and last_set.ended_at is None:
                last_set.ended_at = event.at
    for row in sets.values():
        due = row.started_at + limit
        end = row.ended_at or clock.now()
        if row.time_up_at is None and end >= due:
            row.time_up_at = due


def create_live_session(
    db: Session,
    creator_id: int,
    clock: Clock,
    *,
    relationship_id: int | None = None,
    study_id: int | None = None,
    assignment: Assignment | None = None,
    first_reader: int = 0,
    offer_eye_contact: bool = True,
) -> StoredSession:
    """Start a session with a fresh join code; ``relationship_id`` must be one of the creator's.

    The caller commits.
    """
    if relationship_id is not None:
        require_current_member(db, creator_id, relationship_id)
    protocol = thirty_six_questions()
    code = _free_code(db)
    state = start_session(
        code,
        creator_id,
        clock,
        assignment=assignment,
        plan=session_plan(protocol, assignment.condition if assignment else "closeness"),
        first_reader=first_reader,
        offer_eye_contact=offer_eye_contact and protocol.optional_ending is not None,
    )
    record = ClosenessSession(
        join_code=code,
        relationship_id=relationship_id,
        study_id=study_id,
        condition=ClosenessCondition(state.condition),
        created_at=state.created_at,
    )
    _mirror(db, record, state, clock)
    db.add(record)
    db.flush()
    return StoredSession(record, state)


def _free_code(db: Session) -> str:
    for _ in range(20):
        code = new_code()
        taken = db.scalar(sa.select(ClosenessSession.id).where(ClosenessSession.join_code == code))
        if taken is None:
            return code
    raise ConflictError("could not find a free session code", hint="Try again.")


def _by_code(db: Session, code: str) -> ClosenessSession | None:
    return db.scalars(
        sa.select(ClosenessSession).where(ClosenessSession.join_code == normalize_code(code))
    ).one_or_none()


def _not_found(code: str) -> NotFoundError:
    return NotFoundError(
        f"no session {normalize_code(code) or code!r} of yours",
        hint="Check the code on the other person's screen, or join the session with it first.",
    )


def participant_session(db: Session, code: str, actor_id: int) -> StoredSession:
    """The session with this code, if the actor takes part in it; else NotFoundError.

    A person who is not part of a session learns nothing about it, not even that it exists.
    """
    record = _by_code(db, code)
    if record is None or actor_id not in (record.person_a_id, record.person_b_id):
        raise _not_found(code)
    return StoredSession(record, _load(record))


def join_live_session(db: Session, code: str, person_id: int, clock: Clock) -> StoredSession:
    """Join the session with ``code`` (typed by a person); joining again resumes it.

    A session started within a relationship can be joined only by its current members; one
    within a study only by its participants whose consent is in force.
    """
    record = _by_code(db, code)
    if record is None:
        raise _not_found(code)
    if person_id in (record.person_a_id, record.person_b_id):
        return StoredSession(record, _load(record))
    if (
        record.relationship_id is not None
        and current_membership(db, person_id, record.relationship_id) is None
    ):
        raise PermissionDeniedError(
            "this session belongs to a relationship you are not part of",
            hint="Ask the person who started it to invite you to the relationship first.",
        )
    if record.study_id is not None and not _consented(db, person_id, record.study_id):
        raise PermissionDeniedError(
            "this session is part of a study you have not joined",
            hint="Join the study with its enrollment link first, then use the code again.",
        )
    return act(db, code, person_id, clock, lambda state: join_session(state, person_id, clock))


def _consented(db: Session, person_id: int, study_id: int) -> bool:
    found = db.scalar(
        sa.select(Consent.id).where(
            Consent.study_id == study_id,
            Consent.person_id == person_id,
            Consent.withdrawn_at.is_(None),
        )
    )
    return found is not None


def act(
    db: Session,
    code: str,
    actor_id: int,
    clock: Clock,
    transition: Callable[[SessionState], SessionState],
) -> StoredSession:
    """Apply ``transition`` to the session's current state and commit it.

    On a concurrent change by the other device the action is applied again to the fresh state
    (up to a few times). The actor must take part in the session, except when the transition is
    joining it (:func:`join_live_session` checks that first).
    """
    for _ in range(MAX_RETRIES):
        record = _by_code(db, code)
        if record is None:
            raise _not_found(code)
        state = _load(record)
        joining = actor_id not in state.participants
        if joining and len(state.participants) >= 2:
            raise _not_found(code)
        new = transition(state)
        if new is state:
            return StoredSession(record, state)
        try:
            _mirror(db, record, new, clock)
            db.commit()
        except StaleDataError:
            db.rollback()
            db.expire_all()
            continue
        return StoredSession(record, new)
    raise ConflictError(
        "the session changed several times while saving your step",
        hint="Reload the page and try again.",
    )


def sessions_of(db: Session, person_id: int) -> list[ClosenessSession]:
    """The sessions a person takes part in, newest first."""
    return list(
        db.scalars(
            sa.select(ClosenessSession)
            .where(
                sa.or_(
                    ClosenessSession.person_a_id == person_id,
                    ClosenessSession.person_b_id == person_id,
                )
            )
            .order_by(ClosenessSession.created_at.desc(), ClosenessSession.id.desc())
        )
    )
