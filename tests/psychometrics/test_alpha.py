"""Cronbach's alpha, Feldt's interval and item statistics: hand-checked values and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attunement.errors import InvalidInputError
from attunement.psychometrics import (
    ALPHA_COLUMNS,
    ITEM_STATISTICS_COLUMNS,
    cronbach_alpha,
    feldt_interval,
    item_statistics,
)

# var(a) = var(b) = 5/3, cov(a, b) = 1, so alpha = 2 * (1 - (10/3) / (16/3)) = 0.75 and
# the correlation (= r_drop with two items) is 1 / (5/3) = 0.6.
TWO_ITEMS = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3]})


def test_two_item_alpha_by_hand() -> None:
    row = cronbach_alpha(TWO_ITEMS).iloc[0]
    assert row["alpha"] == pytest.approx(0.75, abs=1e-12)
    assert row["std_alpha"] == pytest.approx(0.75, abs=1e-12)
    assert row["average_r"] == pytest.approx(0.6, abs=1e-12)
    assert (row["n"], row["n_excluded"], row["k"]) == (4, 0, 2)


def test_two_item_statistics_by_hand() -> None:
    stats = item_statistics(TWO_ITEMS)
    assert list(stats.columns) == list(ITEM_STATISTICS_COLUMNS)
    assert list(stats["item"]) == ["a", "b"]
    np.testing.assert_allclose(stats["r_drop"], [0.6, 0.6], atol=1e-12)
    np.testing.assert_allclose(stats["mean"], [2.5, 2.5], atol=1e-12)
    np.testing.assert_allclose(stats["sd"], [np.sqrt(5 / 3)] * 2, atol=1e-12)
    # one item left has no alpha
    assert stats["alpha_if_deleted"].isna().all()


def test_output_columns_are_fixed() -> None:
    assert list(cronbach_alpha(TWO_ITEMS).columns) == list(ALPHA_COLUMNS)


def test_feldt_interval_by_hand() -> None:
    # n = 11, k = 3: F quantiles with 10 and 20 df (from tables: F(.975; 10, 20) = 2.7737,
    # F(.025; 10, 20) = 0.2925)
    low, high = feldt_interval(0.8, n=11, k=3, level=0.95)
    assert low == pytest.approx(1 - 0.2 * 2.7737, abs=1e-4)
    assert high == pytest.approx(1 - 0.2 * 0.2925, abs=1e-4)


def test_interval_contains_alpha_and_narrows_with_level() -> None:
    rng = np.random.default_rng(3)
    common = rng.normal(size=(80, 1))
    frame = pd.DataFrame(common + rng.normal(size=(80, 4)), columns=list("abcd"))
    wide = cronbach_alpha(frame, ci=0.99).iloc[0]
    narrow = cronbach_alpha(frame, ci=0.8).iloc[0]
    assert wide["ci_low"] < narrow["ci_low"] < narrow["alpha"] < narrow["ci_high"] < wide["ci_high"]


def test_missing_rows_are_left_out_and_counted() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4, np.nan], "b": [2, 1, 4, 3, 5], "c": [1, 2, 3, 4, 5]})
    row = cronbach_alpha(frame).iloc[0]
    assert (row["n"], row["n_excluded"]) == (4, 1)
    assert row["alpha"] == pytest.approx(float(cronbach_alpha(frame.dropna())["alpha"].iloc[0]))


def test_numeric_strings_are_accepted() -> None:
    frame = TWO_ITEMS.astype(str)
    assert cronbach_alpha(frame)["alpha"].iloc[0] == pytest.approx(0.75)


def test_every_bad_cell_is_listed_with_its_line() -> None:
    frame = pd.DataFrame({"a": ["1", "x", "3"], "b": [1.0, 2.0, np.inf]})
    frame.index = pd.RangeIndex(2, 5, name="line")
    with pytest.raises(InvalidInputError) as caught:
        cronbach_alpha(frame)
    found = {(p.line, p.column) for p in caught.value.problems}
    assert found == {(3, "a"), (4, "b")}


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (pd.DataFrame({"a": [1, 2, 3]}), "at least 2 items"),
        (pd.DataFrame({"a": [1, np.nan], "b": [np.nan, 2]}), "complete"),
        (pd.DataFrame({"a": [1, 1, 1], "b": [2, 2, 2]}), "no variance"),
    ],
)
def test_unusable_tables_are_refused(frame: pd.DataFrame, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        cronbach_alpha(frame)


def test_duplicate_columns_are_refused() -> None:
    frame = pd.DataFrame([[1, 2], [2, 3], [3, 5]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="distinct"):
        cronbach_alpha(frame)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.2])
def test_confidence_level_must_be_a_share(level: float) -> None:
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        cronbach_alpha(TWO_ITEMS, ci=level)


def test_constant_item_gives_nan_r_drop_but_alpha_is_defined() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3], "c": [3, 3, 3, 3]})
    stats = item_statistics(frame)
    assert np.isnan(stats["r_drop"].iloc[2])
    assert np.isfinite(cronbach_alpha(frame)["alpha"].iloc[0])


def test_large_offsets_do_not_cost_digits() -> None:
    # The fast one-pass covariance would cancel catastrophically at an offset of 1e9; the
    # centred path takes over and alpha stays the same.
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        rng.normal(size=(500, 1)) + rng.normal(size=(500, 4)), columns=list("abcd")
    )
    shifted = frame + 1e9
    assert cronbach_alpha(shifted)["alpha"].iloc[0] == pytest.approx(
        cronbach_alpha(frame)["alpha"].iloc[0], abs=1e-6
    )


def test_fast_and_listwise_paths_agree() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.integers(1, 6, size=(300, 5)), columns=list("abcde"))
    with_gap = pd.concat(
        [frame, pd.DataFrame({"a": [np.nan], "b": [1], "c": [2], "d": [3], "e": [4]})]
    )
    pd.testing.assert_frame_equal(
        cronbach_alpha(frame).drop(columns="n_excluded"),
        cronbach_alpha(with_gap).drop(columns="n_excluded"),
        atol=1e-12,
        rtol=0,
    )
    pd.testing.assert_frame_equal(
        item_statistics(frame), item_statistics(with_gap), atol=1e-12, rtol=0
    )
