"""Satterthwaite degrees of freedom with separate residual variances (varIdent).

References: ``reference/satterthwaite_varident.R`` writes lmerTest's algorithm out on its own
REML deviance (natural variance parameters: the random-effects covariances and one residual
variance per level), at nlme's optimum polished by Newton steps; we use (theta, log delta,
sigma). Satterthwaite's df do not depend on that choice, so agreement checks both the Hessian
and the Jacobian of Var(beta) in the residual-variance ratios and the profiled sigma.

Exact cases: in a balanced random-intercept model whose within-group deviations sum to zero in
every group and residual level, the REML deviance splits into a part in
phi = tau^2 + 1 / sum_s(n_s / sigma_s^2) (the variance of a group's weighted mean) and a part
in the residual variances alone, Var(beta) of the between-group terms is phi (W'W)^-1, and so
their df are exactly G - p (G groups, p between-group parameters), with or without
``residual_groups``, whatever the estimated residual variances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.analysis import fit_lmm

REFERENCE = Path(__file__).parent / "reference"
R_VALUES = pd.read_csv(REFERENCE / "satterthwaite_varident_r.csv")
MEDIATION = (
    "z ~ 0 + s_m + s_y + a_path + b_path + c_path + s_m_x_between + s_y_m_between"
    " + s_y_x_between + (0 + s_m + s_y + a_path + b_path + c_path | person)"
)


def _reference(model: str) -> pd.DataFrame:
    return R_VALUES.loc[R_VALUES["model"] == model].set_index("term")


def test_varident_df_match_r() -> None:
    # Measured: df agree to 3e-7 relative, estimates and SEs to 5e-10. R's second differences
    # (Richardson-extrapolated, h = 1e-3 |vp|) and ours (central differences of the analytic
    # gradient) are each good to about 1e-7 here; 1e-5 leaves room for BLAS rounding.
    data = pd.read_csv(REFERENCE / "satterthwaite_varident.csv")
    fit = fit_lmm("y ~ x + w + (1 + x | g)", data, residual_groups="stratum")
    ref = _reference("varident")
    got = fit.fixed.set_index("term").loc[ref.index]
    assert fit.reml_criterion == pytest.approx(ref["reml_deviance"].iloc[0], rel=1e-10)
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-6)
    np.testing.assert_allclose(got["df"], ref["df"], rtol=1e-5)
    # the residual variances really differ here, so this is not the one-variance case
    assert fit.residual_sd["b"] / fit.residual_sd["a"] > 1.4
    assert not any("Satterthwaite" in m for m in fit.messages)


def test_mediation_df_match_r_including_the_nearly_unidentified_terms() -> None:
    # The stacked 1-1-1 mediation model: s_y and s_y_x_between get df below 1 in R as well,
    # because the covariance of the s_m and s_y random intercepts is nearly confounded with the
    # outcome's fixed effects (the person mean of the mediator predicts the outcome). The
    # deviance is nearly flat there (smallest Hessian eigenvalue 0.25 against hundreds), which
    # amplifies the error of numerical derivatives: measured 1.5e-4 relative for those two df,
    # 6e-7 for the others.
    data = pd.read_csv(Path(__file__).parent / "reference_process" / "mediation_stacked_r.csv")
    fit = fit_lmm(MEDIATION, data, residual_groups="equation")
    ref = _reference("mediation")
    got = fit.fixed.set_index("term").loc[ref.index]
    assert fit.reml_criterion == pytest.approx(ref["reml_deviance"].iloc[0], rel=1e-10)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-5)
    flat = ["s_y", "s_y_x_between"]
    np.testing.assert_allclose(got.loc[flat, "df"], ref.loc[flat, "df"], rtol=1e-3)
    others = ref.index.difference(flat)
    np.testing.assert_allclose(got.loc[others, "df"], ref.loc[others, "df"], rtol=1e-5)
    assert (got.loc[flat, "df"] < 1).all()
    note = [m for m in fit.messages if "Satterthwaite" in m]
    assert len(note) == 1
    assert "below 1 for s_y, s_y_x_between" in note[0]
    assert "the covariance of s_m and s_y across person" in note[0]


def _balanced(seed: int, groups: int, per_cell: int, levels: int) -> pd.DataFrame:
    """Equal groups, each with ``per_cell`` rows of every residual level; equal residual SDs in
    truth; within-group deviations centred in every (group, level) cell."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), levels * per_cell)
    level = np.tile(np.repeat(np.array(list("abcd"[:levels])), per_cell), groups)
    w = rng.normal(size=groups)
    x = rng.normal(size=g.size)
    e = rng.normal(size=g.size)
    frame = pd.DataFrame({"g": g, "dv": level, "x": x, "e": e})
    for column in ("x", "e"):
        frame[column] -= frame.groupby(["g", "dv"])[column].transform("mean")
    frame["w"] = w[g]
    frame["y"] = 1.0 + 0.5 * frame["w"] + rng.normal(scale=1.5, size=groups)[g] + frame["e"]
    return frame


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    groups=st.integers(6, 30),
    per_cell=st.integers(2, 5),
    levels=st.integers(2, 3),
)
def test_balanced_between_group_df_are_exact(
    seed: int, groups: int, per_cell: int, levels: int
) -> None:
    data = _balanced(seed, groups, per_cell, levels)
    fits = {
        "one residual variance": fit_lmm("y ~ w + (1 | g)", data),
        "residual_groups": fit_lmm("y ~ w + (1 | g)", data, residual_groups="dv"),
    }
    for label, fit in fits.items():
        if fit.singular:  # a between-group variance estimated at zero: no exact result
            continue
        df = fit.fixed.set_index("term")["df"]
        assert df["(Intercept)"] == pytest.approx(groups - 2, rel=1e-6), label
        assert df["w"] == pytest.approx(groups - 2, rel=1e-6), label
    # the estimated residual SDs differ (sampling), yet the df stay exact
    sds = list(fits["residual_groups"].residual_sd.values())
    assert max(sds) / min(sds) != pytest.approx(1.0, abs=1e-3)


def test_balanced_df_with_a_within_group_predictor() -> None:
    # Adding a purely within-group predictor (centred in every group and level) keeps the
    # between-group part exact; its own df are large (within-group information).
    data = _balanced(5, groups=20, per_cell=4, levels=2)
    for residual_groups in (None, "dv"):
        fit = fit_lmm("y ~ w + x + (1 | g)", data, residual_groups=residual_groups)
        df = fit.fixed.set_index("term")["df"]
        assert df["(Intercept)"] == pytest.approx(18, rel=1e-6)
        assert df["w"] == pytest.approx(18, rel=1e-6)
        assert df["x"] > 100
