"""fit_lmm: bad input, exact small cases and invariances (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.analysis import fit_lmm, fit_lmm_statistics, lmm_statistics, parse_formula
from attunement.analysis.formula import build_design
from attunement.analysis.mixed import _Model, _scaled_gradient
from attunement.errors import InvalidInputError


def _panel(seed: int = 0, groups: int = 30, size: int = 8, slope_sd: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), size)
    x = rng.normal(size=g.size)
    w = rng.normal(size=groups)[g]  # a between-group predictor
    b0 = rng.normal(size=groups)
    b1 = rng.normal(scale=slope_sd, size=groups)
    y = 1.0 + 0.5 * x + 0.2 * w + b0[g] + b1[g] * x + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "w": w, "g": [f"p{i:02d}" for i in g]})


def test_missing_values_are_left_out_and_counted() -> None:
    data = _panel()
    data.loc[[3, 17, 40], "x"] = np.nan
    data.loc[5, "y"] = np.nan
    fit = fit_lmm("y ~ x + (1 | g)", data)
    assert fit.n_dropped == 4
    assert fit.n_obs == len(data) - 4
    assert any("4 row(s) with missing values (in y, x)" in m for m in fit.messages)
    complete = fit_lmm("y ~ x + (1 | g)", data.dropna())
    assert fit.deviance == pytest.approx(complete.deviance, rel=1e-12)


def test_single_observation_groups_are_fine_for_intercepts() -> None:
    data = _panel()
    extra = pd.DataFrame({"y": [0.5, 1.5], "x": [0.1, -0.3], "w": [0.0, 0.0], "g": ["s1", "s2"]})
    fit = fit_lmm("y ~ x + (1 | g)", pd.concat([data, extra], ignore_index=True))
    assert fit.n_groups == 32
    assert fit.converged


def test_slopes_need_more_than_one_observation_per_group() -> None:
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 2.5], "x": [0.0, 1.0, 2.0, 3.0], "g": list("abcd")})
    with pytest.raises(InvalidInputError) as info:
        fit_lmm("y ~ x + (1 + x | g)", data)
    text = str(info.value)
    assert "4 group(s) have a single observation" in text
    assert "(1 | group)" in text


def test_one_row_per_group_cannot_separate_group_and_residual_variance() -> None:
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 2.5], "x": [0.0, 1.0, 2.0, 3.0], "g": list("abcd")})
    with pytest.raises(InvalidInputError, match="every group has one observation"):
        fit_lmm("y ~ x + (1 | g)", data)


def test_collinear_predictors_are_named() -> None:
    data = _panel()
    data["x2"] = 2 * data["x"] - 1
    data["z"] = data["w"] * 3
    with pytest.raises(InvalidInputError) as info:
        fit_lmm("y ~ x + w + x2 + z + (1 | g)", data)
    text = str(info.value)
    assert "Collinear fixed-effect predictors: x2, z." in text
    assert "x2 is a linear combination of (Intercept), x" in text
    assert "z is a linear combination of w" in text


def test_text_in_numeric_column_is_refused_by_line() -> None:
    data = _panel()
    data["x"] = data["x"].astype(object)
    data.loc[4, "x"] = "missing"
    with pytest.raises(InvalidInputError) as info:
        fit_lmm("y ~ x + (1 | g)", data)
    assert "column 'x': not a number (got 'missing')" in str(info.value)


def test_text_response_is_refused() -> None:
    data = _panel()
    with pytest.raises(InvalidInputError, match="not numeric"):
        fit_lmm("g ~ x + (1 | x)", data)


def test_no_random_term_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no random-effects term"):
        fit_lmm("y ~ x", _panel())


def test_one_group_is_refused() -> None:
    data = _panel()
    data["g"] = "only"
    with pytest.raises(InvalidInputError, match="has 1 level"):
        fit_lmm("y ~ x + (1 | g)", data)


def test_constant_response_is_refused() -> None:
    data = _panel()
    data["y"] = 3.0
    with pytest.raises(InvalidInputError, match="same value in every row"):
        fit_lmm("y ~ x + (1 | g)", data)


def test_residual_groups_errors() -> None:
    data = _panel()
    with pytest.raises(InvalidInputError, match="not in the table"):
        fit_lmm("y ~ x + (1 | g)", data, residual_groups="dv")
    data["dv"] = "m"
    with pytest.raises(InvalidInputError, match="only one level"):
        fit_lmm("y ~ x + (1 | g)", data, residual_groups="dv")


def test_residual_groups_recover_different_residual_sds() -> None:
    rng = np.random.default_rng(3)
    groups, size = 200, 10
    g = np.repeat(np.arange(groups), size)
    dv = np.tile(np.array(["a", "b"]), g.size // 2)
    noise_sd = np.where(dv == "a", 0.5, 2.0)
    y = rng.normal(size=groups)[g] + rng.normal(size=g.size) * noise_sd
    data = pd.DataFrame({"y": y, "g": g, "dv": dv})
    fit = fit_lmm("y ~ 1 + (1 | g)", data, residual_groups="dv")
    assert fit.residual_sd["a"] == pytest.approx(0.5, rel=0.08)
    assert fit.residual_sd["b"] == pytest.approx(2.0, rel=0.08)
    assert fit.sigma == fit.residual_sd["a"]
    one = fit_lmm("y ~ 1 + (1 | g)", data)
    assert fit.deviance < one.deviance - 100


def test_balanced_random_intercept_df_is_groups_minus_one() -> None:
    # In a balanced random-intercept model the Satterthwaite df of the intercept and of a
    # between-group predictor are exactly G - 1 and G - 2 (the group-means regression).
    data = _panel(groups=25, size=6)
    data["x"] -= data.groupby("g")["x"].transform("mean")  # purely within-group
    fit = fit_lmm("y ~ w + x + (1 | g)", data)
    df = dict(zip(fit.fixed["term"], fit.fixed["df"], strict=True))
    assert df["(Intercept)"] == pytest.approx(23, rel=1e-3)
    assert df["w"] == pytest.approx(23, rel=1e-3)
    assert df["x"] > 100


def test_singular_fit_is_explained_in_words() -> None:
    # every group has the same mean: no variance between groups at all
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(30), 5)
    data = pd.DataFrame({"y": rng.normal(size=g.size), "g": g})
    data["y"] -= data.groupby("g")["y"].transform("mean")
    fit = fit_lmm("y ~ 1 + (1 | g)", data)
    assert fit.singular
    assert fit.theta == (0.0,)
    assert "variance of (Intercept) across g is estimated at zero" in fit.messages[0]
    assert fit.converged


def test_statistics_path_gives_the_same_fit() -> None:
    data = _panel(slope_sd=0.5)
    formula = "y ~ x + w + (1 + x | g)"
    design = build_design(parse_formula(formula), data)
    stats = lmm_statistics(design)
    assert stats.n_obs == len(data)
    assert stats.n_groups == 30
    direct = fit_lmm(formula, data)
    via = fit_lmm_statistics(stats, formula=formula, x_names=design.x_names, z_names=design.z_names)
    pd.testing.assert_frame_equal(direct.fixed, via.fixed)
    assert direct.deviance == via.deviance


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    scale=st.floats(0.01, 100.0),
    shift=st.floats(-1000.0, 1000.0),
)
def test_estimates_follow_rescaling_of_the_response(seed: int, scale: float, shift: float) -> None:
    data = _panel(seed=seed, groups=20, size=6, slope_sd=0.5)
    base = fit_lmm("y ~ x + (1 + x | g)", data)
    moved = data.assign(y=data["y"] * scale + shift)
    fit = fit_lmm("y ~ x + (1 + x | g)", moved)
    expected = base.fixed["estimate"].to_numpy() * scale + np.array([shift, 0.0])
    np.testing.assert_allclose(fit.fixed["estimate"], expected, rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(fit.fixed["se"], base.fixed["se"] * scale, rtol=1e-4)
    np.testing.assert_allclose(fit.theta, base.theta, rtol=1e-4, atol=1e-5)
    # -2 log L changes by 2 (n - p) log(scale) under REML
    assert fit.deviance == pytest.approx(
        base.deviance + 2 * (len(data) - 2) * np.log(scale), abs=1e-5 * len(data)
    )


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_row_order_does_not_matter(seed: int) -> None:
    data = _panel(seed=seed, groups=15, size=5)
    shuffled = data.sample(frac=1.0, random_state=seed)
    a = fit_lmm("y ~ x + (1 + x | g)", data)
    b = fit_lmm("y ~ x + (1 + x | g)", shuffled)
    np.testing.assert_allclose(a.fixed["estimate"], b.fixed["estimate"], rtol=1e-6, atol=1e-9)
    assert a.deviance == pytest.approx(b.deviance, rel=1e-10)


@settings(max_examples=20, deadline=None)
@given(
    theta=st.tuples(st.floats(0.05, 3.0), st.floats(-2.0, 2.0), st.floats(0.05, 3.0)),
    reml=st.booleans(),
    log_delta=st.floats(-1.0, 1.0),
)
def test_analytic_gradient_matches_differences(
    theta: tuple[float, float, float], reml: bool, log_delta: float
) -> None:
    data = _panel(seed=4, groups=12, size=6, slope_sd=0.5)
    data["dv"] = np.where(np.arange(len(data)) % 2 == 0, "a", "b")
    design = build_design(parse_formula("y ~ x + w + (1 + x | g)"), data)
    codes = (data["dv"] == "b").to_numpy().astype(int)
    model = _Model(lmm_statistics(design, codes, ["a", "b"], "dv"), reml=reml)
    point = np.array(theta)
    delta = np.array([log_delta])
    analytic = model.evaluate(point, delta, gradient=True).gradient
    assert analytic is not None
    for k in range(3):
        step = np.zeros(3)
        step[k] = 1e-6
        up = model.evaluate(point + step, delta, gradient=False).criterion
        down = model.evaluate(point - step, delta, gradient=False).criterion
        assert analytic[k] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-5)
    residual = model.evaluate(point, delta, gradient=True).delta_gradient
    assert residual is not None
    up = model.evaluate(point, delta + 1e-6, gradient=False).criterion
    down = model.evaluate(point, delta - 1e-6, gradient=False).criterion
    assert residual[0] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-5)


def test_convergence_check_tells_optimum_from_elsewhere() -> None:
    data = _panel(seed=9, slope_sd=0.5)
    design = build_design(parse_formula("y ~ x + (1 + x | g)"), data)
    model = _Model(lmm_statistics(design), reml=True)

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        ev = model.evaluate(params, np.zeros(0), gradient=True)
        assert ev.gradient is not None
        return ev.criterion, ev.gradient

    fit = fit_lmm("y ~ x + (1 + x | g)", data)
    optimum = np.array(fit.theta)
    assert _scaled_gradient(objective, optimum, model.lower) < 2e-3
    assert _scaled_gradient(objective, optimum * 1.3, model.lower) > 2e-3


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_reference_level_of_residual_groups_does_not_change_the_fit(seed: int) -> None:
    data = _panel(seed=seed, groups=20, size=6)
    rng = np.random.default_rng(seed)
    data["dv"] = rng.choice(["a", "b", "c"], size=len(data))
    data["y"] += rng.normal(size=len(data)) * data["dv"].map({"a": 0.2, "b": 1.0, "c": 2.0})
    first = fit_lmm("y ~ x + (1 | g)", data, residual_groups="dv")
    renamed = data.assign(dv=data["dv"].map({"a": "z", "b": "b", "c": "c"}))  # reference: b
    second = fit_lmm("y ~ x + (1 | g)", renamed, residual_groups="dv")
    assert second.deviance == pytest.approx(first.deviance, rel=1e-9)
    assert second.residual_sd["z"] == pytest.approx(first.residual_sd["a"], rel=1e-4)
    assert second.residual_sd["c"] == pytest.approx(first.residual_sd["c"], rel=1e-4)
    assert second.sigma == pytest.approx(first.residual_sd["b"], rel=1e-4)
    np.testing.assert_allclose(second.fixed["se"], first.fixed["se"], rtol=1e-4)
