"""``attunement reliability`` and ``attunement diary-reliability`` end to end (real files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from attunement.cli import cli
from attunement.instruments import keyed_items, load_instrument
from attunement.psychometrics import cronbach_alpha, multilevel_reliability, omega_total
from tests.psychometrics.reference_data import REFERENCE


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def pss4_file(tmp_path: Path) -> Path:
    """60 PSS-4 answers (0-4) where items 2 and 3 are worded the other way."""
    rng = np.random.default_rng(12)
    stress = rng.normal(size=(60, 1))
    signs = np.array([1, -1, -1, 1])
    raw = np.clip(np.round(2 + signs * stress + rng.normal(scale=0.7, size=(60, 4))), 0, 4)
    frame = pd.DataFrame(raw.astype(int), columns=[f"q{i}" for i in range(1, 5)])
    frame.insert(0, "respondent", range(1, 61))
    frame["q2"] = frame["q2"].astype(object)
    frame.loc[5, "q2"] = ""  # one blank answer: that respondent is left out
    path = tmp_path / "pss4.csv"
    frame.to_csv(path, index=False)
    return path


MAP = ("--map", "q1=pss4_1", "--map", "q2=pss4_2", "--map", "q3=pss4_3", "--map", "q4=pss4_4")


def keyed(path: Path) -> pd.DataFrame:
    mapping = {f"q{i}": f"pss4_{i}" for i in range(1, 5)}
    return keyed_items(pd.read_csv(path), load_instrument("pss4"), mapping=mapping)


def test_table_shows_alpha_omega_and_items(pss4_file: Path) -> None:
    result = run("reliability", "pss4", str(pss4_file), *MAP)
    assert result.exit_code == 0, result.output
    alpha = float(cronbach_alpha(keyed(pss4_file))["alpha"].iloc[0])
    assert alpha > 0.6  # reverse keys applied: raw answers would give a negative alpha
    assert f"Cronbach's alpha   {alpha:.3f}" in result.output
    assert "59 respondents (1 with a missing item left out), 4 items" in result.output
    for item in ("pss4_1", "pss4_2", "pss4_3", "pss4_4"):
        assert item in result.output


def test_json_carries_the_library_numbers(pss4_file: Path) -> None:
    result = run("reliability", "pss4", str(pss4_file), *MAP, "--format", "json", "--ci", "0.9")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    items = keyed(pss4_file)
    want = cronbach_alpha(items, ci=0.9).iloc[0]
    assert data["summary"]["alpha"] == pytest.approx(want["alpha"])
    assert data["summary"]["ci_low"] == pytest.approx(want["ci_low"])
    assert data["summary"]["ci_level"] == 0.9
    assert data["summary"]["omega_total"] == pytest.approx(omega_total(items)["omega_total"][0])
    assert [row["item"] for row in data["items"]] == [f"pss4_{i}" for i in range(1, 5)]
    assert data["notes"] == []


def test_csv_is_tidy_long(pss4_file: Path) -> None:
    result = run("reliability", "pss4", str(pss4_file), *MAP, "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "item,statistic,value"
    assert any(line.startswith("pss4_3,r_drop,") for line in lines)
    assert any(line.startswith(",alpha,") for line in lines)


def test_out_of_range_answers_exit_2_with_every_cell(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("eis_1,eis_2,eis_3,eis_4,eis_5\n1,2,3,4,5\n9,2,3,4,5\n1,2,3,4,0\n")
    result = run("reliability", "eis", str(path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "line 3" in result.output
    assert "line 4" in result.output


def test_missing_file_and_unknown_instrument_exit_2(tmp_path: Path) -> None:
    missing = run("reliability", "eis", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2
    assert f"File not found: {tmp_path / 'none.csv'}" in missing.output
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    unknown = run("reliability", "no_such_scale", str(path))
    assert unknown.exit_code == 2
    assert "No instrument 'no_such_scale'" in unknown.output
    assert "Known instruments: ecr_rs, eis," in unknown.output


def test_single_item_instrument_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "pain.csv"
    path.write_text("pain_1\n3\n4\n5\n")
    result = run("reliability", "pain", str(path))
    assert result.exit_code == 2
    assert "at least 2 items" in result.output


def test_diary_mode_reverse_keys_and_matches_the_library(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    rows = []
    for person in range(10):
        level = rng.normal()
        for day in range(1, 6):
            today = level + rng.normal()
            answers = np.clip(np.round(2 + today + rng.normal(scale=0.5, size=4)), 0, 4)
            answers[1:3] = 4 - answers[1:3]  # items 2 and 3 are reverse-worded
            rows.append(
                {
                    "who": f"P{person}",
                    "day": day,
                    **{f"pss4_{i + 1}": int(a) for i, a in enumerate(answers)},
                }
            )
    frame = pd.DataFrame(rows)
    path = tmp_path / "diary.csv"
    frame.to_csv(path, index=False)
    result = run(
        "reliability", "pss4", str(path), "--person", "who", "--time", "day", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    items = keyed_items(frame, load_instrument("pss4"))
    long = pd.concat([frame[["who", "day"]], items], axis=1).melt(
        id_vars=["who", "day"], var_name="item", value_name="value"
    )
    want = multilevel_reliability(long, person="who", time="day", item="item", value="value")
    assert data["r_c"] == pytest.approx(want["r_c"][0])
    assert data["r_kf"] == pytest.approx(want["r_kf"][0])
    assert data["r_c"] > 0.5

    # a skipped answer and a missed day: ANOVA refuses, REML uses what is there
    gappy = frame.drop(index=7).astype({"pss4_2": object})
    gappy.loc[3, "pss4_2"] = ""
    gappy.to_csv(path, index=False)
    diary_options = ("--person", "who", "--time", "day", "--format", "json")
    assert run("reliability", "pss4", str(path), *diary_options).exit_code == 2
    by_reml = run("reliability", "pss4", str(path), *diary_options, "--reml")
    assert by_reml.exit_code == 0, by_reml.output
    reml = json.loads(by_reml.output)
    assert (reml["estimator"], reml["n_persons"], reml["n_times"]) == ("reml", 10, 5)
    assert reml["r_c"] == pytest.approx(data["r_c"], abs=0.1)


def test_diary_mode_needs_person_and_time(pss4_file: Path) -> None:
    result = run("reliability", "pss4", str(pss4_file), *MAP, "--person", "respondent")
    assert result.exit_code == 2
    assert "--time" in result.output


def test_diary_reliability_of_a_long_file() -> None:
    path = REFERENCE / "diary_shrout.csv"
    options = ("--person", "person", "--time", "day", "--item", "item", "--value", "value")
    result = run("diary-reliability", str(path), *options)
    assert result.exit_code == 0, result.output
    assert "R_KF   0.968" in result.output
    assert "R_C    0.742" in result.output
    as_csv = run("diary-reliability", str(path), *options, "--format", "csv")
    assert as_csv.output.splitlines()[0].startswith("r_kf,r_1r,r_kr,r_c")


def test_incomplete_long_diary_lists_the_gaps(tmp_path: Path) -> None:
    frame = pd.read_csv(REFERENCE / "diary_shrout.csv").drop(index=[0, 12])  # persons 1 and 2
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    options = ("--person", "person", "--time", "day", "--item", "item", "--value", "value")
    result = run("diary-reliability", str(path), *options)
    assert result.exit_code == 2
    assert "2 (person, time, item) answer(s) are missing" in result.output
    dropped = run("diary-reliability", str(path), *options, "--drop-incomplete")
    assert dropped.exit_code == 0, dropped.output
    assert "3 persons (2 incomplete left out)" in dropped.output
    by_reml = run("diary-reliability", str(path), *options, "--reml", "--format", "json")
    assert by_reml.exit_code == 0, by_reml.output
    data = json.loads(by_reml.output)
    assert (data["n_persons"], data["estimator"], data["converged"]) == (5, "reml", True)


def test_subscale_restricts_the_items(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    support = rng.normal(size=(80, 3))  # significant other, family, friends
    groups = {1: 0, 2: 0, 5: 0, 10: 0, 3: 1, 4: 1, 8: 1, 11: 1, 6: 2, 7: 2, 9: 2, 12: 2}
    frame = pd.DataFrame(
        {
            f"mspss_{n}": np.clip(
                np.round(4 + support[:, g] + rng.normal(scale=0.6, size=80)), 1, 7
            )
            for n, g in sorted(groups.items())
        }
    ).astype(int)
    path = tmp_path / "mspss.csv"
    frame.to_csv(path, index=False)
    result = run("reliability", "mspss", str(path), "--subscale", "family", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [row["item"] for row in data["items"]] == ["mspss_3", "mspss_4", "mspss_8", "mspss_11"]
    family = frame[["mspss_3", "mspss_4", "mspss_8", "mspss_11"]].astype(float)
    assert data["summary"]["alpha"] == pytest.approx(cronbach_alpha(family)["alpha"][0])
    assert "subscale family" in data["instrument"]
    unknown = run("reliability", "mspss", str(path), "--subscale", "work")
    assert unknown.exit_code == 2
    assert "significant_other, family, friends" in unknown.output
