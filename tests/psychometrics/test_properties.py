"""Hypothesis properties that hold for every data set, not just the reference ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attunement.psychometrics import (
    cronbach_alpha,
    item_statistics,
    multilevel_reliability,
    omega_total,
)

answers = st.integers(min_value=1, max_value=7).map(float)


@st.composite
def item_tables(draw: st.DrawFn, min_items: int = 2) -> pd.DataFrame:
    k = draw(st.integers(min_value=min_items, max_value=6))
    n = draw(st.integers(min_value=5, max_value=40))
    values = draw(arrays(np.float64, (n, k), elements=answers))
    frame = pd.DataFrame(values, columns=[f"item_{i + 1}" for i in range(k)])
    assume(frame.var().min() > 0 and frame.sum(axis=1).var() > 0)
    return frame


def alpha_of(frame: pd.DataFrame) -> float:
    return float(cronbach_alpha(frame)["alpha"].iloc[0])


@settings(deadline=None)  # a shared 2-core machine makes timings noisy
@given(item_tables(), st.randoms())
def test_alpha_does_not_depend_on_item_order(frame: pd.DataFrame, rnd: object) -> None:
    columns = list(frame.columns)
    rnd.shuffle(columns)  # type: ignore[attr-defined]
    assert alpha_of(frame[columns]) == pytest.approx(alpha_of(frame), abs=1e-10)


@settings(deadline=None)  # a shared 2-core machine makes timings noisy
@given(item_tables(), st.floats(min_value=-100, max_value=100), st.data())
def test_alpha_ignores_a_constant_added_to_an_item(
    frame: pd.DataFrame, shift: float, data: st.DataObject
) -> None:
    column = data.draw(st.sampled_from(list(frame.columns)))
    moved = frame.assign(**{column: frame[column] + shift})
    assert alpha_of(moved) == pytest.approx(alpha_of(frame), abs=1e-8)


@settings(deadline=None)  # a shared 2-core machine makes timings noisy
@given(item_tables(), st.floats(min_value=0.1, max_value=10))
def test_alpha_ignores_rescaling_every_item_together(frame: pd.DataFrame, factor: float) -> None:
    assert alpha_of(frame * factor) == pytest.approx(alpha_of(frame), abs=1e-9)


@settings(deadline=None)  # a shared 2-core machine makes timings noisy
@given(
    arrays(np.float64, st.integers(3, 30), elements=answers).filter(lambda v: np.var(v) > 0),
    st.integers(min_value=2, max_value=6),
)
def test_parallel_items_give_alpha_one(column: np.ndarray, k: int) -> None:
    frame = pd.DataFrame({f"item_{i}": column for i in range(k)})
    row = cronbach_alpha(frame).iloc[0]
    assert row["alpha"] == pytest.approx(1.0, abs=1e-12)
    assert row["ci_low"] == pytest.approx(1.0, abs=1e-12)


@settings(deadline=None)  # a shared 2-core machine makes timings noisy
@given(item_tables())
def test_alpha_is_at_most_one_and_interval_brackets_it(frame: pd.DataFrame) -> None:
    row = cronbach_alpha(frame).iloc[0]
    assert row["alpha"] <= 1 + 1e-12
    assert row["ci_low"] <= row["alpha"] <= row["ci_high"]


@settings(max_examples=50, deadline=None)  # a shared 2-core machine makes timings noisy
@given(item_tables(min_items=3))
def test_alpha_if_deleted_is_alpha_of_the_other_items(frame: pd.DataFrame) -> None:
    stats = item_statistics(frame)
    for position, name in enumerate(frame.columns):
        rest = frame.drop(columns=name)
        assume(rest.sum(axis=1).var() > 0)
        assert stats["alpha_if_deleted"].iloc[position] == pytest.approx(alpha_of(rest), abs=1e-9)


@settings(max_examples=50, deadline=None)  # a shared 2-core machine makes timings noisy
@given(item_tables())
def test_r_drop_is_the_correlation_with_the_rest_score(frame: pd.DataFrame) -> None:
    stats = item_statistics(frame)
    for position, name in enumerate(frame.columns):
        rest = frame.drop(columns=name).sum(axis=1)
        assume(rest.var() > 0)
        expected = np.corrcoef(frame[name], rest)[0, 1]
        assert stats["r_drop"].iloc[position] == pytest.approx(expected, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(item_tables(min_items=3), st.floats(min_value=0.2, max_value=5), st.data())
def test_omega_ignores_linear_rescaling_of_an_item(
    frame: pd.DataFrame, factor: float, data: st.DataObject
) -> None:
    # omega is computed from correlations, which positive linear maps leave unchanged
    column = data.draw(st.sampled_from(list(frame.columns)))
    moved = frame.assign(**{column: frame[column] * factor + 3})
    assume(
        np.linalg.matrix_rank(frame.to_numpy() - frame.to_numpy().mean(axis=0)) == frame.shape[1]
    )
    before = omega_total(frame).iloc[0]
    after = omega_total(moved).iloc[0]
    assert after["omega_total"] == pytest.approx(before["omega_total"], abs=1e-7)


@settings(max_examples=30, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 6), st.integers(2, 5), st.integers(2, 4)),
        elements=st.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 2)),
    ),
    st.floats(min_value=-10, max_value=10),
)
def test_diary_coefficients_ignore_a_constant_shift(cube: np.ndarray, shift: float) -> None:
    p, t, k = cube.shape
    index = pd.MultiIndex.from_product([range(p), range(t), range(k)], names=["p", "t", "i"])
    frame = pd.DataFrame({"v": cube.reshape(-1)}, index=index).reset_index()
    assume(frame["v"].var() > 0)
    options = {"person": "p", "time": "t", "item": "i", "value": "v"}
    before = multilevel_reliability(frame, **options)
    after = multilevel_reliability(frame.assign(v=frame["v"] + shift), **options)
    variances = [c for c in before.columns if c.startswith("var_")]
    np.testing.assert_allclose(after[variances], before[variances], atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 5), st.integers(2, 4), st.integers(2, 3)),
        elements=st.integers(1, 5).map(float),
    ),
    st.randoms(),
)
def test_diary_results_do_not_depend_on_labels_or_row_order(cube: np.ndarray, rnd: object) -> None:
    p, t, k = cube.shape
    index = pd.MultiIndex.from_product([range(p), range(t), range(k)], names=["p", "t", "i"])
    frame = pd.DataFrame({"v": cube.reshape(-1)}, index=index).reset_index()
    assume(frame["v"].var() > 0)
    relabelled = frame.assign(p=frame["p"].map(lambda x: f"person {p - x}"))
    relabelled = relabelled.sample(frac=1.0, random_state=rnd.randint(0, 1000))  # type: ignore[attr-defined]
    options = {"person": "p", "time": "t", "item": "i", "value": "v"}
    before = multilevel_reliability(frame, **options)
    after = multilevel_reliability(relabelled, **options)
    numbers = [c for c in before.columns if c.startswith(("var_", "r_"))]
    np.testing.assert_allclose(after[numbers], before[numbers], atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(item_tables(min_items=3))
def test_omega_is_finite_for_any_table_of_varying_items(frame: pd.DataFrame) -> None:
    # includes fewer respondents than items (a singular correlation matrix) and Heywood cases;
    # warnings are errors in this suite, so this also checks that none is raised
    row = omega_total(frame).iloc[0]
    assert np.isfinite([row["omega_total"], row["omega_h"], row["rmsr"]]).all()
