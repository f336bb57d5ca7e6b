"""Hypothesis properties of the session: any sequence of taps, by anyone, at any clock speed."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from attunement.closeness import (
    ManualClock,
    SessionPlan,
    SessionState,
    finish_session,
    join_session,
    next_question,
    next_set,
    record_ios,
    set_timer,
    start_eye_contact,
    start_session,
)
from attunement.errors import AttunementError

ANA, BEN, EVE = 1, 2, 3
people = st.sampled_from([ANA, BEN, EVE])


class SessionMachine(RuleBasedStateMachine):
    """Random taps from both phones (and an outsider), with stale positions and waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(speed=100.0)
        self.state = start_session(
            "K7QX2M", ANA, self.clock, plan=SessionPlan(set_sizes=(3, 1, 2)), first_reader=1
        )
        self.history: list[SessionState] = [self.state]

    def apply(self, action: object) -> None:
        try:
            new = action()  # type: ignore[operator]
        except AttunementError:
            return
        if new is not self.state:
            self.history.append(new)
        self.state = new

    @rule(person=people)
    def join(self, person: int) -> None:
        self.apply(lambda: join_session(self.state, person, self.clock))

    @rule(person=people, moment=st.sampled_from(["before", "after"]), value=st.integers(0, 8))
    def rate(self, person: int, moment: str, value: int) -> None:
        self.apply(lambda: record_ios(self.state, person, moment, value, self.clock))  # type: ignore[arg-type]

    @rule(person=people, stale=st.booleans())
    def tap_next(self, person: int, stale: bool) -> None:
        at = (self.state.set_index, self.state.question_index - (1 if stale else 0))
        self.apply(lambda: next_question(self.state, person, at, self.clock))

    @rule(person=people, stale=st.booleans())
    def tap_next_set(self, person: int, stale: bool) -> None:
        from_set = self.state.set_index - (1 if stale else 0)
        self.apply(lambda: next_set(self.state, person, from_set, self.clock))

    @rule(pick=st.integers(0, 1), value=st.integers(1, 7))
    def sensible_step(self, pick: int, value: int) -> None:
        """What a pair actually does next; makes whole sessions common among the examples."""
        state, clock = self.state, self.clock
        person = state.participants[pick % len(state.participants)]
        if state.phase == "lobby" and len(state.participants) < 2:
            self.apply(lambda: join_session(state, BEN, clock))
        elif state.phase == "lobby":
            missing = [p for p in state.participants if p not in state.ios_before] or [person]
            self.apply(lambda: record_ios(state, missing[0], "before", value, clock))
        elif state.phase == "questions":
            at = (state.set_index, state.question_index)
            self.apply(lambda: next_question(state, person, at, clock))
        elif state.phase == "ios_after":
            self.apply(lambda: record_ios(state, person, "after", value, clock))
        else:
            self.apply(lambda: finish_session(state, person, clock))

    @rule(seconds=st.floats(0, 40))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(person=people)
    def eye_contact(self, person: int) -> None:
        self.apply(lambda: start_eye_contact(self.state, person, self.clock))

    @rule(person=people)
    def finish(self, person: int) -> None:
        self.apply(lambda: finish_session(self.state, person, self.clock))

    @invariant()
    def outsiders_never_get_in(self) -> None:
        pair = self.state.participants
        assert len(pair) <= 2
        assert pair[0] == ANA
        for earlier in self.history:
            if len(earlier.participants) == 2:
                assert earlier.participants == pair

    @invariant()
    def questions_need_both_ios_before(self) -> None:
        if self.state.phase != "lobby":
            assert set(self.state.ios_before) == set(self.state.participants)
            assert all(1 <= v <= 7 for v in self.state.ios_before.values())

    @invariant()
    def questions_come_in_order_and_are_never_skipped(self) -> None:
        events = self.state.events
        shown = [(e.set_index, e.question_index) for e in events if e.kind == "question"]
        left = {(e.set_index, e.question_index) for e in events if e.kind == "set_left_early"}
        for before, after in itertools.pairwise(shown):
            if after[0] == before[0]:
                assert after[1] == before[1] + 1
            else:
                assert after == (before[0] + 1, 0)
                # A set may end before its last question only after "time up".
                if before[1] + 1 < self.state.plan.set_sizes[before[0]]:
                    assert (before[0], before[1] + 1) in left

    @invariant()
    def reader_alternates_every_question(self) -> None:
        readers = [e.person for e in self.state.events if e.kind == "question"]
        for before, after in itertools.pairwise(readers):
            assert before != after
        if readers:
            assert readers[0] == self.state.participants[1]  # first_reader=1: who joined
        if self.state.phase == "questions":
            assert self.state.reader == readers[-1]

    @invariant()
    def leaving_a_set_early_only_after_time_up(self) -> None:
        for event in self.state.events:
            if event.kind == "set_left_early":
                started = [
                    e.at
                    for e in self.state.events
                    if e.kind == "set_started" and e.set_index == event.set_index
                ][-1]
                elapsed = (event.at - started).total_seconds() * self.clock.speed
                assert elapsed >= self.state.plan.minutes_per_set * 60

    @invariant()
    def resuming_from_storage_gives_the_same_state(self) -> None:
        stored = json.loads(json.dumps(self.state.to_dict()))
        assert SessionState.from_dict(stored) == self.state

    @invariant()
    def versions_increase_with_each_change(self) -> None:
        versions = [s.version for s in self.history]
        assert versions == sorted(set(versions))

    @precondition(lambda self: self.state.phase == "finished")
    @invariant()
    def finished_sessions_have_both_ios_after(self) -> None:
        assert set(self.state.ios_after) == set(self.state.participants)


TestSessionMachine = SessionMachine.TestCase
TestSessionMachine.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)


@given(
    speed=st.floats(min_value=0.01, max_value=1e5, allow_nan=False),
    real_seconds=st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_time_up_exactly_when_15_protocol_minutes_have_passed(
    speed: float, real_seconds: float
) -> None:
    clock = ManualClock(speed=speed)
    state = start_session("K7QX2M", ANA, clock)
    state = join_session(state, BEN, clock)
    state = record_ios(state, ANA, "before", 1, clock)
    state = record_ios(state, BEN, "before", 7, clock)
    clock.advance(real_seconds)
    timer = set_timer(state, clock)
    protocol = (clock.now() - state.set_started_at).total_seconds() * speed  # type: ignore[operator]
    assert timer.time_up == (protocol >= 15 * 60)
    assert timer.remaining_seconds == max(0.0, 15 * 60 - protocol)
