"""The public API of attunement.psychometrics: explicit, alphabetical, and stable."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import attunement.psychometrics as psychometrics
from attunement.cli.reliability import diary_reliability_command, reliability_command

MODULES = ("alpha", "multilevel", "omega", "report")


def test_package_all_is_sorted_and_complete() -> None:
    names = psychometrics.__all__
    assert list(names) == sorted(names)
    exported = set()
    for module_name in MODULES:
        module = importlib.import_module(f"attunement.psychometrics.{module_name}")
        assert list(module.__all__) == sorted(module.__all__), module_name
        exported |= set(module.__all__)
    assert set(names) == exported
    for name in names:
        assert getattr(psychometrics, name) is not None


@pytest.mark.parametrize(
    ("constant", "columns"),
    [
        ("ALPHA_COLUMNS", ("alpha", "ci_low", "ci_high", "ase", "std_alpha", "average_r", "n")),
        ("ITEM_STATISTICS_COLUMNS", ("item", "mean", "sd", "r_total", "r_drop")),
        ("OMEGA_COLUMNS", ("omega_total", "omega_h", "omega_implied", "rmsr", "heywood")),
        ("MULTILEVEL_COLUMNS", ("r_kf", "r_1r", "r_kr", "r_c", "r_krn", "r_cn")),
    ],
)
def test_documented_column_names_stay(constant: str, columns: tuple[str, ...]) -> None:
    # renaming output columns breaks users' code; these names are documented in reliability.md
    actual = getattr(psychometrics, constant)
    assert list(actual[: len(columns)]) == list(columns)


def test_every_option_and_column_is_documented(repo_root: Path) -> None:
    docs = (repo_root / "docs" / "reliability.md").read_text(encoding="utf-8")
    for command in (reliability_command, diary_reliability_command):
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option != "--help":
                    assert option in docs, option
    for constant in (
        "ALPHA_COLUMNS",
        "ITEM_STATISTICS_COLUMNS",
        "OMEGA_COLUMNS",
        "FACTOR_LOADING_COLUMNS",
        "MULTILEVEL_COLUMNS",
    ):
        for column in getattr(psychometrics, constant):
            assert f"`{column}`" in docs, (constant, column)
