"""One-factor minres and omega: known models, reflection, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attunement.errors import InvalidInputError
from attunement.psychometrics import OMEGA_COLUMNS, factor_loadings, fit_one_factor, omega_total


def implied(loadings: list[float]) -> np.ndarray:
    lam = np.array(loadings)
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    return r


def test_exact_one_factor_correlations_give_back_the_loadings() -> None:
    fit = fit_one_factor(implied([0.8, 0.7, 0.6, 0.5]))
    np.testing.assert_allclose(fit.loadings, [0.8, 0.7, 0.6, 0.5], atol=1e-10)
    assert fit.rmsr == pytest.approx(0.0, abs=1e-10)
    assert not fit.heywood


def test_omega_of_an_exact_one_factor_model_by_hand() -> None:
    # With R implied by loadings .8 .7 .6 .5: (sum l)^2 = 6.76, sum u2 = 4 - 1.74 = 2.26,
    # 1'R1 = 6.76 + 2.26 = 9.02, so every omega is 6.76 / 9.02.
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    rng = np.random.default_rng(7)
    # Data whose sample correlation is exactly R: whiten a sample, then colour it.
    raw = rng.normal(size=(200, 4))
    raw -= raw.mean(axis=0)
    white = raw @ np.linalg.inv(np.linalg.cholesky(np.cov(raw.T)).T)
    data = white @ np.linalg.cholesky(implied(list(lam))).T
    row = omega_total(pd.DataFrame(data, columns=list("abcd"))).iloc[0]
    for column in ("omega_total", "omega_h", "omega_implied"):
        assert row[column] == pytest.approx(6.76 / 9.02, abs=1e-9), column
    assert list(omega_total(pd.DataFrame(data, columns=list("abcd"))).columns) == list(
        OMEGA_COLUMNS
    )


def test_negative_item_is_shown_in_loadings_and_reflected_in_omega() -> None:
    rng = np.random.default_rng(11)
    factor = rng.normal(size=(400, 1))
    data = factor * np.array([0.8, 0.7, 0.6, 0.6]) + rng.normal(scale=0.6, size=(400, 4))
    frame = pd.DataFrame(data, columns=list("abcd"))
    flipped = frame.assign(d=-frame["d"])
    loadings = factor_loadings(flipped)
    assert loadings["loading"].iloc[3] < 0 < loadings["loading"].iloc[0]
    np.testing.assert_allclose(
        loadings["loading"].abs(), factor_loadings(frame)["loading"], atol=1e-9
    )
    assert omega_total(flipped)["omega_total"].iloc[0] == pytest.approx(
        omega_total(frame)["omega_total"].iloc[0], abs=1e-9
    )


def test_heywood_case_is_bounded_like_psych() -> None:
    # r12 r13 / r23 = 0.9 * 0.8 / 0.5 > 1: the unbounded solution needs a loading above 1.
    r = np.array([[1.0, 0.9, 0.8], [0.9, 1.0, 0.5], [0.8, 0.5, 1.0]])
    fit = fit_one_factor(r)
    assert fit.heywood


def test_two_items_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least 3 items"):
        omega_total(pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3]}))


def test_constant_item_is_named() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3], "c": [5, 5, 5, 5]})
    with pytest.raises(InvalidInputError) as caught:
        omega_total(frame)
    assert [p.column for p in caught.value.problems] == ["c"]
