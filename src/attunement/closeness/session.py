"""The live 36 Questions session as a pure state machine for two people.

The procedure follows Aron, Melinat, Aron, Vallone & Bator (1997), *Personality and Social
Psychology Bulletin, 23*(4), 363-377, as summarised in ``docs/closeness.md``:

1. One person starts a session and gets a short code; the other joins with it.
2. Each person rates closeness on the IOS circles (Aron, Aron & Smollan, 1992) *before*; the
   first set starts only when both have answered.
3. Three sets of questions, in order, never skipping. For each question one person is the
   *reader*: they read it aloud and answer (or do the task) first, then the other answers.
   The reader alternates with every question asked.
4. Each set has a timer (15 minutes). When it runs out the session shows a gentle notice; the
   pair may carry on with the set or move on to the next one (pairs need not finish a set).
5. After the last set each person rates IOS again (*after*).
6. Optionally, a few minutes of silent eye contact, which is **not** part of the 1997 procedure
   (it comes from a 2015 newspaper essay) and is offered only after the IOS-after ratings so it
   cannot colour them.

Every transition is a function ``(state, person, ..., clock) -> new state``; the state is a
frozen value that serialises to JSON (:meth:`SessionState.to_dict`) and back, so a session
survives a reload, a dropped connection or a server restart exactly where it was. Transitions
that move through the questions name the position they move *from*: when two phones tap "next"
at once, the second tap names a position that is no longer current and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from attunement.closeness.assignment import Assignment, Condition, chosen_condition
from attunement.closeness.clock import Clock, protocol_seconds
from attunement.errors import ConflictError, InvalidInputError, PermissionDeniedError, Problem

__all__ = [
    "IOS_MAX",
    "IOS_MIN",
    "Event",
    "Moment",
    "Phase",
    "SessionPlan",
    "SessionState",
    "Timer",
    "eye_contact_timer",
    "finish_session",
    "join_session",
    "next_question",
    "next_set",
    "record_ios",
    "set_timer",
    "start_eye_contact",
    "start_session",
]

Phase = Literal["lobby", "questions", "ios_after", "ending", "finished"]
Moment = Literal["before", "after"]
IOS_MIN = 1
IOS_MAX = 7
FORMAT = 1


@dataclass(frozen=True)
class SessionPlan:
    """The shape of a session: questions per set, minutes per set, eye-contact minutes."""

    set_sizes: tuple[int, ...] = (12, 12, 12)
    minutes_per_set: float = 15.0
    eye_contact_minutes: float = 4.0

    def __post_init__(self) -> None:
        problems = [
            Problem("a set needs at least one question", column="set_sizes", value=size, line=i + 1)
            for i, size in enumerate(self.set_sizes)
            if size < 1
        ]
        if not self.set_sizes:
            problems.append(Problem("no sets", column="set_sizes"))
        for name in ("minutes_per_set", "eye_contact_minutes"):
            if not getattr(self, name) > 0:
                problems.append(Problem("must be positive", column=name, value=getattr(self, name)))
        if problems:
            raise InvalidInputError("invalid session plan", problems=problems)

    @property
    def total_questions(self) -> int:
        return sum(self.set_sizes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "set_sizes": list(self.set_sizes),
            "minutes_per_set": self.minutes_per_set,
            "eye_contact_minutes": self.eye_contact_minutes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionPlan:
        return cls(
            set_sizes=tuple(int(s) for s in data["set_sizes"]),
            minutes_per_set=float(data["minutes_per_set"]),
            eye_contact_minutes=float(data["eye_contact_minutes"]),
        )


@dataclass(frozen=True)
class Event:
    """One thing that happened, for the research record (times are real UTC times).

    ``kind``: ``created``, ``joined``, ``ios_before``, ``ios_after``, ``set_started``,
    ``question`` (a question was shown; ``person`` is its reader), ``set_left_early`` (the pair
    moved on after the timer ran out; ``question_index`` is the first question not reached),
    ``ios_after_started``, ``eye_contact_started``, ``finished``.
    """

    at: datetime
    kind: str
    person: int | None = None
    set_index: int | None = None
    question_index: int | None = None
    value: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "person": self.person,
            "set_index": self.set_index,
            "question_index": self.question_index,
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(**{**data, "at": datetime.fromisoformat(data["at"])})


@dataclass(frozen=True)
class Timer:
    """A countdown in protocol seconds (already scaled by the clock's speed)."""

    limit_seconds: float
    elapsed_seconds: float

    @property
    def remaining_seconds(self) -> float:
        return max(0.0, self.limit_seconds - self.elapsed_seconds)

    @property
    def time_up(self) -> bool:
        return self.elapsed_seconds >= self.limit_seconds


@dataclass(frozen=True)
class SessionState:
    """Everything about one session; change it only through the transition functions."""

    code: str
    assignment: Assignment
    plan: SessionPlan
    participants: tuple[int, ...]
    first_reader: int
    offer_eye_contact: bool
    created_at: datetime
    phase: Phase = "lobby"
    ios_before: dict[int, int] = field(default_factory=dict)
    ios_after: dict[int, int] = field(default_factory=dict)
    set_index: int = 0
    question_index: int = 0
    turn: int = 0
    set_started_at: datetime | None = None
    eye_contact_started_at: datetime | None = None
    finished_at: datetime | None = None
    version: int = 0
    events: tuple[Event, ...] = ()

    @property
    def condition(self) -> Condition:
        return self.assignment.condition

    @property
    def reader(self) -> int | None:
        """The person who reads the current question aloud and answers first."""
        if self.phase != "questions" or len(self.participants) < 2:
            return None
        return self.participants[(self.first_reader + self.turn) % 2]

    @property
    def question_number(self) -> int:
        """The current question's number across all sets, 1-based (1-36 for the protocol)."""
        return sum(self.plan.set_sizes[: self.set_index]) + self.question_index + 1

    def is_participant(self, person: int) -> bool:
        return person in self.participants

    def partner_of(self, person: int) -> int | None:
        others = [p for p in self.participants if p != person]
        return others[0] if others and self.is_participant(person) else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` gives back an equal state."""

        def stamp(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "format": FORMAT,
            "code": self.code,
            "assignment": self.assignment.to_dict(),
            "plan": self.plan.to_dict(),
            "participants": list(self.participants),
            "first_reader": self.first_reader,
            "offer_eye_contact": self.offer_eye_contact,
            "created_at": stamp(self.created_at),
            "phase": self.phase,
            "ios_before": {str(k): v for k, v in self.ios_before.items()},
            "ios_after": {str(k): v for k, v in self.ios_after.items()},
            "set_index": self.set_index,
            "question_index": self.question_index,
            "turn": self.turn,
            "set_started_at": stamp(self.set_started_at),
            "eye_contact_started_at": stamp(self.eye_contact_started_at),
            "finished_at": stamp(self.finished_at),
            "version": self.version,
            "events": [e.to_dict() for e in self.events],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        """Rebuild a state stored by :meth:`to_dict`."""
        if data.get("format") != FORMAT:
            raise InvalidInputError(
                f"unknown session format {data.get('format')!r}",
                hint="This session was stored by a newer attunement; upgrade to open it.",
            )

        def when(key: str) -> datetime | None:
            value = data[key]
            return datetime.fromisoformat(value) if value else None

        created = when("created_at")
        if created is None:
            raise InvalidInputError("stored session has no creation time")
        return cls(
            code=data["code"],
            assignment=Assignment.from_dict(data["assignment"]),
            plan=SessionPlan.from_dict(data["plan"]),
            participants=tuple(int(p) for p in data["participants"]),
            first_reader=int(data["first_reader"]),
            offer_eye_contact=bool(data["offer_eye_contact"]),
            created_at=created,
            phase=data["phase"],
            ios_before={int(k): int(v) for k, v in data["ios_before"].items()},
            ios_after={int(k): int(v) for k, v in data["ios_after"].items()},
            set_index=int(data["set_index"]),
            question_index=int(data["question_index"]),
            turn=int(data["turn"]),
            set_started_at=when("set_started_at"),
            eye_contact_started_at=when("eye_contact_started_at"),
            finished_at=when("finished_at"),
            version=int(data["version"]),
            events=tuple(Event.from_dict(e) for e in data["events"]),
        )


def _changed(state: SessionState, *events: Event, **changes: Any) -> SessionState:
    return replace(state, version=state.version + 1, events=state.events + events, **changes)


def _require_participant(state: SessionState, person: int) -> None:
    if not state.is_participant(person):
        raise PermissionDeniedError(
            "you are not part of this session",
            hint="Join it with the code the other person sees on their screen.",
        )


def _require_phase(state: SessionState, *phases: Phase, doing: str) -> None:
    if state.phase not in phases:
        raise ConflictError(
            f"cannot {doing} now: the session is at step {state.phase!r}",
            hint="Reload the page to see where the session is.",
        )


def start_session(
    code: str,
    creator: int,
    clock: Clock,
    *,
    assignment: Assignment | None = None,
    plan: SessionPlan | None = None,
    first_reader: int = 0,
    offer_eye_contact: bool = True,
) -> SessionState:
    """A new session with one participant, waiting for the other to join.

    ``first_reader`` is 0 (the creator reads the first question) or 1 (the one who joins).
    """
    if first_reader not in (0, 1):
        raise InvalidInputError(f"first_reader must be 0 or 1, got {first_reader!r}")
    now = clock.now()
    return SessionState(
        code=code,
        assignment=assignment or chosen_condition(),
        plan=plan or SessionPlan(),
        participants=(creator,),
        first_reader=first_reader,
        offer_eye_contact=offer_eye_contact,
        created_at=now,
        events=(Event(now, "created", creator), Event(now, "joined", creator)),
    )


def join_session(state: SessionState, person: int, clock: Clock) -> SessionState:
    """Add the second person. Joining again as a participant changes nothing (resume)."""
    if state.is_participant(person):
        return state
    if len(state.participants) >= 2:
        raise PermissionDeniedError(
            "this session already has two people",
            hint="Start a new session to do the questions with someone else.",
        )
    return _changed(
        state,
        Event(clock.now(), "joined", person),
        participants=(*state.participants, person),
    )


def record_ios(
    state: SessionState, person: int, moment: Moment, value: int, clock: Clock
) -> SessionState:
    """Store one person's IOS rating (1-7) before or after the questions.

    A person may change their rating until both have answered; the questions start when both
    people have rated *before*, and the ending comes when both have rated *after*.
    """
    _require_participant(state, person)
    if isinstance(value, bool) or not isinstance(value, int) or not IOS_MIN <= value <= IOS_MAX:
        raise InvalidInputError(
            "choose one of the seven pairs of circles",
            problems=[Problem("out of range", column="ios", value=value, allowed="1-7")],
        )
    now = clock.now()
    if moment == "before":
        _require_phase(state, "lobby", doing="rate closeness before the questions")
        ratings = {**state.ios_before, person: value}
        changed = _changed(state, Event(now, "ios_before", person, value=value), ios_before=ratings)
        if len(state.participants) == 2 and set(ratings) == set(state.participants):
            return _start_set(changed, 0, now)
        return changed
    if moment == "after":
        _require_phase(state, "ios_after", doing="rate closeness after the questions")
        ratings = {**state.ios_after, person: value}
        changed = _changed(state, Event(now, "ios_after", person, value=value), ios_after=ratings)
        if set(ratings) == set(state.participants):
            if state.offer_eye_contact:
                return replace(changed, phase="ending")
            return _finish(changed, now, person=None)
        return changed
    raise InvalidInputError(f"moment must be 'before' or 'after', got {moment!r}")


def _start_set(state: SessionState, set_index: int, now: datetime) -> SessionState:
    started = replace(
        state, phase="questions", set_index=set_index, question_index=0, set_started_at=now
    )
    reader = started.reader
    return replace(
        started,
        events=(
            *started.events,
            Event(now, "set_started", None, set_index, 0),
            Event(now, "question", reader, set_index, 0),
        ),
    )


def _after_last_set(state: SessionState, now: datetime) -> SessionState:
    return replace(
        state, phase="ios_after", set_started_at=None, events=(*state.events, _ios_after(now))
    )


def _ios_after(now: datetime) -> Event:
    return Event(now, "ios_after_started")


def next_question(
    state: SessionState, person: int, at: tuple[int, int], clock: Clock
) -> SessionState:
    """Move on from question ``at = (set_index, question_index)`` to the next one in order.

    After a set's last question the next set starts (with a fresh timer); after the last set
    come the IOS-after ratings. If ``at`` is no longer the current question (the other phone
    was quicker), nothing changes: a question is never skipped by a double tap.
    """
    _require_participant(state, person)
    if state.phase != "questions" or at != (state.set_index, state.question_index):
        return state
    now = clock.now()
    moved = replace(state, turn=state.turn + 1, version=state.version + 1)
    if state.question_index + 1 < state.plan.set_sizes[state.set_index]:
        moved = replace(moved, question_index=state.question_index + 1)
        event = Event(now, "question", moved.reader, moved.set_index, moved.question_index)
        return replace(moved, events=(*moved.events, event))
    if state.set_index + 1 < len(state.plan.set_sizes):
        return _start_set(moved, state.set_index + 1, now)
    return _after_last_set(moved, now)


def next_set(state: SessionState, person: int, from_set: int, clock: Clock) -> SessionState:
    """Leave set ``from_set`` before its last question, allowed only once its time is up.

    As in the original procedure, pairs need not finish a set in its 15 minutes; the questions
    not reached are recorded (``set_left_early``). A stale ``from_set`` changes nothing.
    """
    _require_participant(state, person)
    if state.phase != "questions" or from_set != state.set_index:
        return state
    if not set_timer(state, clock).time_up:
        raise ConflictError(
            "this set's time is not up yet",
            hint="Take plenty of time with each question; you can move on when the timer ends.",
        )
    if state.question_index + 1 >= state.plan.set_sizes[state.set_index]:
        # At the set's last question nothing is left out: this is the ordinary next step.
        return next_question(state, person, (state.set_index, state.question_index), clock)
    now = clock.now()
    left = Event(now, "set_left_early", person, state.set_index, state.question_index + 1)
    moved = replace(
        state, turn=state.turn + 1, version=state.version + 1, events=(*state.events, left)
    )
    if state.set_index + 1 < len(state.plan.set_sizes):
        return _start_set(moved, state.set_index + 1, now)
    return _after_last_set(moved, now)


def start_eye_contact(state: SessionState, person: int, clock: Clock) -> SessionState:
    """Begin the optional eye-contact ending (not part of the 1997 procedure)."""
    _require_participant(state, person)
    _require_phase(state, "ending", doing="start the eye-contact ending")
    if state.eye_contact_started_at is not None:
        return state
    now = clock.now()
    return _changed(state, Event(now, "eye_contact_started", person), eye_contact_started_at=now)


def finish_session(state: SessionState, person: int, clock: Clock) -> SessionState:
    """End the session from the ending step (with or without the eye-contact ending)."""
    _require_participant(state, person)
    if state.phase == "finished":
        return state
    _require_phase(state, "ending", doing="finish the session")
    return _finish(state, clock.now(), person=person)


def _finish(state: SessionState, now: datetime, *, person: int | None) -> SessionState:
    done = 1 if state.eye_contact_started_at is not None else 0
    return _changed(
        state, Event(now, "finished", person, value=done), phase="finished", finished_at=now
    )


def set_timer(state: SessionState, clock: Clock) -> Timer:
    """The current set's countdown; zero elapsed outside the questions."""
    limit = state.plan.minutes_per_set * 60
    if state.phase != "questions" or state.set_started_at is None:
        return Timer(limit, 0.0)
    return Timer(limit, protocol_seconds(state.set_started_at, clock.now(), clock.speed))


def eye_contact_timer(state: SessionState, clock: Clock) -> Timer:
    """The eye-contact countdown; zero elapsed until it starts."""
    limit = state.plan.eye_contact_minutes * 60
    if state.eye_contact_started_at is None:
        return Timer(limit, 0.0)
    return Timer(limit, protocol_seconds(state.eye_contact_started_at, clock.now(), clock.speed))
