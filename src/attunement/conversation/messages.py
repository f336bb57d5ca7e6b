"""The one tidy record every chat reader yields: :class:`Message`.

A message has a ``timestamp`` (naive local time as the export shows it; ``None`` in a plain
transcript without times), a ``sender`` (``None`` for system lines such as the encryption
notice), its ``text`` (several lines joined with ``"\\n"``), a ``kind`` (``"text"``, ``"media"``
or ``"system"``) and the 1-based ``line`` of the file where it starts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal, NamedTuple

__all__ = ["KINDS", "Kind", "Message"]

Kind = Literal["text", "media", "system"]

KINDS: Final[tuple[Kind, ...]] = ("text", "media", "system")


class Message(NamedTuple):
    """One message of a chat export (a named tuple: cheap to create, millions stream through)."""

    timestamp: datetime | None
    sender: str | None
    text: str
    kind: Kind
    line: int
