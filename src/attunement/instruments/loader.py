"""Loading instrument and protocol definitions from their TOML data files.

Every definition is validated against :mod:`attunement.instruments.schema` when it is read; a
broken file raises :class:`~attunement.errors.InvalidInputError` naming the file and the field.

Item wording that may not be redistributed (the EIS) ships as ``text = null``. A user who holds
the wording (for example with the authors' permission) puts it in a folder, one TOML file per
instrument, ``<wording_dir>/<id>.toml``::

    [items]
    1 = "First item, worded as in your licensed copy."
    2 = "..."

and passes the folder as ``wording_dir`` (the CLI and web app use the setting
``ATTUNEMENT_INSTRUMENT_WORDING_DIR``). The same file can replace bundled wording, e.g. with a
validated translation. Numbers must be items of the instrument; items not named keep theirs.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from attunement.errors import InvalidInputError, NotFoundError, Problem
from attunement.instruments.schema import Instrument, Protocol

__all__ = [
    "definition_files",
    "instrument_ids",
    "list_instruments",
    "load_instrument",
    "load_protocol",
    "parse_instrument",
    "protocol_ids",
]

_PACKAGE = "attunement.instruments"


def _folder(name: str) -> Path:
    return Path(str(resources.files(_PACKAGE).joinpath(name)))


@lru_cache(maxsize=1)
def definition_files() -> tuple[Path, ...]:
    """The bundled instrument definition files, sorted by name (package data: listed once per
    process, as every :func:`load_instrument` call checks the id against them)."""
    return tuple(sorted(_folder("definitions").glob("*.toml")))


@lru_cache(maxsize=1)
def instrument_ids() -> tuple[str, ...]:
    """Ids of the bundled instruments, sorted."""
    return tuple(path.stem for path in definition_files())


def protocol_ids() -> tuple[str, ...]:
    """Ids of the bundled protocols (the 36 Questions), sorted."""
    return tuple(sorted(path.stem for path in _folder("protocols").glob("*.toml")))


def list_instruments(*, wording_dir: str | Path | None = None) -> list[Instrument]:
    """Every bundled instrument, sorted by id, with user wording from ``wording_dir`` if given."""
    return [load_instrument(ident, wording_dir=wording_dir) for ident in instrument_ids()]


def load_instrument(instrument_id: str, *, wording_dir: str | Path | None = None) -> Instrument:
    """Load and validate one instrument by id (``"eis"``, ``"swls"``, ...).

    Raises :class:`NotFoundError` listing the known ids when there is no such instrument, and
    :class:`InvalidInputError` naming the file and field when a definition or wording file is
    malformed.
    """
    ident = instrument_id.strip().lower()
    if ident not in instrument_ids():
        raise NotFoundError(
            f"No instrument {instrument_id!r}.",
            hint="Known instruments: " + ", ".join(instrument_ids()) + ".",
        )
    folder = str(Path(wording_dir).resolve()) if wording_dir is not None else None
    return _load_cached(ident, folder)


@lru_cache(maxsize=128)
def _load_cached(ident: str, wording_dir: str | None) -> Instrument:
    path = _folder("definitions") / f"{ident}.toml"
    instrument = parse_instrument(_read_toml(path), source=path)
    if instrument.id != ident:
        raise InvalidInputError(
            f"{path.name}: field 'id' is {instrument.id!r}; it must match the file name.",
            hint=f"Set id = {ident!r} or rename the file.",
        )
    if wording_dir is not None:
        instrument = _apply_wording(instrument, Path(wording_dir))
    return instrument


def parse_instrument(data: dict[str, Any], *, source: str | Path = "<definition>") -> Instrument:
    """Validate a definition given as a mapping (as read from TOML)."""
    try:
        return Instrument.model_validate(data)
    except ValidationError as exc:
        raise _definition_error(exc, source) from exc


def load_protocol(protocol_id: str) -> Protocol:
    """Load a protocol such as ``"36_questions"`` (Aron et al., 1997)."""
    ident = protocol_id.strip().lower()
    if ident not in protocol_ids():
        raise NotFoundError(
            f"No protocol {protocol_id!r}.",
            hint="Known protocols: " + ", ".join(protocol_ids()) + ".",
        )
    return _load_protocol_cached(ident)


@lru_cache(maxsize=8)
def _load_protocol_cached(ident: str) -> Protocol:
    path = _folder("protocols") / f"{ident}.toml"
    try:
        return Protocol.model_validate(_read_toml(path))
    except ValidationError as exc:
        raise _definition_error(exc, path) from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise InvalidInputError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(
            f"{path.name} is not valid TOML: {exc}", hint="Fix the TOML syntax at that line."
        ) from exc


def _definition_error(exc: ValidationError, source: str | Path) -> InvalidInputError:
    name = Path(str(source)).name
    problems = [
        Problem(
            error["msg"],
            column=".".join(str(part) for part in error["loc"]) or "(top level)",
            value=error.get("input") if not isinstance(error.get("input"), dict) else None,
        )
        for error in exc.errors()
    ]
    fields = ", ".join(p.column or "" for p in problems)
    return InvalidInputError(
        f"Instrument definition {name} is invalid (field: {fields}).",
        hint="See docs/instruments.md for the definition format.",
        problems=problems,
    )


def _apply_wording(instrument: Instrument, folder: Path) -> Instrument:
    if not folder.is_dir():
        raise InvalidInputError(
            f"Wording folder {folder} does not exist.",
            hint="Set ATTUNEMENT_INSTRUMENT_WORDING_DIR to an existing folder, or unset it.",
        )
    path = folder / f"{instrument.id}.toml"
    if not path.exists():
        return instrument
    data = _read_toml(path)
    table = data.get("items")
    if not isinstance(table, dict) or set(data) - {"items"}:
        raise InvalidInputError(
            f"{path.name}: expected one table [items] mapping item numbers to wording.",
            hint='Example:\n[items]\n1 = "First item ..."',
        )
    numbers = {item.number for item in instrument.items}
    texts: dict[int, str] = {}
    problems: list[Problem] = []
    for key, text in table.items():
        number = int(key) if str(key).isdigit() else None
        if number not in numbers:
            problems.append(
                Problem(
                    "not an item of this instrument",
                    column=f"items.{key}",
                    value=key,
                    allowed=f"1 to {len(numbers)}",
                )
            )
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem("wording must be non-empty text", column=f"items.{key}"))
        else:
            texts[number] = text.strip()
    if problems:
        raise InvalidInputError(
            f"Wording file {path} is invalid.",
            problems=problems,
            hint="Use the item numbers of the instrument as keys and text as values.",
        )
    items = tuple(
        item.model_copy(update={"text": texts.get(item.number, item.text)})
        for item in instrument.items
    )
    return instrument.model_copy(update={"items": items, "wording_source": "user"})
