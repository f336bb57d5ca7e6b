"""REML variance components against lme4 (through the committed reference values).

``reml`` in expected.json holds lme4 fits with a tight optimiser (bobyqa, rhoend 1e-12), which
agree with the exact ANOVA solution of the balanced diaries to ~3e-7. Our L-BFGS-B search with
central-difference gradients gets within 2e-6 of them, so components are compared to 1e-5.
psych's own lmer path (lme4 defaults) is ~2e-5 from the optimum; coefficients to 1e-4.
The criterion itself is compared at lme4's optimum to 1e-8 (relative): same formula.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attunement.psychometrics import multilevel_reliability
from attunement.psychometrics._reml import RemlProblem
from tests.psychometrics.reference_data import DIARIES, UNBALANCED, dataset, expected

ALL = (*DIARIES, UNBALANCED)
# lme4 term -> our column
CROSSED = {
    "person": "var_person",
    "day": "var_time",
    "item": "var_item",
    "person:day": "var_person_time",
    "person:item": "var_person_item",
    "day:item": "var_time_item",
}
NESTED = {"person": "var_nested_person", "person:day": "var_nested_time"}


def lme4(name: str) -> dict[str, Any]:
    result: dict[str, Any] = expected()["diaries"][name]["reml"]
    return result


@cache
def reml(name: str) -> pd.Series:
    frame = dataset(name)
    return multilevel_reliability(
        frame, person="person", time="day", item="item", value="value", estimator="reml"
    ).iloc[0]


def slow_if_unbalanced(names: tuple[str, ...]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.slow) if n == UNBALANCED else n for n in names]


def codes(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    p = pd.factorize(frame["person"])[0]
    t = pd.factorize(frame["day"])[0]
    i = pd.factorize(frame["item"])[0]
    n_t, n_k = t.max() + 1, i.max() + 1
    return {
        "person": p,
        "day": t,
        "item": i,
        "person:day": p * n_t + t,
        "person:item": p * n_k + i,
        "day:item": t * n_k + i,
    }


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(("model", "terms"), [("crossed", CROSSED), ("nested", NESTED)])
def test_criterion_equals_lme4_remlcrit_at_its_optimum(
    name: str, model: str, terms: dict[str, str]
) -> None:
    frame = dataset(name)
    factor_codes = codes(frame)
    problem = RemlProblem(frame["value"].to_numpy(float), [factor_codes[t] for t in terms])
    theta = np.array([lme4(name)[model]["theta"][t] for t in terms])
    value, sigma2 = problem.criterion(theta)
    assert value == pytest.approx(lme4(name)[model]["reml_criterion"], rel=1e-8)
    assert sigma2 == pytest.approx(lme4(name)[model]["residual"], rel=1e-8)


@pytest.mark.parametrize("name", slow_if_unbalanced(ALL))
def test_reml_components_match_lme4(name: str) -> None:
    got = reml(name)
    assert bool(got["converged"])
    want = lme4(name)
    for term, column in CROSSED.items():
        assert got[column] == pytest.approx(want["crossed"]["variance"][term], abs=1e-5), column
    assert got["var_residual"] == pytest.approx(want["crossed"]["residual"], abs=1e-5)
    for term, column in NESTED.items():
        assert got[column] == pytest.approx(want["nested"]["variance"][term], abs=1e-5), column
    assert got["var_nested_residual"] == pytest.approx(want["nested"]["residual"], abs=1e-5)


@pytest.mark.slow
def test_unbalanced_coefficients_match_psych_lmer_path() -> None:
    got = reml(UNBALANCED)
    want = expected()["diaries"][UNBALANCED]["psych_lmer"]
    for column in ("r_kf", "r_1r", "r_kr", "r_c"):
        assert got[column] == pytest.approx(want[column], abs=1e-4), column
    assert (got["n_persons"], got["n_times"], got["n_items"]) == (40, 14, 4)
    # psych's nested components come from nlme's REML (converged to ~1e-5), rounded to 7 digits
    nested = expected()["diaries"][UNBALANCED]["psych_aov"]
    for column in ("r_krn", "r_cn", "var_nested_person", "var_nested_time", "var_nested_residual"):
        assert got[column] == pytest.approx(nested[column], abs=2e-5), column


def test_reml_on_noise_puts_components_on_the_boundary() -> None:
    # ANOVA gives negative estimates here; REML (like lme4) stops at zero
    got = reml("diary_negative")
    assert not bool(got["negative_variance"])
    assert got["var_person"] == pytest.approx(0.0, abs=1e-8)
    assert got["var_residual"] == pytest.approx(lme4("diary_negative")["crossed"]["residual"])
