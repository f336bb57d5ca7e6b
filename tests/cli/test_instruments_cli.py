"""The instruments and score commands, through click's runner and one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from attunement.cli import cli
from attunement.datafile import write_table

EIS_CSV = "person,eis_1,eis_2,eis_3,eis_4,eis_5\nana,5,4,4,5,3\nbo, strongly agree ,Agree,3,,2\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def eis_file(tmp_path: Path) -> Path:
    path = tmp_path / "eis.csv"
    path.write_text(EIS_CSV, encoding="utf-8")
    return path


def test_instruments_lists_the_bank(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["instruments"])
    assert result.exit_code == 0, result.output
    for ident in ("eis", "ios", "swls", "pss10", "pss4", "mspss", "interaction", "ecr_rs"):
        assert ident in result.output
    listed = json.loads(runner.invoke(cli, ["instruments", "--json"]).output)
    assert {row["id"] for row in listed} >= {"eis", "pain", "fatigue"}
    assert next(row for row in listed if row["id"] == "mspss")["scores"][0] == "mspss_total"


def test_show_prints_citation_licence_and_items(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["instruments", "show", "eis"])
    assert result.exit_code == 0, result.output
    assert "Sinclair, V. G., & Dowdy" in result.output
    assert "https://doi.org/10.1891/jnum.13.3.193" in result.output
    assert "copyrighted" in result.output
    assert "wording not bundled" in result.output
    pss = runner.invoke(cli, ["instruments", "show", "pss10"]).output
    assert " 4 R pss10_4" in pss
    assert "a convention" in pss


def test_show_json_is_the_definition(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(cli, ["instruments", "show", "mspss", "--json"]).output)
    assert data["id"] == "mspss"
    assert data["items"][0]["column"] == "mspss_1"
    assert len(data["scoring"]["subscales"]) == 3


def test_show_unknown_instrument_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["instruments", "show", "nope"])
    assert result.exit_code == 2
    assert "No instrument 'nope'" in result.output
    assert "swls" in result.output


def test_wording_dir_setting_fills_eis_text(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "eis.toml").write_text('[items]\n1 = "Licensed wording one"\n', encoding="utf-8")
    monkeypatch.setenv("ATTUNEMENT_INSTRUMENT_WORDING_DIR", str(tmp_path))
    result = runner.invoke(cli, ["instruments", "show", "eis"])
    assert "Licensed wording one" in result.output


def test_score_writes_csv_to_stdout(runner: CliRunner, eis_file: Path) -> None:
    result = runner.invoke(cli, ["score", "eis", str(eis_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "person,eis_1,eis_2,eis_3,eis_4,eis_5,eis_total"
    assert lines[1].endswith(",21.0")
    assert lines[2].endswith(",17.5")  # 14 / 4 * 5


def test_score_json_output(runner: CliRunner, eis_file: Path) -> None:
    result = runner.invoke(cli, ["score", "eis", str(eis_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["eis_total"] for r in rows] == [21.0, 17.5]
    assert rows[1]["eis_4"] is None


def test_score_to_files(runner: CliRunner, eis_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.parquet"
    assert runner.invoke(cli, ["score", "eis", str(eis_file), "-o", str(out)]).exit_code == 0
    assert pd.read_parquet(out)["eis_total"].tolist() == [21.0, 17.5]
    out_json = tmp_path / "scored.json"
    assert runner.invoke(cli, ["score", "eis", str(eis_file), "-o", str(out_json)]).exit_code == 0
    assert json.loads(out_json.read_text())[0]["person"] == "ana"
    bad = runner.invoke(cli, ["score", "eis", str(eis_file), "-o", str(out), "--format", "csv"])
    assert bad.exit_code == 2


def test_score_with_mapping(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "swls.tsv"
    path.write_text("id\ta\tb\tc\td\te\n1\t7\t6\t5\t6\t7\n", encoding="utf-8")
    args = ["score", "swls", str(path)]
    for old, n in zip("abcde", range(1, 6), strict=True):
        args += ["--map", f"{old}=swls_{n}"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[1].endswith(",31.0,extremely satisfied")
    bad = runner.invoke(cli, ["score", "swls", str(path), "--map", "nonsense"])
    assert bad.exit_code == 2
    assert "OLD=NEW" in bad.output


def test_bad_answers_exit_2_with_every_problem(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(EIS_CSV + "cy,6,1,1,x,1\ndi,1,1,1,1,0\n", encoding="utf-8")
    result = runner.invoke(cli, ["score", "eis", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "line 4, column 'eis_1'" in result.output
    assert "line 4, column 'eis_4'" in result.output
    assert "line 5, column 'eis_5'" in result.output
    assert "3 answers cannot be scored" in result.output


def test_invalid_as_missing_reports_count(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(EIS_CSV + "cy,6,1,1,x,1\n", encoding="utf-8")
    result = runner.invoke(cli, ["score", "eis", str(path), "--invalid-as-missing"])
    assert result.exit_code == 0
    assert "2 invalid answers treated as missing" in result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(",")  # cy: 3 of 5 left, no score


def test_missing_column_and_missing_file_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    path.write_text("eis_1,eis_2\n1,2\n", encoding="utf-8")
    result = runner.invoke(cli, ["score", "eis", str(path)])
    assert result.exit_code == 2
    assert "missing item column" in result.output
    assert "eis_5" in result.output
    missing = runner.invoke(cli, ["score", "eis", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "File not found" in missing.output


def test_real_subprocess_scores_and_fails_cleanly(eis_file: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from attunement.cli import main; main()"]
    ok = subprocess.run(
        [*command, "score", "pss4", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 2
    assert "File not found" in ok.stderr
    assert "Traceback" not in ok.stderr
    good = subprocess.run(
        [*command, "score", "eis", str(eis_file), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert [row["eis_total"] for row in json.loads(good.stdout)] == [21.0, 17.5]


def test_score_reads_excel_and_spss(runner: CliRunner, tmp_path: Path) -> None:
    table = pd.DataFrame({"who": ["a", "b"], "pss4_1": [3, 1], "pss4_2": [1, 4]})
    table["pss4_3"] = [0.0, 4.0]
    table["pss4_4"] = [2, 0]
    for suffix in (".xlsx", ".sav"):
        path = tmp_path / f"pss4{suffix}"
        write_table(table, path)
        result = runner.invoke(cli, ["score", "pss4", str(path), "--format", "json"])
        assert result.exit_code == 0, result.output
        assert [row["pss4_total"] for row in json.loads(result.output)] == [12.0, 1.0]


def test_score_to_a_missing_folder_or_a_txt_file_exits_2(
    runner: CliRunner, eis_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "scores.csv"
    result = runner.invoke(cli, ["score", "eis", str(eis_file), "-o", str(target)])
    assert result.exit_code == 2
    assert f"Cannot write {target}: the folder {target.parent} does not exist." in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["score", "eis", str(eis_file), "-o", str(tmp_path / "s.txt")])
    assert result.exit_code == 2
    assert "Cannot write s.txt: unknown file type." in result.stderr
    assert "Files that can be written: .csv, .tsv, .xlsx" in result.stderr
