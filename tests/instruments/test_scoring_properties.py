"""Hypothesis properties of scoring that hold for every instrument in the bank."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.instruments import (
    Instrument,
    keyed_items,
    list_instruments,
    score,
    score_with_report,
)

INSTRUMENTS = list_instruments()


@st.composite
def answered_tables(draw: st.DrawFn) -> tuple[Instrument, pd.DataFrame]:
    """An instrument and a table of valid answers with some cells missing."""
    instrument = draw(st.sampled_from(INSTRUMENTS))
    rows = draw(st.integers(min_value=1, max_value=12))
    answer = st.one_of(
        st.integers(min_value=instrument.scale.min, max_value=instrument.scale.max).map(float),
        st.just(np.nan),
    )
    cells = draw(
        st.lists(
            st.lists(answer, min_size=len(instrument.items), max_size=len(instrument.items)),
            min_size=rows,
            max_size=rows,
        )
    )
    return instrument, pd.DataFrame(cells, columns=list(instrument.columns))


@settings(max_examples=60, deadline=None)
@given(answered_tables())
def test_reverse_keying_twice_is_identity(case: tuple[Instrument, pd.DataFrame]) -> None:
    instrument, table = case
    once = keyed_items(table, instrument)
    twice = keyed_items(once, instrument)
    pd.testing.assert_frame_equal(twice, table.astype("float64"))


@settings(max_examples=80, deadline=None)
@given(answered_tables())
def test_scores_stay_in_range(case: tuple[Instrument, pd.DataFrame]) -> None:
    instrument, table = case
    out = score(table, instrument)
    for name in ["total"] * instrument.scoring.total + [s.id for s in instrument.scoring.subscales]:
        low, high = instrument.score_range(name)
        values = out[f"{instrument.id}_{name}"].dropna()
        assert ((values >= low - 1e-9) & (values <= high + 1e-9)).all()
    if instrument.bands is not None:
        scored = out[f"{instrument.id}_{instrument.bands.score}"].notna()
        assert (out[f"{instrument.id}_band"].notna() == scored).all()


@settings(max_examples=60, deadline=None)
@given(answered_tables(), st.randoms(use_true_random=False))
def test_item_column_order_does_not_matter(
    case: tuple[Instrument, pd.DataFrame], rnd: object
) -> None:
    instrument, table = case
    columns = list(table.columns)
    rnd.shuffle(columns)  # type: ignore[attr-defined]
    shuffled = table[columns]
    names = list(instrument.score_columns())
    pd.testing.assert_frame_equal(
        score(shuffled, instrument)[names], score(table, instrument)[names]
    )


@settings(max_examples=60, deadline=None)
@given(answered_tables())
def test_labels_and_numeric_strings_score_like_numbers(
    case: tuple[Instrument, pd.DataFrame],
) -> None:
    instrument, table = case
    labels = {float(a.value): a.label.upper() for a in instrument.scale.anchors}

    def as_text(value: float) -> object:
        if np.isnan(value):
            return ""
        return labels.get(value, f"  {int(value)} ")

    texts = table.map(as_text).astype(object)
    names = list(instrument.score_columns())
    pd.testing.assert_frame_equal(score(texts, instrument)[names], score(table, instrument)[names])


@settings(max_examples=60, deadline=None)
@given(answered_tables())
def test_complete_sum_scores_equal_the_keyed_sum(case: tuple[Instrument, pd.DataFrame]) -> None:
    instrument, table = case
    complete = table.fillna(float(instrument.scale.min))
    keyed = keyed_items(complete, instrument)
    if instrument.scoring.total and instrument.scoring.method == "sum":
        expected = keyed[[f"{instrument.id}_{n}" for n in instrument.scale_items("total")]].sum(
            axis=1
        )
        assert (score(complete, instrument)[f"{instrument.id}_total"] == expected).all()
    for sub in instrument.scoring.subscales:
        cols = [f"{instrument.id}_{n}" for n in sub.items]
        got = score(complete, instrument)[f"{instrument.id}_{sub.id}"]
        np.testing.assert_allclose(got, keyed[cols].mean(axis=1))


@settings(max_examples=60, deadline=None)
@given(answered_tables(), st.data())
def test_invalid_as_missing_equals_blanking_those_cells(
    case: tuple[Instrument, pd.DataFrame], data: st.DataObject
) -> None:
    instrument, table = case
    dirty = table.astype(object)
    blanked = table.copy()
    cells = data.draw(
        st.sets(
            st.tuples(st.integers(0, len(table) - 1), st.integers(0, len(instrument.items) - 1)),
            max_size=5,
        )
    )
    junk = st.sampled_from([instrument.scale.max + 1, instrument.scale.min - 1, "??", 1.5])
    for row, col in cells:
        dirty.iat[row, col] = data.draw(junk)
        blanked.iat[row, col] = np.nan
    result = score_with_report(dirty, instrument, invalid="missing")
    assert result.invalid_count == len(cells)
    names = list(instrument.score_columns())
    pd.testing.assert_frame_equal(result.scores[names], score(blanked, instrument)[names])
