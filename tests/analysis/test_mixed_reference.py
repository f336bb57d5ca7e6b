"""fit_lmm against lme4 1.1-31 and nlme 3.1 (values in reference/lmm_reference.json).

The reference values come from reference/make_reference.R; agreement is required within 1e-4
relative for fixed effects, standard errors, variance components and the criterion.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attunement.analysis import LmmResult, fit_lmm, lmm_statistics, parse_formula
from attunement.analysis.formula import build_design
from attunement.analysis.mixed import _Model

REFERENCE = Path(__file__).parent / "reference"
MODELS: list[dict[str, Any]] = json.loads((REFERENCE / "lmm_reference.json").read_text())["models"]
RTOL = 1e-4


@cache
def _data(file: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / file)


@cache
def _fit(name: str) -> LmmResult:
    model = next(m for m in MODELS if m["name"] == name)
    return fit_lmm(
        model["formula"],
        _data(model["file"]),
        reml=model["reml"],
        residual_groups=model.get("residual_groups"),
    )


def _models(engine: str) -> list[Any]:
    return [pytest.param(m, id=m["name"]) for m in MODELS if m["engine"] == engine]


@pytest.mark.parametrize("model", _models("lme4"))
def test_agrees_with_lme4(model: dict[str, Any]) -> None:
    fit = _fit(model["name"])
    fixed = pd.DataFrame(model["fixed"])
    assert list(fit.fixed["term"]) == list(fixed["term"])
    np.testing.assert_allclose(fit.fixed["estimate"], fixed["estimate"], rtol=RTOL)
    np.testing.assert_allclose(fit.fixed["se"], fixed["se"], rtol=RTOL)
    np.testing.assert_allclose(fit.fixed["df"], fixed["df"], rtol=1e-3)
    random = pd.DataFrame(model["random"])
    assert list(fit.random["group"]) == list(random["group"])
    assert list(fit.random["var1"].fillna("")) == list(random["var1"].fillna(""))
    assert list(fit.random["var2"].fillna("")) == list(random["var2"].fillna(""))
    # Variances and SDs within 1e-4 relative; correlations within 1e-4 relative or 1e-5
    # absolute (a correlation of 0.003 in a flat direction of the likelihood), covariances
    # accordingly.
    variances = random["var2"].isna().to_numpy()
    np.testing.assert_allclose(
        fit.random["sdcor"][variances], random["sdcor"][variances], rtol=RTOL
    )
    np.testing.assert_allclose(
        fit.random["sdcor"][~variances], random["sdcor"][~variances], rtol=RTOL, atol=1e-5
    )
    scale = float(random["vcov"][variances].max())
    np.testing.assert_allclose(fit.random["vcov"], random["vcov"], rtol=RTOL, atol=1e-5 * scale)
    assert fit.sigma == pytest.approx(model["sigma"], rel=RTOL)
    assert fit.deviance == pytest.approx(model["deviance"], rel=1e-8)
    assert fit.loglik == pytest.approx(model["loglik"], rel=1e-8)
    if model["reml"]:
        assert fit.reml_criterion == pytest.approx(model["reml_criterion"], rel=1e-8)
    else:
        assert fit.reml_criterion is None
    np.testing.assert_allclose(fit.theta, model["theta"], rtol=RTOL, atol=1e-6)
    assert fit.converged
    assert fit.singular is model["singular"]
    assert bool(fit.messages) is model["singular"]
    ranef = pd.DataFrame(model["ranef"])
    assert list(fit.ranef["group"]) == list(ranef["group"].astype(str))
    assert list(fit.ranef["term"]) == list(ranef["term"])
    scale = float(np.abs(ranef["estimate"]).max())
    np.testing.assert_allclose(fit.ranef["estimate"], ranef["estimate"], atol=RTOL * scale)


@pytest.mark.parametrize("model", _models("nlme"))
def test_residual_groups_agree_with_nlme_varident(model: dict[str, Any]) -> None:
    fit = _fit(model["name"])
    data = _data(model["file"])
    fixed = pd.DataFrame(model["fixed"])
    assert list(fit.fixed["term"]) == list(fixed["term"])
    # nlme scales ML standard errors by sqrt(n / (n - p)); lme4 (and we) do not.
    se = fixed["se"].to_numpy()
    if not model["reml"]:
        se = se * np.sqrt((len(data) - len(fixed)) / len(data))
    # Our criterion is never worse than nlme's (its optimiser stops a little earlier).
    assert fit.deviance <= model["deviance"] + 1e-6
    assert fit.deviance == pytest.approx(model["deviance"], rel=1e-9)
    random = pd.DataFrame(model["random"])
    flat = "mediation" in model["name"]
    # The four-effect model has a flat likelihood in its correlations: nlme and we agree on
    # the criterion to 2e-11 but its correlations only to ~1e-4 absolute.
    tol = 1e-3 if flat else RTOL
    np.testing.assert_allclose(fit.fixed["estimate"], fixed["estimate"], rtol=tol)
    np.testing.assert_allclose(fit.fixed["se"], se, rtol=tol)
    variances = random["var2"].isna().to_numpy()
    np.testing.assert_allclose(fit.random["sdcor"][variances], random["sdcor"][variances], rtol=tol)
    np.testing.assert_allclose(
        fit.random["sdcor"][~variances], random["sdcor"][~variances], atol=1e-4 if flat else 1e-5
    )
    for level, sd in model["residual_sd"].items():
        assert fit.residual_sd[level] == pytest.approx(sd, rel=RTOL)
    assert fit.sigma == pytest.approx(model["residual_sd"]["m"], rel=RTOL)


def test_nlme_and_lme4_criteria_are_the_same_quantity() -> None:
    check = json.loads((REFERENCE / "lmm_reference.json").read_text())["criterion_check"]
    assert check["lme4_remlcrit"] == pytest.approx(check["nlme_minus2loglik"], rel=1e-9)


def test_sleepstudy_summary_mentions_every_part() -> None:
    text = _fit("sleep_slope_reml").summary()
    assert "REML criterion at convergence: 1743.6283" in text
    assert "Subject" in text
    assert "Days" in text
    assert "Satterthwaite" in text


def test_to_dict_shape() -> None:
    out = _fit("sleep_slope_reml").to_dict()
    assert list(out) == ["fixed", "random", "sigma", "reml_criterion", "converged"]
    assert out["fixed"]["Days"]["estimate"] == pytest.approx(10.467286, rel=1e-6)
    assert out["fixed"]["(Intercept)"]["se"] == pytest.approx(6.824556, rel=1e-5)
    assert set(out["random"]["Subject"]["sd"]) == {"(Intercept)", "Days"}
    assert out["random"]["Subject"]["cor"][0]["var1"] == "(Intercept)"
    assert out["random"]["Subject"]["cor"][0]["var2"] == "Days"
    json.dumps(out)


def test_residual_groups_json_lists_each_level() -> None:
    out = _fit("varident_intercept_reml").to_dict()
    assert set(out["random"]["Residual"]["sd"]) == {"m", "y"}


@pytest.mark.parametrize("model", _models("lme4"))
def test_criterion_at_lme4_theta_equals_lme4(model: dict[str, Any]) -> None:
    """The profiled criterion itself (not the optimiser) equals lme4's at lme4's theta."""
    parsed = parse_formula(model["formula"])
    design = build_design(parsed, _data(model["file"]))
    statistics = lmm_statistics(design)
    criterion = _Model(statistics, reml=model["reml"]).evaluate(
        np.asarray(model["theta"]), np.zeros(0), gradient=False
    )
    assert criterion.criterion == pytest.approx(model["deviance"], rel=1e-10)
    fixed = pd.DataFrame(model["fixed"])
    assert statistics.beta_offset is not None
    beta = criterion.beta + statistics.beta_offset
    np.testing.assert_allclose(beta, fixed["estimate"], rtol=1e-7)
