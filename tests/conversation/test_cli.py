"""The ``attunement chat`` commands, through click's runner and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from attunement.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"


def test_summary_json_shape() -> None:
    result = CliRunner().invoke(
        cli, ["chat", "summary", str(FIXTURES / "ios_dots_dmy.txt"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "messages": 6,  # the missed call is a system line
        "participants": {"Lena": 4, "Tom": 2},
        "first": "2021-02-03T18:44:10",
        "last": "2021-02-15T21:17:55",
    }


def test_summary_text_and_date_order_option() -> None:
    path = str(FIXTURES / "android_ambiguous.txt")
    result = CliRunner().invoke(cli, ["chat", "summary", path, "--date-order", "mdy"])
    assert result.exit_code == 0, result.output
    assert "first:    2020-01-02T10:00:00" in result.output
    assert "Kim: 1" in result.output


def test_unreadable_file_exits_2_with_line_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "chat.txt"
    bad.write_text("31/12/2020, 10:00 - A: ok\n32/12/2020, 10:00 - A: no such day\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from attunement.cli import main; main()",
            "chat",
            "summary",
            str(bad),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "line 2" in proc.stderr
    assert "day is out of range" in proc.stderr
    assert "Traceback" not in proc.stderr
    ambiguous = CliRunner().invoke(
        cli, ["chat", "summary", str(FIXTURES / "android_ambiguous.txt")]
    )
    assert ambiguous.exit_code == 2
    assert "--date-order" in ambiguous.output


def test_outputs_into_a_missing_folder_exit_2(tmp_path: Path) -> None:
    chat = str(FIXTURES / "ios_dots_dmy.txt")
    for command, name in (("report", "r.html"), ("signals", "s.csv")):
        target = tmp_path / "no-such-folder" / name
        result = CliRunner().invoke(cli, ["chat", command, chat, "-o", str(target)])
        assert result.exit_code == 2, result.output
        assert f"Cannot write {target}: the folder {target.parent} does not exist." in (
            result.output
        )
        assert result.exception is None or isinstance(result.exception, SystemExit)
