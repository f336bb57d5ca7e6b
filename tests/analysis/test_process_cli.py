"""The analysis commands: attunement analyze process|apim|outcomes and attunement report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from attunement.cli import cli

REF = Path(__file__).parent / "reference_process"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_process_json_has_mediation_paths_and_the_intimacy_model() -> None:
    code, out, err = run(
        "analyze",
        "process",
        str(REF / "process_data.csv"),
        "--json",
        "--draws",
        "2000",
        "--seed",
        "5",
    )
    assert code == 0, err
    payload = json.loads(out)
    for key in ("a", "b", "c_prime", "indirect"):
        assert {"estimate", "se", "ci_low", "ci_high"} <= set(payload[key])
    assert payload["a"]["estimate"] == pytest.approx(0.371930280180296, rel=1e-5)
    assert payload["seed"] == 5
    assert payload["between"]["b_between"]["estimate"] == pytest.approx(0.5809782, rel=1e-4)
    model = payload["intimacy_model"]
    assert model["effects"]["emotional_within"]["estimate"] == pytest.approx(0.4006588, rel=1e-5)
    assert "2 of 1872 rows" in err
    again = json.loads(
        run(
            "analyze",
            "process",
            str(REF / "process_data.csv"),
            "--json",
            "--draws",
            "2000",
            "--seed",
            "5",
        )[1]
    )
    assert again["indirect"] == payload["indirect"]


def test_process_text_without_mediation_and_renamed_columns(tmp_path: Path) -> None:
    diary = pd.read_csv(REF / "process_data.csv").rename(columns={"intimacy": "closeness"})
    path = tmp_path / "diary.csv"
    diary.to_csv(path, index=False)
    code, out, _ = run(
        "analyze",
        "process",
        str(path),
        "--intimacy",
        "closeness",
        "--no-mediation",
        "--random",
        "intercept",
        "--factual",
        "",
    )
    assert code == 0
    assert "closeness ~" not in out  # internal names in the formula, user's columns elsewhere
    assert "emotional_within" in out
    assert "factual_within" not in out
    assert "mediation" not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("person,intimacy,emotional_disclosure\n1,3,x\n1,4,2\n", "not numbers"),
        ("person,intimacy\n1,3\n", "do not have"),
        ("person,intimacy,emotional_disclosure\n1,3,2\n2,4,3\n", "single complete observation"),
    ],
)
def test_process_bad_input_exits_2_without_traceback(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run("analyze", "process", str(path), "--factual", "", "--partner", "")
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_apim_cli_json_and_text() -> None:
    code, out, err = run(
        "analyze",
        "apim",
        str(REF / "apim_data.csv"),
        "--x",
        "x",
        "--y",
        "y",
        "--role",
        "role",
        "--json",
        "--asymmetry",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["effects"]["carer"]["actor"]["estimate"] == pytest.approx(
        0.526591882801249, rel=1e-6
    )
    assert len(payload["asymmetry"]) == 120
    code, out, _ = run(
        "analyze",
        "apim",
        str(REF / "apim_diary_data.csv"),
        "--x",
        "x",
        "--y",
        "y",
        "--occasion",
        "day",
    )
    assert code == 0
    assert "diary, indistinguishable" in out
    assert "partner_within" in out
    code, _, err = run("analyze", "apim", str(REF / "apim_data.csv"), "--x", "x", "--y", "nope")
    assert code == 2
    assert "nope" in err


def test_outcomes_cli(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    code, out, _ = run(
        "analyze", "outcomes", str(REF / "outcomes.csv"), "--json", "-o", str(target)
    )
    assert code == 0
    rows = json.loads(out)
    assert rows[0]["y"] == "swls_total"
    assert rows[0]["r"] == pytest.approx(0.636682931714714, rel=1e-10)
    assert pd.read_csv(target)["p_fdr"].notna().all()
    code, out, _ = run("analyze", "outcomes", str(REF / "outcomes.csv"), "--spearman")
    assert "spearman" in out


def test_report_command_writes_one_html_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, _, err = run(
        "report",
        str(REF / "process_data.csv"),
        "-o",
        str(target),
        "--draws",
        "2000",
        "--title",
        "Our diary",
    )
    assert code == 0, err
    document = target.read_text(encoding="utf-8")
    assert document.startswith("<!DOCTYPE html>")
    assert "<title>Our diary</title>" in document
    assert "Fitting the 1-1-1 mediation model" in err  # the progress bar names each step
    code, _, err = run("report", str(REF / "outcomes.csv"), "-o", str(tmp_path / "no" / "x.html"))
    assert code == 2
    assert "Cannot write the report" in err


def test_process_text_shows_between_person_paths_unless_asked_not_to(tmp_path: Path) -> None:
    diary = pd.read_csv(REF / "process_data.csv")
    diary = diary[diary["person"].isin(sorted(set(diary["person"]))[:50])]
    path = tmp_path / "diary.csv"
    diary.to_csv(path, index=False)
    common = ["analyze", "process", str(path), "--random", "intercept", "--draws", "1000"]
    code, out, err = run(*common, "--fixed-c-prime")
    assert code == 0, err
    assert "1-1-1 mediation" in out
    assert "Between persons" in out
    assert "b_between" in out
    code, out, err = run(*common, "--fixed-c-prime", "--no-between")
    assert code == 0, err
    assert "1-1-1 mediation" in out
    assert "Between persons" not in out
    assert "_between" not in out.split("1-1-1 mediation")[1]
