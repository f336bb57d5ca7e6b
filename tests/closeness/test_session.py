"""The 36 Questions session, step by step, with a hand-driven clock."""

from __future__ import annotations

import json

import pytest

from attunement.closeness import (
    ManualClock,
    SessionPlan,
    SessionState,
    eye_contact_timer,
    finish_session,
    join_session,
    next_question,
    next_set,
    record_ios,
    set_timer,
    start_eye_contact,
    start_session,
)
from attunement.errors import ConflictError, InvalidInputError, PermissionDeniedError

ANA, BEN, EVE = 11, 22, 33


def ready(clock: ManualClock, **kwargs: object) -> SessionState:
    """A session where both have joined and rated IOS before: question 1 is showing."""
    state = start_session("K7QX2M", ANA, clock, **kwargs)  # type: ignore[arg-type]
    state = join_session(state, BEN, clock)
    state = record_ios(state, ANA, "before", 3, clock)
    return record_ios(state, BEN, "before", 4, clock)


def test_questions_start_only_when_both_have_rated_before() -> None:
    clock = ManualClock()
    state = start_session("K7QX2M", ANA, clock)
    state = record_ios(state, ANA, "before", 2, clock)
    assert state.phase == "lobby"
    state = join_session(state, BEN, clock)
    assert state.phase == "lobby"
    state = record_ios(state, ANA, "before", 5, clock)  # may change own rating
    assert state.phase == "lobby"
    assert state.ios_before == {ANA: 5}
    state = record_ios(state, BEN, "before", 4, clock)
    assert state.phase == "questions"
    assert (state.set_index, state.question_index, state.question_number) == (0, 0, 1)
    assert state.set_started_at == clock.now()


def test_reader_alternates_from_the_chosen_first_reader() -> None:
    clock = ManualClock()
    state = ready(clock, first_reader=1)
    readers = []
    for _ in range(5):
        readers.append(state.reader)
        state = next_question(state, ANA, (state.set_index, state.question_index), clock)
    assert readers == [BEN, ANA, BEN, ANA, BEN]


def test_reader_keeps_alternating_across_sets() -> None:
    clock = ManualClock()
    state = ready(clock, plan=SessionPlan(set_sizes=(3, 3, 3)))
    readers = []
    while state.phase == "questions":
        readers.append(state.reader)
        state = next_question(state, BEN, (state.set_index, state.question_index), clock)
    assert readers == [ANA, BEN] * 4 + [ANA]
    assert state.phase == "ios_after"


def test_a_stale_tap_changes_nothing_so_no_question_is_skipped() -> None:
    clock = ManualClock()
    state = ready(clock)
    after_ana = next_question(state, ANA, (0, 0), clock)
    # Ben's phone still showed question 1 when he tapped "next".
    after_ben = next_question(after_ana, BEN, (0, 0), clock)
    assert after_ben == after_ana
    assert after_ben.question_number == 2


def test_all_36_questions_in_order_then_ios_after_then_ending() -> None:
    clock = ManualClock()
    state = ready(clock)
    seen = []
    while state.phase == "questions":
        seen.append(state.question_number)
        clock.advance(30)
        state = next_question(state, ANA, (state.set_index, state.question_index), clock)
    assert seen == list(range(1, 37))
    assert state.phase == "ios_after"
    state = record_ios(state, ANA, "after", 6, clock)
    assert state.phase == "ios_after"
    state = record_ios(state, BEN, "after", 5, clock)
    assert state.phase == "ending"
    state = start_eye_contact(state, BEN, clock)
    clock.advance(4 * 60)
    assert eye_contact_timer(state, clock).time_up
    state = finish_session(state, ANA, clock)
    assert state.phase == "finished"
    assert state.events[-1].kind == "finished"
    assert state.events[-1].value == 1  # eye contact was done
    starts = [e.set_index for e in state.events if e.kind == "set_started"]
    assert starts == [0, 1, 2]


def test_without_eye_contact_offer_the_session_finishes_after_ios_after() -> None:
    clock = ManualClock()
    state = ready(clock, plan=SessionPlan(set_sizes=(1,)), offer_eye_contact=False)
    state = next_question(state, ANA, (0, 0), clock)
    state = record_ios(state, ANA, "after", 6, clock)
    state = record_ios(state, BEN, "after", 6, clock)
    assert state.phase == "finished"
    assert state.events[-1].value == 0
    with pytest.raises(ConflictError):
        start_eye_contact(state, ANA, clock)


def test_timer_gives_notice_at_15_minutes_and_the_pair_may_carry_on() -> None:
    clock = ManualClock()
    state = ready(clock)
    clock.advance(15 * 60 - 1)
    timer = set_timer(state, clock)
    assert not timer.time_up
    assert timer.remaining_seconds == pytest.approx(1)
    clock.advance(1)
    assert set_timer(state, clock).time_up
    # Carrying on is allowed: the next question still comes in order.
    state = next_question(state, BEN, (0, 0), clock)
    assert state.question_number == 2


def test_timer_runs_at_clock_speed() -> None:
    clock = ManualClock(speed=600)
    state = ready(clock)
    clock.advance(1.4)
    assert not set_timer(state, clock).time_up
    clock.advance(0.1)
    assert set_timer(state, clock).time_up  # 1.5 real s x 600 = 15 protocol minutes


def test_moving_to_the_next_set_needs_the_time_to_be_up() -> None:
    clock = ManualClock()
    state = ready(clock)
    state = next_question(state, ANA, (0, 0), clock)
    with pytest.raises(ConflictError, match="not up"):
        next_set(state, ANA, 0, clock)
    clock.advance(15 * 60)
    reader_before = state.reader
    moved = next_set(state, ANA, 0, clock)
    assert (moved.set_index, moved.question_index, moved.question_number) == (1, 0, 13)
    assert moved.reader != reader_before
    left = [e for e in moved.events if e.kind == "set_left_early"]
    assert [(e.set_index, e.question_index) for e in left] == [(0, 2)]
    # The new set has a fresh timer.
    assert not set_timer(moved, clock).time_up
    # A second phone asking to leave set 0 changes nothing.
    assert next_set(moved, BEN, 0, clock) == moved


def test_leaving_the_last_set_early_goes_to_ios_after() -> None:
    clock = ManualClock()
    state = ready(clock, plan=SessionPlan(set_sizes=(2,)))
    clock.advance(15 * 60)
    state = next_set(state, ANA, 0, clock)
    assert state.phase == "ios_after"


def test_next_set_at_the_last_question_is_the_ordinary_step() -> None:
    clock = ManualClock()
    state = ready(clock, plan=SessionPlan(set_sizes=(1, 1)))
    clock.advance(15 * 60)
    moved = next_set(state, ANA, 0, clock)
    assert moved == next_question(state, ANA, (0, 0), clock)
    assert not [e for e in moved.events if e.kind == "set_left_early"]


def test_a_third_person_cannot_join_or_act() -> None:
    clock = ManualClock()
    state = ready(clock)
    with pytest.raises(PermissionDeniedError, match="already has two"):
        join_session(state, EVE, clock)
    for action in (
        lambda: next_question(state, EVE, (0, 0), clock),
        lambda: record_ios(state, EVE, "before", 3, clock),
        lambda: next_set(state, EVE, 0, clock),
        lambda: finish_session(state, EVE, clock),
    ):
        with pytest.raises(PermissionDeniedError):
            action()


def test_rejoining_is_a_resume_and_changes_nothing() -> None:
    clock = ManualClock()
    state = ready(clock)
    assert join_session(state, ANA, clock) == state
    assert join_session(state, BEN, clock) == state


@pytest.mark.parametrize("value", [0, 8, -1, True, 3.5, "4"])
def test_ios_must_be_one_of_seven_pairs(value: object) -> None:
    clock = ManualClock()
    state = start_session("K7QX2M", ANA, clock)
    with pytest.raises(InvalidInputError, match="seven pairs") as err:
        record_ios(state, ANA, "before", value, clock)  # type: ignore[arg-type]
    assert err.value.problems[0].allowed == "1-7"


def test_ios_in_the_wrong_step_is_a_conflict() -> None:
    clock = ManualClock()
    state = ready(clock)
    with pytest.raises(ConflictError):
        record_ios(state, ANA, "before", 3, clock)
    with pytest.raises(ConflictError):
        record_ios(state, ANA, "after", 3, clock)
    with pytest.raises(InvalidInputError):
        record_ios(state, ANA, "during", 3, clock)  # type: ignore[arg-type]


def test_finishing_before_the_ending_is_a_conflict() -> None:
    clock = ManualClock()
    with pytest.raises(ConflictError):
        finish_session(ready(clock), ANA, clock)


def test_serialised_state_survives_json_and_resumes() -> None:
    clock = ManualClock()
    state = ready(clock, first_reader=1)
    state = next_question(state, ANA, (0, 0), clock)
    stored = json.dumps(state.to_dict())
    resumed = SessionState.from_dict(json.loads(stored))
    assert resumed == state
    clock.advance(10)
    assert next_question(resumed, BEN, (0, 1), clock) == next_question(state, BEN, (0, 1), clock)


def test_unknown_stored_format_is_refused() -> None:
    clock = ManualClock()
    data = start_session("K7QX2M", ANA, clock).to_dict()
    data["format"] = 99
    with pytest.raises(InvalidInputError, match="newer attunement"):
        SessionState.from_dict(data)


def test_invalid_plan_lists_every_problem() -> None:
    with pytest.raises(InvalidInputError) as err:
        SessionPlan(set_sizes=(12, 0, -1), minutes_per_set=0)
    assert len(err.value.problems) == 3


def test_version_counts_changes_only() -> None:
    clock = ManualClock()
    state = ready(clock)
    moved = next_question(state, ANA, (0, 0), clock)
    assert moved.version == state.version + 1
    assert next_question(moved, ANA, (0, 0), clock).version == moved.version


def test_first_reader_must_be_0_or_1() -> None:
    with pytest.raises(InvalidInputError):
        start_session("K7QX2M", ANA, ManualClock(), first_reader=2)
