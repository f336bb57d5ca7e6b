"""The one tidy record every chat reader yields: :class:`Message`.

A message has a ``timestamp`` (naive local time as the export shows it; ``None`` in a plain
transcript without times), a ``sender`` (``None`` for system lines such as the encryption
notice), its ``text`` (several lines joined with ``"\\n"``), a ``kind`` (``"text"``, ``"media"``
or ``"system"``) and the 1-based ``line`` of the file where it starts.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Final, Literal, NamedTuple, TextIO

from attunement.errors import InvalidInputError

__all__ = ["KINDS", "Kind", "Message", "stream_utf8_bytes", "stream_utf8_file"]

Kind = Literal["text", "media", "system"]

KINDS: Final[tuple[Kind, ...]] = ("text", "media", "system")


class Message(NamedTuple):
    """One message of a chat export (a named tuple: cheap to create, millions stream through)."""

    timestamp: datetime | None
    sender: str | None
    text: str
    kind: Kind
    line: int


Parser = Callable[[TextIO], Iterator["Message"]]


def stream_utf8_file(path: str | Path, parse: Parser, *, hint: str) -> Iterator[Message]:
    """Stream ``parse`` over a UTF-8 text file (a BOM is dropped), with clear errors for a
    missing file or bytes that are not UTF-8; ``hint`` says how to fix the latter."""
    file = Path(path)
    try:
        with file.open(encoding="utf-8-sig") as handle:
            yield from parse(handle)
    except FileNotFoundError:
        raise InvalidInputError(f"File not found: {file}", hint="Check the path.") from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(file.name, exc, hint) from None


def stream_utf8_bytes(data: bytes, parse: Parser, *, filename: str, hint: str) -> Iterator[Message]:
    """Like :func:`stream_utf8_file` for an export held in memory (e.g. an upload)."""
    try:
        yield from parse(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _not_utf8(filename, exc, hint) from None


def _not_utf8(name: str, exc: UnicodeDecodeError, hint: str) -> InvalidInputError:
    message = f"{name} is not UTF-8 text (byte {exc.start}: {exc.reason})"
    return InvalidInputError(message, hint=hint)
