from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from attunement import __version__
from attunement.cli import cli


def test_version_and_help() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output
    help_text = runner.invoke(cli, ["--help"]).output
    assert "not therapy" in help_text


def test_console_script_module_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from attunement.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: ")
    assert "score" in proc.stdout
