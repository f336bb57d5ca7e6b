"""``score_record`` (one record, plain Python) gives exactly what ``score`` (a table) gives."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.errors import InvalidInputError
from attunement.instruments import Instrument, list_instruments, score, score_record

INSTRUMENTS = list_instruments()


def answers(instrument: Instrument) -> st.SearchStrategy[object]:
    """Every kind of answer a person or a file may give, valid or not."""
    low, high = instrument.scale.min, instrument.scale.max
    whole = st.integers(min_value=low, max_value=high)
    labels = [anchor.label for anchor in instrument.scale.anchors]
    valid = st.one_of(
        whole,
        whole.map(float),
        whole.map(lambda n: f" {n} "),
        whole.map(lambda n: f"{n}.0"),
        st.sampled_from(labels),
        st.sampled_from(labels).map(str.upper),
        st.none(),
        st.just(math.nan),
        st.just(""),
    )
    invalid = st.one_of(
        st.integers(min_value=high + 1, max_value=high + 50),
        st.integers(min_value=low - 50, max_value=low - 1),
        st.floats(min_value=low, max_value=high).filter(lambda x: not x.is_integer()),
        st.just(math.inf),
        st.just("inf"),
        st.just("sometimes maybe"),
        st.booleans(),
    )
    return st.one_of(valid, valid, valid, valid, valid, invalid)


@st.composite
def records(draw: st.DrawFn) -> tuple[Instrument, dict[str, object], dict[int | str, object]]:
    """An instrument, its record as a table row (every column), and the same record as a
    mapping keyed by column name or item number, unanswered items sometimes left out."""
    instrument = draw(st.sampled_from(INSTRUMENTS))
    row = {column: draw(answers(instrument)) for column in instrument.columns}
    mapping: dict[int | str, object] = {}
    for number, (column, value) in enumerate(row.items(), start=1):
        if value is None and draw(st.booleans()):
            continue  # a missing key is an unanswered item
        mapping[number if draw(st.booleans()) else column] = value
    return instrument, row, mapping


def _plain(value: Any) -> float | str | None:
    if isinstance(value, str):
        return value
    return None if pd.isna(value) else float(value)


@settings(max_examples=250, deadline=None)
@given(records())
def test_score_record_equals_score(
    case: tuple[Instrument, dict[str, object], dict[int | str, object]],
) -> None:
    instrument, row, mapping = case
    try:
        table = score(pd.DataFrame([row]), instrument)
    except InvalidInputError as error:
        with pytest.raises(InvalidInputError) as raised:
            score_record(instrument, mapping)
        expected = [(p.column, p.message, p.value) for p in error.problems]
        got = [(p.column, p.message, p.value) for p in raised.value.problems]
        assert got == expected
        return
    expected = {name: _plain(table[name].iloc[0]) for name in instrument.score_columns()}
    got = score_record(instrument, mapping)
    assert list(got) == list(expected)
    for name, value in expected.items():
        assert got[name] == value or (value is None and got[name] is None), name
        assert type(got[name]) is type(value), name


def test_hand_checked_pss4_with_labels_and_reverse_keys() -> None:
    # Items 2 and 3 are reverse keyed on 0-4: 3 + (4-4) + (4-0) + 2 = 9.
    got = score_record("pss4", {1: 3, "pss4_2": "Very often", 3: " 0 ", 4: 2.0})
    assert got == {"pss4_total": 9.0}


def test_prorated_sum_and_too_few_answers() -> None:
    # PSS-4 needs all 4 (ceil(0.8 * 4)); PSS-10 prorates 8 of 10: mean(answered) * 10.
    assert score_record("pss4", {1: 3, 2: 1, 3: 0}) == {"pss4_total": None}
    answered = dict.fromkeys(range(1, 9), 2)
    assert score_record("pss10", answered)["pss10_total"] == 20.0


def test_invalid_answers_and_unknown_items_are_named() -> None:
    with pytest.raises(InvalidInputError) as raised:
        score_record("pss4", {1: 7, 2: "often-ish", 3: 1.5, 4: True})
    assert [p.column for p in raised.value.problems] == ["pss4_1", "pss4_2", "pss4_3", "pss4_4"]
    with pytest.raises(InvalidInputError) as raised:
        score_record("pss4", {5: 1, "eis_1": 2, 1: 1, "pss4_1": 1})
    assert [p.column for p in raised.value.problems] == ["5", "eis_1", "pss4_1"]
