"""The data commands, end to end through the command line on one SQLite file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from attunement.cli import cli
from attunement.store.demo import DEMO_DOMAIN


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.slow
def test_data_commands_end_to_end(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'attunement.sqlite3'}"
    db = ["--database-url", url]
    code, out = _run("db", "upgrade", *db)
    assert code == 0, out
    assert "Database at revision" in out
    code, out = _run("db", "current", *db)
    assert "up to date" in out
    code, out = _run("demo", *db, "--start", "2026-03-02", "--days", "7")
    assert code == 0, out
    assert f"maya@{DEMO_DOMAIN}" in out
    code, out = _run("demo", *db, "--start", "2026-03-02", "--days", "7")
    assert code == 2
    assert "already holds the demo data" in out

    out_dir = tmp_path / "export"
    code, out = _run(
        "export",
        *db,
        "--study",
        "1",
        "--as",
        f"rosa@{DEMO_DOMAIN}",
        "--out",
        str(out_dir),
        "--format",
        "csv",
    )
    assert code == 0, out
    long = pd.read_csv(out_dir / "study_1_long.csv")
    assert long["participant_id"].nunique() == 6
    code, out = _run("export", *db, "--study", "1", "--as", f"maya@{DEMO_DOMAIN}", "--out", "x")
    assert code == 2
    assert "Only the researcher" in out
    code, out = _run("export", *db, "--as", f"maya@{DEMO_DOMAIN}", "--out", "x")
    assert "exactly one of --study and --relationship" in out

    table = tmp_path / "eis.csv"
    table.write_text(
        f"email,taken_at,eis_1,eis_2,eis_3,eis_4,eis_5\nmaya@{DEMO_DOMAIN},2026-04-01,4,4,4,4,4\n"
    )
    code, out = _run("import", "measurements", str(table), "--instrument", "eis", "--dry-run", *db)
    assert code == 0, out
    assert out.startswith("Would store 1 measurements from 1 rows")

    code, out = _run("backup", *db, str(tmp_path / "copy.sqlite3"))
    assert code == 0, out
    assert "7 people" in out
    code, out = _run("erase-person", f"maya@{DEMO_DOMAIN}", "--yes", *db)
    assert code == 0, out
    assert out.startswith("Erased the person:")
    code, out = _run("erase-person", f"maya@{DEMO_DOMAIN}", "--yes", *db)
    assert code == 2
    assert "No account" in out
    assert "the email address the person signs in with" in out
    assert "--as" not in out  # the export's hint does not belong here
    code, out = _run("restore", str(tmp_path / "copy.sqlite3"), "--yes", *db)
    assert code == 0, out
    code, out = _run(
        "export",
        *db,
        "--relationship",
        "1",
        "--as",
        f"maya@{DEMO_DOMAIN}",
        "--out",
        str(tmp_path / "mine"),
        "--format",
        "parquet",
    )
    assert code == 0, out
    assert (tmp_path / "mine" / "relationship_1_long.parquet").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--study", "1", "--as", "rita@uni.example", "--out", "x"],
        ["erase-person", "ana@example.org", "--yes"],
        ["researcher", "grant", "rita@uni.example"],
        ["reminders", "send"],
    ],
)
def test_a_mistyped_database_path_is_refused_and_not_created(
    tmp_path: Path, command: list[str]
) -> None:
    """Commands on stored data name the missing file instead of making a new, empty one."""
    missing = tmp_path / "atunement.sqlite3"  # a typo of the real file's name
    code, out = _run(*command, "--database-url", f"sqlite:///{missing}")
    assert code == 2, out
    assert f"No database at {missing}" in out
    assert "attunement db upgrade" in out
    assert "Traceback" not in out
    assert not missing.exists()
