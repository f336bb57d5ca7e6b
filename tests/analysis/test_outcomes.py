"""EIS against outcome scales: compared with R's cor.test and p.adjust (reference_process/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attunement.analysis.outcomes import benjamini_hochberg, outcome_correlations
from attunement.datafile import read_table
from attunement.errors import InvalidInputError

REF = Path(__file__).parent / "reference_process"


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_matches_r_cor_test_and_p_adjust(method: str) -> None:
    data = read_table(REF / "outcomes.csv")
    expected = pd.read_csv(REF / "outcomes_r.csv")
    expected = expected[expected["method"] == method].reset_index(drop=True)
    got = outcome_correlations(data, "eis_total", method=method)  # y: the outcome columns
    columns = ["x", "y", "method", "n", "r", "ci_low", "ci_high", "p_val", "p_fdr"]
    assert list(got.columns) == columns
    assert got["y"].tolist() == expected["y"].tolist()
    assert got["n"].tolist() == expected["n"].tolist()
    for column in ["r", "p_val", "p_fdr"]:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-10, err_msg=column)
    if method == "pearson":
        for column in ["ci_low", "ci_high"]:
            np.testing.assert_allclose(got[column], expected[column], rtol=1e-10)
    else:  # R has no Spearman CI; Bonett-Wright must bracket rho and be wider than Fisher's
        assert (got["ci_low"] < got["r"]).all()
        assert (got["r"] < got["ci_high"]).all()
        pearson_width = 2 * 1.959964 / np.sqrt(got["n"] - 3)
        z_width = np.arctanh(got["ci_high"]) - np.arctanh(got["ci_low"])
        assert (z_width > pearson_width).all()


def test_benjamini_hochberg_matches_r_with_ties_and_missing() -> None:
    ref = pd.read_csv(REF / "p_adjust_r.csv")
    got = benjamini_hochberg(ref["p"].to_numpy())
    np.testing.assert_allclose(got, ref["bh"].to_numpy(), rtol=1e-12)
    assert np.isnan(got[5])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_bh_is_monotone_and_never_below_raw(p: list[float]) -> None:
    adjusted = benjamini_hochberg(p)
    raw = np.asarray(p)
    assert (adjusted >= raw - 1e-15).all()
    assert (adjusted <= 1).all()
    order = np.argsort(raw, kind="stable")
    assert (np.diff(adjusted[order]) >= -1e-15).all()


def test_listwise_uses_one_sample_for_all_pairs() -> None:
    data = read_table(REF / "outcomes.csv")
    got = outcome_correlations(data, missing="listwise")
    complete = data[["eis_total", *got["y"]]].dropna()
    assert set(got["n"]) == {len(complete)}
    assert len(complete) < len(data)


def test_bad_input_is_explained() -> None:
    data = pd.DataFrame({"eis_total": [1, 2, "three", 4], "swls_total": [1, 2, 3, 4]})
    with pytest.raises(InvalidInputError, match="not numbers") as info:
        outcome_correlations(data)
    assert info.value.problems[0].column == "eis_total"
    with pytest.raises(InvalidInputError, match="no_such"):
        outcome_correlations(data, y="no_such")
    flat = pd.DataFrame({"eis_total": [3, 3, 3, 3], "swls_total": [1, 2, 3, 4]})
    with pytest.raises(InvalidInputError, match="variation"):
        outcome_correlations(flat)
    with pytest.raises(InvalidInputError, match="No outcome score columns") as info:
        outcome_correlations(pd.DataFrame({"eis_total": [1, 2]}))
    assert "--y on the command line" in (info.value.hint or "")
    assert "swls_total, pss10_total" in (info.value.hint or "")


def test_small_samples_get_no_p_value() -> None:
    data = pd.DataFrame({"eis_total": [1, 2, 3, 4, 5], "swls_total": [2, 1, 4, None, None]})
    row = outcome_correlations(data).iloc[0]
    assert row["n"] == 3
    assert np.isnan(row["p_val"])
    assert np.isnan(row["p_fdr"])
    assert row["r"] == pytest.approx(2 / np.sqrt(2 * 42 / 9))  # Sxy 2, Sxx 2, Syy 42/9
