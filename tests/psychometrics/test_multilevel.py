"""Diary reliability: a hand-checked design, input checks and incomplete diaries."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from attunement.errors import InvalidInputError
from attunement.psychometrics import MULTILEVEL_COLUMNS, multilevel_reliability


def diary(values: np.ndarray) -> pd.DataFrame:
    rows = [
        {"who": f"p{p}", "day": t + 1, "question": f"q{i}", "answer": float(values[p, t, i])}
        for p, t, i in itertools.product(*(range(n) for n in values.shape))
    ]
    return pd.DataFrame(rows)


def reliability(frame: pd.DataFrame, **options: str) -> pd.Series:
    return multilevel_reliability(
        frame, person="who", time="day", item="question", value="answer", **options
    ).iloc[0]


def test_person_effect_plus_three_way_pattern_by_hand() -> None:
    # 3 persons x 2 days x 2 items. Y = person effect + c_p * 0.5 * pattern[t, i], where the
    # pattern's rows and columns sum to zero and c = (1, -1, 0) sums to zero: every time, item
    # and two-way mean square is 0; everything else is the residual (three-way) term.
    person = np.array([-1.0, 0.0, 1.0])
    pattern = np.array([[1, -1], [-1, 1]], dtype=float)
    y = person[:, None, None] + np.stack([pattern, -pattern, 0 * pattern]) * 0.5
    row = reliability(diary(y))
    # MS_e = SS_e / df = (0.25 * 4 * 2) / (2 * 1 * 1) = 1
    assert row["var_residual"] == pytest.approx(1.0)
    # MS_P = T K sum (person mean - grand mean)^2 / (P - 1) = 4 * 2 / 2 = 4;
    # s2_PT = s2_PI = (0 - MS_e) / 2 = -0.5; s2_P = (4 - 0 - 0 + 1) / (T K)
    assert row["var_person_time"] == pytest.approx(-0.5)
    assert row["var_person_item"] == pytest.approx(-0.5)
    assert row["var_person"] == pytest.approx((4 - 0 - 0 + 1) / 4)
    assert row["var_time"] == pytest.approx((0 - 0 - 0 + 1) / 6)
    assert bool(row["negative_variance"])


def test_columns_are_fixed_and_sizes_reported() -> None:
    rng = np.random.default_rng(5)
    result = multilevel_reliability(
        diary(rng.normal(size=(4, 3, 2))), person="who", time="day", item="question", value="answer"
    )
    assert list(result.columns) == list(MULTILEVEL_COLUMNS)
    row = result.iloc[0]
    assert (row["n_persons"], row["n_times"], row["n_items"]) == (4, 3, 2)


def test_row_order_does_not_matter() -> None:
    rng = np.random.default_rng(6)
    frame = diary(rng.normal(size=(5, 4, 3)))
    shuffled = frame.sample(frac=1.0, random_state=2)
    pd.testing.assert_frame_equal(reliability(frame).to_frame(), reliability(shuffled).to_frame())


def test_missing_answers_are_listed() -> None:
    rng = np.random.default_rng(8)
    frame = diary(rng.normal(size=(4, 3, 2)))
    frame = frame.drop(index=[0, 5])
    with pytest.raises(InvalidInputError, match="incomplete") as caught:
        reliability(frame)
    assert len(caught.value.problems) == 2
    assert caught.value.problems[0].value == "p0 / 1 / q0"


def test_drop_persons_keeps_complete_persons() -> None:
    rng = np.random.default_rng(9)
    values = rng.normal(size=(5, 3, 2))
    frame = diary(values)
    gap = frame.drop(index=frame.index[(frame["who"] == "p4") & (frame["day"] == 2)])
    row = reliability(gap, incomplete="drop_persons")
    assert (row["n_persons"], row["n_persons_excluded"]) == (4, 1)
    expected = reliability(diary(values[:4]))
    assert row["r_kf"] == pytest.approx(expected["r_kf"])


def test_nan_answer_counts_as_missing() -> None:
    frame = diary(np.random.default_rng(1).normal(size=(3, 3, 2)))
    frame.loc[3, "answer"] = np.nan
    with pytest.raises(InvalidInputError, match="incomplete"):
        reliability(frame)


def test_duplicates_and_non_numbers_are_listed_with_lines() -> None:
    frame = diary(np.random.default_rng(2).normal(size=(3, 3, 2)))
    frame["answer"] = frame["answer"].astype(object)
    frame.loc[1, "answer"] = "often"
    frame = pd.concat([frame, frame.iloc[[4]]], ignore_index=True)
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="line")
    with pytest.raises(InvalidInputError) as caught:
        reliability(frame)
    messages = {(p.line, p.message) for p in caught.value.problems}
    assert (3, "not a number") in messages
    assert (2 + len(frame) - 1, "a second answer for the same person, time and item") in messages


def test_unknown_columns_are_named() -> None:
    frame = diary(np.zeros((2, 2, 2)))
    with pytest.raises(InvalidInputError) as caught:
        multilevel_reliability(frame, person="id", time="day", item="item", value="answer")
    assert {p.column for p in caught.value.problems} == {"id", "item"}


def test_single_item_diary_is_refused() -> None:
    frame = diary(np.random.default_rng(3).normal(size=(3, 3, 1)))
    with pytest.raises(InvalidInputError, match="1 items"):
        reliability(frame)


def test_unknown_incomplete_choice_is_refused() -> None:
    frame = diary(np.zeros((2, 2, 2)))
    with pytest.raises(InvalidInputError, match="incomplete"):
        reliability(frame, incomplete="impute")


def test_reml_equals_anova_on_a_complete_diary_with_positive_components() -> None:
    rng = np.random.default_rng(40)
    shape = (10, 6, 4)
    effects = [(10, 1, 1), (1, 6, 1), (1, 1, 4), (10, 6, 1), (10, 1, 4), (1, 6, 4)]
    values = 3 + sum(rng.normal(size=size) for size in effects) + rng.normal(size=shape)
    frame = diary(values)
    anova = reliability(frame)
    reml = reliability(frame, estimator="reml")
    assert not bool(anova["negative_variance"])
    assert (anova["estimator"], reml["estimator"]) == ("anova", "reml")
    for column in ("r_kf", "r_c", "var_person", "var_person_time", "var_residual", "r_krn"):
        assert reml[column] == pytest.approx(anova[column], abs=1e-5), column


def test_reml_accepts_gaps() -> None:
    rng = np.random.default_rng(41)
    values = 3 + rng.normal(size=(6, 1, 1)) + rng.normal(scale=0.7, size=(6, 4, 3))
    frame = diary(values).drop(index=[0, 7, 20])
    row = reliability(frame, estimator="reml")
    assert (row["n_persons"], row["n_times"], row["n_items"]) == (6, 4, 3)
    assert bool(row["converged"])
    components = [row[c] for c in MULTILEVEL_COLUMNS if c.startswith("var_")]
    assert min(components) >= 0
    assert 0 < row["r_kf"] < 1


def test_unknown_estimator_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="estimator"):
        reliability(diary(np.zeros((2, 2, 2))), estimator="bayes")
