"""scale_reliability: one call for the CLI, consistent with the single statistics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from attunement.psychometrics import (
    ALPHA_COLUMNS,
    cronbach_alpha,
    factor_loadings,
    item_statistics,
    omega_total,
    scale_reliability,
)
from tests.psychometrics.reference_data import dataset


def test_report_repeats_the_single_statistics() -> None:
    frame = dataset("scale_missing")
    report = scale_reliability(frame, ci=0.9)
    summary = report.summary.iloc[0]
    alpha = cronbach_alpha(frame, ci=0.9).iloc[0]
    for column in ALPHA_COLUMNS:
        assert summary[column] == alpha[column], column
    assert summary["ci_level"] == 0.9
    assert summary["omega_total"] == omega_total(frame)["omega_total"].iloc[0]
    pd.testing.assert_frame_equal(report.items.drop(columns="loading"), item_statistics(frame))
    np.testing.assert_array_equal(report.items["loading"], factor_loadings(frame)["loading"])
    assert report.notes == ()


def test_two_item_scale_has_no_omega_and_says_so() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5]})
    report = scale_reliability(frame)
    data = report.to_dict()
    json.dumps(data)  # JSON-ready: no NaN, no numpy scalars
    assert data["summary"]["omega_total"] is None
    assert data["summary"]["alpha"] == pytest.approx(float(cronbach_alpha(frame)["alpha"][0]))
    assert data["items"][0]["alpha_if_deleted"] is None
    assert "three items" in report.notes[0]


def test_constant_item_skips_omega_but_keeps_alpha() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3], "c": [3, 3, 3, 3]})
    report = scale_reliability(frame)
    assert np.isfinite(report.summary["alpha"].iloc[0])
    assert np.isnan(report.summary["omega_total"].iloc[0])
    assert "vary" in report.notes[0]


def test_long_form_is_tidy() -> None:
    frame = dataset("scale_small")
    long = scale_reliability(frame).to_long()
    assert list(long.columns) == ["item", "statistic", "value"]
    scale_rows = long[long["item"] == ""]
    assert "alpha" in set(scale_rows["statistic"])
    assert set(long["item"]) == {"", "item_1", "item_2", "item_3"}
    assert not long.duplicated(["item", "statistic"]).any()
