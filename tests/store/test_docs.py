"""The store's page documents every command it adds and every fixed export column."""

from __future__ import annotations

from pathlib import Path

import pytest

from attunement.cli import cli
from attunement.store.export import LONG_ID_COLUMNS

COMMANDS = [
    "db upgrade",
    "db current",
    "demo",
    "export",
    "import",
    "backup",
    "restore",
    "erase-person",
]


@pytest.fixture
def store_page(repo_root: Path) -> str:
    return (repo_root / "docs" / "store.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_and_exists(store_page: str, command: str) -> None:
    assert f"attunement {command}" in store_page
    group = cli
    for word in command.split():
        assert word in group.commands, f"no command {command!r}"  # type: ignore[attr-defined]
        group = group.commands[word]  # type: ignore[attr-defined]


def test_every_long_column_is_documented(store_page: str) -> None:
    missing = [column for column in LONG_ID_COLUMNS if f"`{column}`" not in store_page]
    assert missing == []
