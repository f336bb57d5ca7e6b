"""Clocks and the random assignment of conditions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attunement.closeness import (
    ManualClock,
    SystemClock,
    assign_condition,
    chosen_condition,
    protocol_seconds,
)
from attunement.errors import InvalidInputError


def test_protocol_seconds_scale_real_time() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2026, 1, 1, 0, 0, 3, tzinfo=UTC)
    assert protocol_seconds(start, end, 1) == 3
    assert protocol_seconds(start, end, 300) == 900
    assert protocol_seconds(end, start, 5) == 0


@pytest.mark.parametrize("speed", [0, -1, float("nan")])
def test_clock_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(InvalidInputError):
        SystemClock(speed)
    with pytest.raises(InvalidInputError):
        ManualClock(speed=speed)


def test_system_clock_is_timezone_aware() -> None:
    now = SystemClock().now()
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_manual_clock_refuses_naive_start_and_going_back() -> None:
    with pytest.raises(InvalidInputError):
        ManualClock(datetime(2026, 1, 1))
    with pytest.raises(InvalidInputError):
        ManualClock().advance(-1)


@given(st.integers(min_value=0, max_value=2**32), st.sampled_from([2, 4, 6]))
def test_every_block_is_balanced(seed: int, block_size: int) -> None:
    for block in range(3):
        conditions = [
            assign_condition(seed, block * block_size + i, block_size=block_size).condition
            for i in range(block_size)
        ]
        assert Counter(conditions) == {"closeness": block_size // 2, "small_talk": block_size // 2}


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=1000))
def test_assignment_is_reproducible_from_what_is_recorded(seed: int, number: int) -> None:
    first = assign_condition(seed, number)
    again = assign_condition(first.seed or 0, first.enrolment_number or 0, block_size=4)
    assert first == again
    assert first.method == "permuted_blocks"
    assert type(first).from_dict(first.to_dict()) == first


def test_assignment_depends_on_the_seed() -> None:
    orders = {tuple(assign_condition(seed, i).condition for i in range(8)) for seed in range(40)}
    assert len(orders) > 10


def test_assignment_refuses_bad_blocks_and_numbers() -> None:
    with pytest.raises(InvalidInputError):
        assign_condition(1, 0, block_size=3)
    with pytest.raises(InvalidInputError):
        assign_condition(1, -1)


def test_chosen_condition() -> None:
    assert chosen_condition().condition == "closeness"
    assert chosen_condition("small_talk").method == "chosen"
    with pytest.raises(InvalidInputError):
        chosen_condition("placebo")
