"""The public API does not drift, and every instrument is documented."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import attunement.instruments as package
from attunement.instruments import instrument_ids, load_instrument

MODULES = ["loader", "schema", "scoring"]


@pytest.mark.parametrize(
    "name", ["attunement.instruments"] + [f"attunement.instruments.{m}" for m in MODULES]
)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for symbol in exported:
        assert hasattr(module, symbol), symbol


def test_package_reexports_every_module_export() -> None:
    for name in MODULES:
        module = importlib.import_module(f"attunement.instruments.{name}")
        assert set(module.__all__) <= set(package.__all__), name


def test_agreed_names_exist() -> None:
    """The names other parts of attunement rely on (CONTRACTS.md)."""
    for symbol in ("list_instruments", "load_instrument", "load_protocol", "score", "keyed_items"):
        assert symbol in package.__all__


def test_every_instrument_and_option_is_documented(repo_root: Path) -> None:
    docs = (repo_root / "docs" / "instruments.md").read_text(encoding="utf-8")
    for ident in instrument_ids():
        inst = load_instrument(ident)
        assert f"`{ident}`" in docs, ident
        assert inst.short_name.split()[0] in docs, ident
        if inst.doi:
            assert inst.doi in docs, ident
    for option in (
        "--map",
        "--invalid-as-missing",
        "--format",
        "ATTUNEMENT_INSTRUMENT_WORDING_DIR",
    ):
        assert option in docs


def test_scale_items_of_a_missing_total_is_an_error() -> None:
    with pytest.raises(KeyError):
        load_instrument("ecr_rs").scale_items("total")
    with pytest.raises(KeyError):
        load_instrument("eis").scale_items("nope")
