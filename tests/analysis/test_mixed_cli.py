"""``attunement fit``: JSON shape, readable table, errors as status 2 without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from attunement.cli import cli

REFERENCE = Path(__file__).parent / "reference"
SLEEP = str(REFERENCE / "sleepstudy.csv")
MODELS = {
    m["name"]: m for m in json.loads((REFERENCE / "lmm_reference.json").read_text())["models"]
}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["fit", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_matches_lme4() -> None:
    code, out, _ = _run("Reaction ~ Days + (Days | Subject)", SLEEP, "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["fixed", "random", "sigma", "reml_criterion", "converged"]
    ref = MODELS["sleep_slope_reml"]
    for row in ref["fixed"]:
        assert data["fixed"][row["term"]]["estimate"] == pytest.approx(row["estimate"], rel=1e-6)
        assert data["fixed"][row["term"]]["se"] == pytest.approx(row["se"], rel=1e-6)
    assert data["reml_criterion"] == pytest.approx(ref["reml_criterion"], rel=1e-9)
    assert data["sigma"] == pytest.approx(ref["sigma"], rel=1e-6)
    assert data["random"]["Subject"]["sd"]["Days"] == pytest.approx(5.922133, rel=1e-5)
    assert data["converged"] is True


def test_ml_fit() -> None:
    code, out, _ = _run("Reaction ~ Days + (Days | Subject)", SLEEP, "--json", "--ml")
    assert code == 0
    data = json.loads(out)
    assert data["reml_criterion"] is None
    ref = MODELS["sleep_slope_ml"]
    assert data["sigma"] == pytest.approx(ref["sigma"], rel=1e-6)


def test_readable_table() -> None:
    code, out, _ = _run("Reaction ~ Days + (1 | Subject)", SLEEP)
    assert code == 0
    assert "Linear mixed model fit by REML" in out
    assert "REML criterion at convergence: 1786.4" in out
    assert "(Intercept)" in out
    assert "Observations: 180   groups (Subject): 18" in out


def test_residual_groups_option() -> None:
    code, out, _ = _run(
        "z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x + (0 + Sm + Sy | id)",
        str(REFERENCE / "stacked.csv"),
        "--residual-groups",
        "dv",
        "--json",
    )
    assert code == 0
    sds = json.loads(out)["random"]["Residual"]["sd"]
    ref = MODELS["varident_intercept_reml"]["residual_sd"]
    assert sds["m"] == pytest.approx(ref["m"], rel=1e-4)
    assert sds["y"] == pytest.approx(ref["y"], rel=1e-4)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["Reaction ~ log(Days) + (1 | Subject)", SLEEP], "functions of columns"),
        (["Reaction ~ Weeks + (1 | Subject)", SLEEP], "Weeks"),
        (["Reaction ~ Days + (1 | Subject)", "no-such-file.csv"], "File not found"),
        (["Reaction ~ Days", SLEEP], "no random-effects term"),
    ],
)
def test_errors_exit_2_without_traceback(args: list[str], fragment: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in out + err


def test_missing_values_are_reported(tmp_path: Path) -> None:
    frame = pd.read_csv(SLEEP)
    frame.loc[[0, 5, 9], "Reaction"] = None
    path = tmp_path / "sleep.csv"
    frame.to_csv(path, index=False)
    code, out, _ = _run("Reaction ~ Days + (1 | Subject)", str(path))
    assert code == 0
    assert "3 row(s) with missing values (in Reaction) were left out" in out


def test_uncorrelated_blocks_are_named_as_lme4_names_them() -> None:
    code, out, _ = _run("Reaction ~ Days + (Days || Subject)", SLEEP, "--json")
    assert code == 0
    random = json.loads(out)["random"]
    assert list(random) == ["Subject", "Subject.1", "Residual"]
    ref = MODELS["sleep_uncorrelated_reml"]["random"]
    assert random["Subject.1"]["sd"]["Days"] == pytest.approx(ref[1]["sdcor"], rel=1e-6)
    assert random["Subject"]["cor"] == []


def test_fit_a_table_in_a_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "diary.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        pd.read_csv(SLEEP).to_sql("sleep", connection, index=False)
    engine.dispose()
    code, out, _ = _run(
        "Reaction ~ Days + (Days | Subject)",
        "--table",
        "sleep",
        "--database-url",
        f"sqlite:///{path}",
        "--json",
    )
    assert code == 0
    ref = MODELS["sleep_slope_reml"]
    assert json.loads(out)["reml_criterion"] == pytest.approx(ref["reml_criterion"], rel=1e-9)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--table", "sleep"], "give --database-url and no FILE"),
        ([], "Give the FILE"),
        (["--table", "t", "--database-url", "sqlite:///no/such.db"], "No SQLite database"),
        (["--table", "t", "--database-url", "not a url"], "Not a database URL"),
    ],
)
def test_database_option_errors(args: list[str], fragment: str) -> None:
    code, _, err = _run("Reaction ~ Days + (1 | Subject)", *args)
    assert code == 2
    assert fragment in err
