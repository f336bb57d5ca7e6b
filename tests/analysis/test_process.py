"""The intimacy process model and 1-1-1 mediation, against lme4 and nlme (reference_process/).

process.R simulates a diary of 150 persons (11-14 occasions, two outcomes missing), fits the
intimacy model with lme4::lmer and the stacked mediation model with nlme::lme (varIdent
residuals per equation), and takes the SE of sigma_ab from nlme's apVar by the delta method.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attunement.analysis.process import mediation_111, process_model
from attunement.datafile import read_table
from attunement.errors import InvalidInputError

REF = Path(__file__).parent / "reference_process"


@pytest.fixture(scope="module")
def diary() -> pd.DataFrame:
    return read_table(REF / "process_data.csv")


@pytest.fixture(scope="module")
def mediation(diary: pd.DataFrame) -> object:
    return mediation_111(diary, draws=200_000, seed=11)


def _r_values(name: str) -> dict[str, float]:
    table = pd.read_csv(REF / name)
    return dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))


def test_intimacy_model_matches_lme4(diary: pd.DataFrame) -> None:
    fit = process_model(diary)
    ref = pd.read_csv(REF / "process_slopes_fixed_r.csv").set_index("term")
    got = fit.effects.set_index("term")
    assert list(got.index) == list(ref.index)
    # lme4's and our optimiser stop at the same REML optimum (criterion equal to 1e-10)
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-5)
    criteria = _r_values("process_criteria_r.csv")
    assert fit.fit.reml_criterion == pytest.approx(criteria["reml_slopes"], abs=1e-6)
    contrast = fit.emotional_vs_factual
    assert contrast is not None
    assert contrast["se"] == pytest.approx(criteria["contrast_se_slopes"], rel=1e-5)
    assert contrast["estimate"] == pytest.approx(
        ref.loc["emotional_within", "estimate"] - ref.loc["factual_within", "estimate"], rel=1e-5
    )
    assert contrast["ci_low"] < contrast["estimate"] < contrast["ci_high"]
    assert fit.n_dropped == 2
    assert fit.n_persons == 150
    assert any("2 of 1872 rows" in m for m in fit.messages)
    varcor = pd.read_csv(REF / "process_slopes_varcor_r.csv")
    sd_intercept = varcor[(varcor["var1"] == "(Intercept)") & varcor["var2"].isna()]["sdcor"]
    random = fit.to_dict()["random"]["person"]["sd"]
    assert random["(Intercept)"] == pytest.approx(float(sd_intercept.iloc[0]), rel=1e-4)


def test_random_intercept_variant_and_missing_predictor(diary: pd.DataFrame) -> None:
    fit = process_model(diary, random="intercept")
    ref = pd.read_csv(REF / "process_intercept_fixed_r.csv")
    np.testing.assert_allclose(fit.effects["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(fit.effects["se"], ref["se"], rtol=1e-6)
    criteria = _r_values("process_criteria_r.csv")
    assert fit.fit.reml_criterion == pytest.approx(criteria["reml_intercept"], abs=1e-6)
    no_factual = process_model(diary, factual=None, random="intercept")
    assert "factual_within" not in set(no_factual.effects["term"])
    assert no_factual.emotional_vs_factual is None


def test_mediation_matches_nlme(mediation: object) -> None:
    from attunement.analysis.process import MediationResult

    assert isinstance(mediation, MediationResult)
    paths = mediation.paths.set_index("quantity")
    fixed = pd.read_csv(REF / "mediation_fixed_r.csv").set_index("term")
    varcomp = _r_values("mediation_varcomp_r.csv")
    # Within-person paths: equal to nlme to 1e-5 (both reach log-likelihood -4722.047555).
    for quantity, term in (("a", "a_path"), ("b", "b_path"), ("c_prime", "c_path")):
        assert paths.loc[quantity, "estimate"] == pytest.approx(
            fixed.loc[term, "estimate"], rel=1e-5
        )
        assert paths.loc[quantity, "se"] == pytest.approx(fixed.loc[term, "se"], rel=1e-4)
    assert mediation.fit.loglik == pytest.approx(varcomp["loglik"], abs=1e-6)
    # Without the mediator's person mean in the outcome equation the model is identified: every
    # fixed effect (X's person mean in both equations too) and G agree with nlme to ~1e-5
    # (measured: estimates 1e-5, SEs 1.3e-5 relative; G 1.1e-5 absolute).
    got_fixed = mediation.fit.fixed.set_index("term")
    assert list(got_fixed.index) == list(fixed.index)
    assert "s_y_m_between" not in got_fixed.index
    np.testing.assert_allclose(got_fixed["estimate"], fixed["estimate"], rtol=5e-5, atol=1e-6)
    np.testing.assert_allclose(got_fixed["se"], fixed["se"], rtol=5e-5)
    g_ref = pd.read_csv(REF / "mediation_G_r.csv", index_col=0)
    np.testing.assert_allclose(
        mediation.random_cov.loc[g_ref.index, g_ref.columns], g_ref, rtol=1e-4, atol=3e-5
    )
    # ... and no nearly flat direction: the Satterthwaite df are all near the number of persons
    # (with the mediator's mean in the outcome equation, s_y and s_y_x_between got df below 1).
    assert (got_fixed["df"] > 100).all()
    assert not any("Satterthwaite" in m for m in mediation.messages)
    assert paths.loc["sigma_ab", "estimate"] == pytest.approx(varcomp["sigma_ab"], rel=1e-4)
    assert mediation.fit.residual_sd["mediator"] == pytest.approx(
        varcomp["sigma_mediator"], rel=1e-5
    )
    assert mediation.fit.residual_sd["outcome"] == pytest.approx(varcomp["sigma_outcome"], rel=1e-5)
    # SE of sigma_ab: our analytic observed information vs nlme's finite-difference Hessian
    # (relative step 1e-3) transformed by the delta method: equal to the Hessian's accuracy.
    assert paths.loc["sigma_ab", "se"] == pytest.approx(varcomp["se_sigma_ab"], rel=1e-3)


def test_mediation_indirect_effect_and_monte_carlo_interval(mediation: object) -> None:
    from attunement.analysis.process import MediationResult

    assert isinstance(mediation, MediationResult)
    paths = mediation.paths.set_index("quantity")
    a, b, c = (paths.loc[k, "estimate"] for k in ("a", "b", "c_prime"))
    sigma_ab = paths.loc["sigma_ab", "estimate"]
    assert paths.loc["indirect", "estimate"] == pytest.approx(a * b + sigma_ab)
    assert paths.loc["total", "estimate"] == pytest.approx(a * b + sigma_ab + c)
    assert paths.loc["proportion_mediated", "estimate"] == pytest.approx(
        (a * b + sigma_ab) / (a * b + sigma_ab + c)
    )
    mc = pd.read_csv(REF / "mediation_mc_r.csv").set_index("quantity")
    # Both intervals use 200,000 draws; the Monte Carlo SE of a 2.5 % quantile is ~2e-4 here.
    for quantity in ("indirect", "total"):
        assert paths.loc[quantity, "ci_low"] == pytest.approx(
            mc.loc[quantity, "ci_low"], abs=1.5e-3
        )
        assert paths.loc[quantity, "ci_high"] == pytest.approx(
            mc.loc[quantity, "ci_high"], abs=1.5e-3
        )
        assert paths.loc[quantity, "se"] == pytest.approx(mc.loc[quantity, "sd"], rel=0.02)
    out = json.loads(json.dumps(mediation.to_dict()))
    for key in ("a", "b", "c_prime", "indirect", "sigma_ab", "total", "proportion_mediated"):
        assert {"estimate", "se", "ci_low", "ci_high"} <= set(out[key])
    assert out["proportion_mediated"]["se"] is None
    assert out["seed"] == 11


def test_mediation_interval_is_reproducible_with_a_seed(diary: pd.DataFrame) -> None:
    small = diary[diary["person"].isin(sorted(set(diary["person"]))[:60])]
    one = mediation_111(small, seed=3, random_c_prime=False, draws=5000)
    two = mediation_111(small, seed=3, random_c_prime=False, draws=5000)
    other = mediation_111(small, seed=4, random_c_prime=False, draws=5000)
    pd.testing.assert_frame_equal(one.paths, two.paths)
    assert not one.paths.equals(other.paths)
    assert "c_path" not in one.fit.random_cov.columns


def test_bad_diaries_are_explained(diary: pd.DataFrame) -> None:
    text = diary.copy().astype({"intimacy": object})
    text.loc[text.index[4], "intimacy"] = "very"
    with pytest.raises(InvalidInputError, match="not numbers") as info:
        process_model(text)
    assert info.value.problems[0].line == 6
    with pytest.raises(InvalidInputError, match="do not have: closeness"):
        process_model(diary, intimacy="closeness")
    singles = diary.drop_duplicates("person")
    with pytest.raises(InvalidInputError, match="single complete observation"):
        process_model(singles)
    flat = diary.assign(factual_disclosure=3.0)
    with pytest.raises(InvalidInputError, match="one value in every row"):
        process_model(flat)
    with pytest.raises(InvalidInputError, match="three different columns"):
        mediation_111(diary, m="intimacy")
    with pytest.raises(InvalidInputError, match="at least one disclosure"):
        process_model(diary, emotional=None, factual=None, partner=None)


def test_collinear_predictors_are_named(diary: pd.DataFrame) -> None:
    twin = diary.assign(factual_disclosure=diary["emotional_disclosure"] * 2 + 1)
    with pytest.raises(InvalidInputError, match="ollinear"):
        process_model(twin, partner=None, random="intercept")


def test_ml_mediation_and_expected_information(diary: pd.DataFrame) -> None:
    from attunement.analysis import process as module

    small = diary[diary["person"].isin(sorted(set(diary["person"]))[:70])]
    reml = mediation_111(small, random_c_prime=False, draws=2000)
    ml = mediation_111(small, random_c_prime=False, draws=2000, reml=False)
    assert not ml.fit.reml
    r_paths = reml.paths.set_index("quantity")
    m_paths = ml.paths.set_index("quantity")
    # ML and REML agree on fixed effects to O(1/n) and ML variances are smaller
    assert m_paths.loc["a", "estimate"] == pytest.approx(r_paths.loc["a", "estimate"], abs=0.01)
    assert 0 < m_paths.loc["sigma_ab", "se"] < 1
    assert np.isfinite(m_paths.loc["indirect", "ci_low"])
    # observed and expected information give similar, not equal, SEs of sigma_ab
    data = module._prepare(
        small,
        {"person": "person", "x": "emotional_disclosure", "m": "responsiveness", "y": "intimacy"},
        what="test",
    )[0]
    data = module.person_mean_centre(data, "person", ["x", "m"])
    stacked = module._stack(data, between=True)
    fixed, random = module._mediation_terms(between=True, random_c_prime=False)
    observed = module._variance_parameter_covariance(stacked, reml.fit, fixed, random)
    expected = module._variance_parameter_covariance(
        stacked, reml.fit, fixed, random, information="expected"
    )
    se_obs = np.sqrt(observed.loc["a_path|b_path", "a_path|b_path"])
    se_exp = np.sqrt(expected.loc["a_path|b_path", "a_path|b_path"])
    assert se_obs == pytest.approx(r_paths.loc["sigma_ab", "se"])
    assert se_exp == pytest.approx(se_obs, rel=0.25)
    assert se_exp != pytest.approx(se_obs, rel=1e-6)


def test_between_person_paths_match_nlme(mediation: object, diary: pd.DataFrame) -> None:
    from attunement.analysis import process as module

    assert isinstance(mediation, module.MediationResult)
    assert mediation.between_paths is not None
    paths = mediation.between_paths.set_index("quantity")
    assert list(paths.index) == [
        "a_between",
        "b_between",
        "c_prime_between",
        "indirect_between",
        "total_between",
    ]
    fixed = pd.read_csv(REF / "mediation_fixed_r.csv").set_index("term")
    varcomp = _r_values("mediation_varcomp_r.csv")
    a_b = paths.loc["a_between", "estimate"]
    c_b = paths.loc["total_between", "estimate"]
    b_b = paths.loc["b_between", "estimate"]
    assert a_b == pytest.approx(fixed.loc["s_m_x_between", "estimate"], rel=1e-5)
    assert c_b == pytest.approx(fixed.loc["s_y_x_between", "estimate"], rel=1e-5)
    assert paths.loc["a_between", "se"] == pytest.approx(fixed.loc["s_m_x_between", "se"], rel=1e-4)
    # b_B = cov(d_M, d_Y) / var(d_M) (measured: 1e-5 relative to nlme)
    assert b_b == pytest.approx(varcomp["b_between"], rel=1e-4)
    assert paths.loc["indirect_between", "estimate"] == pytest.approx(a_b * b_b)
    assert paths.loc["c_prime_between", "estimate"] == pytest.approx(c_b - a_b * b_b)
    # The information behind the Monte Carlo draws of (var d_M, cov(d_M, d_Y)): its delta-method
    # SE of b_B equals nlme's (apVar + delta method): measured 1.2e-4 relative.
    info = module._variance_parameter_covariance(
        module._stack(
            module.person_mean_centre(
                module._prepare(
                    diary,
                    {
                        "person": "person",
                        "x": "emotional_disclosure",
                        "m": "responsiveness",
                        "y": "intimacy",
                    },
                    what="test",
                )[0],
                "person",
                ["x", "m"],
            ),
            between=True,
        ),
        mediation.fit,
        *module._mediation_terms(between=True, random_c_prime=True),
    )
    g = mediation.random_cov
    tau_m, tau_my = g.loc["s_m", "s_m"], g.loc["s_m", "s_y"]
    grad = np.array([-tau_my / tau_m**2, 1 / tau_m])
    cov = info.loc[["s_m|s_m", "s_m|s_y"], ["s_m|s_m", "s_m|s_y"]].to_numpy()
    assert np.sqrt(grad @ cov @ grad) == pytest.approx(varcomp["se_b_between"], rel=1e-3)
    # The Monte Carlo SD of the ratio is near the delta-method SE (the ratio is skewed a little)
    assert paths.loc["b_between", "se"] == pytest.approx(varcomp["se_b_between"], rel=0.05)
    for quantity in paths.index:
        assert paths.loc[quantity, "ci_low"] < paths.loc[quantity, "estimate"]
        assert paths.loc[quantity, "estimate"] < paths.loc[quantity, "ci_high"]
    out = json.loads(json.dumps(mediation.to_dict()))
    assert out["between"]["b_between"]["ci_method"] == "monte-carlo"
    assert out["between"]["a_between"]["ci_method"] == "wald"


def test_mediation_without_between_person_terms(diary: pd.DataFrame) -> None:
    small = diary[diary["person"].isin(sorted(set(diary["person"]))[:60])]
    within = mediation_111(small, between=False, random_c_prime=False, draws=2000)
    assert within.between_paths is None
    assert "_between" not in within.fit.formula
    assert within.to_dict()["between"] is None
    with_means = mediation_111(small, random_c_prime=False, draws=2000)
    # The within-person paths hardly move when X's person mean enters (centred predictors)
    for quantity in ("a", "b", "c_prime"):
        got = within.paths.set_index("quantity").loc[quantity, "estimate"]
        ref = with_means.paths.set_index("quantity").loc[quantity, "estimate"]
        assert got == pytest.approx(ref, abs=0.01)


def test_few_occasions_warn_about_between_person_paths(diary: pd.DataFrame) -> None:
    # 3 occasions per person: tau_M ~ 0.5, sigma_M ~ 0.6, so the reliability of a person's
    # observed mean of M is ~0.5 / (0.5 + 0.36 / 3) ~ 0.8 (below 0.9: a message); with 11-14
    # occasions it is ~0.95
    short = diary.groupby("person").head(3)
    result = mediation_111(short, random_c_prime=False, draws=2000)
    note = [m for m in result.messages if "reliability" in m]
    assert len(note) == 1
    assert "median of 3 occasions" in note[0]
    full = mediation_111(
        diary[diary["person"].isin(sorted(set(diary["person"]))[:60])],
        random_c_prime=False,
        draws=2000,
    )
    assert not any("reliability" in m for m in full.messages)


def test_mediator_without_between_person_variance_has_no_between_slope(
    diary: pd.DataFrame,
) -> None:
    small = diary[diary["person"].isin(sorted(set(diary["person"]))[:60])].copy()
    by_person = small.groupby("person")["responsiveness"]
    small["responsiveness"] = small["responsiveness"] - by_person.transform("mean") + 3
    result = mediation_111(small, random_c_prime=False, draws=2000)
    assert result.between_paths is not None
    paths = result.between_paths.set_index("quantity")
    assert np.isnan(paths.loc["b_between", "estimate"])
    assert np.isnan(paths.loc["indirect_between", "ci_low"])
    assert np.isfinite(paths.loc["total_between", "estimate"])
    assert paths.loc["a_between", "estimate"] == pytest.approx(0, abs=0.05)
    assert any("person means hardly vary" in m for m in result.messages)
    assert result.to_dict()["between"]["b_between"]["estimate"] is None
