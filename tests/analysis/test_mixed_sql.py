"""fit_lmm_sql: the same fit as fit_lmm, with the statistics computed by the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from attunement.analysis import LmmResult, fit_lmm, fit_lmm_sql, lmm_statistics_sql
from attunement.errors import InvalidInputError
from attunement.store import create_engine_from_url

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine_from_url(database_url)
    slopes = pd.read_csv(REFERENCE / "slopes.csv")
    slopes.loc[[3, 10], "x1"] = np.nan
    with engine.begin() as connection:
        slopes.to_sql("lmm_slopes", connection, index=False)
        pd.read_csv(REFERENCE / "stacked.csv").to_sql("lmm_stacked", connection, index=False)
    yield engine
    engine.dispose()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a["term"]) == list(b["term"])
    # the two paths sum in different orders, so the optimiser stops at points a hair apart
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-6)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-6)


def _slopes_both_ways(engine: sa.Engine, formula: str) -> tuple[LmmResult, LmmResult]:
    """The fit in the database and from the DataFrame of the same rows."""
    frame = pd.read_csv(REFERENCE / "slopes.csv")
    frame.loc[[3, 10], "x1"] = np.nan
    expected = fit_lmm(formula, frame)
    with engine.connect() as connection:
        fit = fit_lmm_sql(connection, "lmm_slopes", formula)
    _same(fit.fixed, expected.fixed)
    return fit, expected


def test_factor_and_missing_values_as_in_the_dataframe_path(engine: sa.Engine) -> None:
    fit, expected = _slopes_both_ways(engine, "y ~ x1 + x2 + grp + (1 + x1 | g)")
    assert list(fit.fixed["term"]) == ["(Intercept)", "x1", "x2", "grpb", "grpc"]
    assert fit.deviance == pytest.approx(expected.deviance, rel=1e-11)
    assert fit.n_dropped == 2
    assert fit.n_groups == expected.n_groups
    np.testing.assert_allclose(fit.random["sdcor"], expected.random["sdcor"], rtol=1e-6)
    pd.testing.assert_frame_equal(fit.ranef[["group", "term"]], expected.ranef[["group", "term"]])


def test_residual_groups_in_the_database(engine: sa.Engine) -> None:
    formula = "z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x + (0 + Sm + Sy | id)"
    expected = fit_lmm(formula, pd.read_csv(REFERENCE / "stacked.csv"), residual_groups="dv")
    with engine.connect() as connection:
        fit = fit_lmm_sql(connection, "lmm_stacked", formula, residual_groups="dv")
        stats, x_names, z_names, dropped = lmm_statistics_sql(
            connection, "lmm_stacked", formula, residual_groups="dv"
        )
    _same(fit.fixed, expected.fixed)
    assert fit.residual_sd["y"] == pytest.approx(expected.residual_sd["y"], rel=1e-6)
    assert stats.strata == ["m", "y"]
    assert stats.cross.shape == (2, 6, 6, 80)  # Sm, Sy, Sm:x, Sy:m, Sy:x and z
    assert x_names == ["Sm", "Sy", "Sm:x", "Sy:m", "Sy:x"]
    assert z_names == ["Sm", "Sy"]
    assert dropped == 0


def test_unknown_table_and_columns(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        with pytest.raises(InvalidInputError, match="no table 'nope'"):
            fit_lmm_sql(connection, "nope", "y ~ x1 + (1 | g)")
        with pytest.raises(InvalidInputError, match="no column"):
            fit_lmm_sql(connection, "lmm_slopes", "y ~ x9 + (1 | g)")
        with pytest.raises(InvalidInputError, match="not numeric"):
            fit_lmm_sql(connection, "lmm_slopes", "grp ~ x1 + (1 | g)")


def test_response_with_a_large_mean_loses_no_precision(database_url: str) -> None:
    # y / 1000 + 5000: uncentred cross products would cancel ~10 digits of the residual sum of
    # squares; the least-squares offset keeps them (in the database as in NumPy).
    frame = pd.read_csv(REFERENCE / "slopes.csv")
    base = fit_lmm("y ~ x1 + x2 + (1 + x1 | g)", frame)
    frame["y"] = frame["y"] / 1000 + 5000
    engine = create_engine_from_url(database_url)
    try:
        with engine.begin() as connection:
            frame.to_sql("lmm_shifted", connection, index=False)
        with engine.connect() as connection:
            in_db = fit_lmm_sql(connection, "lmm_shifted", "y ~ x1 + x2 + (1 + x1 | g)")
    finally:
        engine.dispose()
    in_memory = fit_lmm("y ~ x1 + x2 + (1 + x1 | g)", frame)
    for fit in (in_db, in_memory):
        np.testing.assert_allclose(fit.theta, base.theta, rtol=1e-5)
        np.testing.assert_allclose(fit.fixed["se"], base.fixed["se"] / 1000, rtol=1e-5)
        assert fit.fixed["estimate"].iloc[0] == pytest.approx(
            base.fixed["estimate"].iloc[0] / 1000 + 5000, rel=1e-9
        )


def test_uncorrelated_blocks_in_the_database(engine: sa.Engine) -> None:
    fit, expected = _slopes_both_ways(engine, "y ~ x1 + x2 + (1 | g) + (0 + x1 | g)")
    assert list(fit.random["group"]) == ["g", "g.1", "Residual"]
    np.testing.assert_allclose(fit.theta, expected.theta, rtol=1e-6)
