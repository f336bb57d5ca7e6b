"""Person-mean centring: hand-computed values and general properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.analysis.centring import person_mean_centre
from attunement.errors import InvalidInputError


def test_hand_computed_example_with_missing_values() -> None:
    diary = pd.DataFrame(
        {
            "person": ["a", "a", "a", "b", "b"],
            "disclosure": [1.0, 2.0, None, 5.0, 7.0],
        },
        index=pd.Index([2, 3, 4, 5, 6], name="line"),
    )
    out = person_mean_centre(diary, "person", ["disclosure"])
    # person means 1.5 and 6; grand mean of person means 3.75
    assert out["disclosure_within"].tolist()[:2] == [-0.5, 0.5]
    assert np.isnan(out.loc[4, "disclosure_within"])
    assert out["disclosure_between"].tolist() == [-2.25, -2.25, -2.25, 2.25, 2.25]
    obs = person_mean_centre(diary, "person", "disclosure", grand_mean="observations")
    # grand mean of the 4 observations is 3.75 too; use a case where they differ
    assert obs["disclosure_between"].iloc[0] == pytest.approx(1.5 - 3.75)
    assert out.index.equals(diary.index)
    assert "disclosure" in out.columns


def test_observation_weighted_centre_differs_when_persons_report_unequally() -> None:
    diary = pd.DataFrame({"person": [1, 1, 1, 2], "x": [0.0, 0.0, 0.0, 4.0]})
    persons = person_mean_centre(diary, "person", ["x"])
    observations = person_mean_centre(diary, "person", ["x"], grand_mean="observations")
    assert persons["x_between"].tolist() == [-2.0, -2.0, -2.0, 2.0]
    assert observations["x_between"].tolist() == [-1.0, -1.0, -1.0, 3.0]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.floats(-100, 100, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_parts_add_up_and_within_means_are_zero(rows: list[tuple[int, float]]) -> None:
    diary = pd.DataFrame(rows, columns=["person", "x"])
    out = person_mean_centre(diary, "person", ["x"])
    grand = diary.groupby("person")["x"].mean().mean()
    np.testing.assert_allclose(out["x_within"] + out["x_between"] + grand, diary["x"], atol=1e-9)
    within_means = out.groupby("person")["x_within"].mean()
    np.testing.assert_allclose(within_means, 0, atol=1e-9)
    between_per_person = out.groupby("person")["x_between"].first()
    assert abs(between_per_person.mean()) < 1e-9


def test_bad_input_is_explained() -> None:
    diary = pd.DataFrame(
        {"person": [1, 1, None], "x": ["1", "two", "3"]},
        index=pd.Index([2, 3, 4], name="line"),
    )
    with pytest.raises(InvalidInputError, match="empty on 1 row"):
        person_mean_centre(diary, "person", ["x"])
    diary["person"] = [1, 1, 2]
    with pytest.raises(InvalidInputError, match="not numbers") as info:
        person_mean_centre(diary, "person", ["x"])
    problem = info.value.problems[0]
    assert (problem.line, problem.column, problem.value) == (3, "x", "two")
    with pytest.raises(InvalidInputError, match="do not have: y"):
        person_mean_centre(diary, "person", ["y"])
