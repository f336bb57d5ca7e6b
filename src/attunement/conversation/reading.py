"""One entry point for every export: :func:`read_chat`, and :func:`summarize_chat`.

The format comes from the file: ``.zip`` is a WhatsApp export, ``.json`` a Telegram Desktop
export, and a ``.txt`` is a WhatsApp export when its first non-blank line starts with a WhatsApp
date and time, otherwise a plain transcript. ``chat_format`` overrides the guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from attunement.conversation.messages import Message
from attunement.conversation.telegram import read_telegram, read_telegram_bytes
from attunement.conversation.transcript import read_transcript, read_transcript_bytes
from attunement.conversation.whatsapp import (
    DateOrder,
    is_whatsapp_line,
    read_whatsapp,
    read_whatsapp_bytes,
)
from attunement.errors import InvalidInputError, Problem

__all__ = [
    "CHAT_FORMATS",
    "ChatFormat",
    "ChatSummary",
    "SummaryCounter",
    "detect_format",
    "read_chat",
    "read_chat_bytes",
    "summarize_chat",
]

ChatFormat = Literal["whatsapp", "telegram", "transcript"]
CHAT_FORMATS: Final[tuple[ChatFormat, ...]] = ("whatsapp", "telegram", "transcript")


def detect_format(path: str | Path) -> ChatFormat:
    """Guess the export format of ``path`` from its suffix and first line."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInputError(f"File not found: {file}", hint="Check the path.")
    suffix = file.suffix.lower()
    if suffix == ".zip":
        return "whatsapp"
    if suffix == ".json":
        return "telegram"
    try:
        with file.open(encoding="utf-8-sig") as handle:
            for line in handle:
                if line.strip():
                    if line.lstrip().startswith("{"):
                        return "telegram"
                    return "whatsapp" if is_whatsapp_line(line) else "transcript"
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{file.name} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            hint="Chat exports are UTF-8 text; export the chat again.",
        ) from None
    raise InvalidInputError(f"{file.name} is empty", hint="Export the chat again.")


def read_chat(
    path: str | Path,
    *,
    chat_format: ChatFormat | None = None,
    date_order: DateOrder | None = None,
) -> Iterator[Message]:
    """Stream the messages of a chat export, whatever its format (see :mod:`.messages`).

    ``date_order`` (``"dmy"`` or ``"mdy"``) settles WhatsApp dates the file cannot settle.
    """
    fmt = chat_format or detect_format(path)
    if fmt == "whatsapp":
        return read_whatsapp(path, date_order=date_order)
    if fmt == "telegram":
        return read_telegram(path)
    if fmt == "transcript":
        return read_transcript(path)
    raise InvalidInputError(
        "Unknown chat format",
        problems=[Problem("format", value=fmt, allowed=", ".join(CHAT_FORMATS))],
    )


def read_chat_bytes(
    data: bytes,
    *,
    filename: str,
    chat_format: ChatFormat | None = None,
    date_order: DateOrder | None = None,
) -> Iterator[Message]:
    """:func:`read_chat` for an export held in memory (a web upload): nothing is written to disk.

    The format is guessed as for files, from ``filename`` and the first bytes.
    """
    fmt = chat_format or _format_of_bytes(data, filename)
    if fmt == "whatsapp":
        return read_whatsapp_bytes(data, filename=filename, date_order=date_order)
    if fmt == "telegram":
        return read_telegram_bytes(data, filename=filename)
    if fmt == "transcript":
        return read_transcript_bytes(data, filename=filename)
    raise InvalidInputError(
        "Unknown chat format",
        problems=[Problem("format", value=fmt, allowed=", ".join(CHAT_FORMATS))],
    )


def _format_of_bytes(data: bytes, filename: str) -> ChatFormat:
    name = filename.lower()
    if name.endswith(".zip") or data[:4] == b"PK\x03\x04":
        return "whatsapp"
    if name.endswith(".json"):
        return "telegram"
    head = data[:4096].decode("utf-8-sig", errors="replace")
    for line in head.splitlines():
        if line.strip():
            if line.lstrip().startswith("{"):
                return "telegram"
            return "whatsapp" if is_whatsapp_line(line) else "transcript"
    raise InvalidInputError(f"{filename} is empty", hint="Export the chat again.")


@dataclass(frozen=True)
class ChatSummary:
    """Counts of a chat: messages (text and media; system lines excluded) per participant."""

    messages: int
    participants: dict[str, int]
    first: datetime | None
    last: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """``{"messages", "participants", "first", "last"}`` with ISO 8601 times (or null)."""
        return {
            "messages": self.messages,
            "participants": dict(self.participants),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


class SummaryCounter:
    """Counts a stream of messages for :class:`ChatSummary` while passing it on (:meth:`tap`)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.total = 0

    def add(self, message: Message) -> None:
        """Count one message (system lines are not messages)."""
        if message.kind == "system" or message.sender is None:
            return
        self.total += 1
        self.counts[message.sender] = self.counts.get(message.sender, 0) + 1
        stamp = message.timestamp
        if stamp is not None:
            if self.first is None or stamp < self.first:
                self.first = stamp
            if self.last is None or stamp > self.last:
                self.last = stamp

    def tap(self, messages: Iterable[Message]) -> Iterator[Message]:
        """Yield ``messages`` unchanged, counting each on the way."""
        for message in messages:
            self.add(message)
            yield message

    def summary(self) -> ChatSummary:
        """The summary so far; participants by number of messages (most first), then name."""
        ordered = dict(sorted(self.counts.items(), key=lambda item: (-item[1], item[0])))
        return ChatSummary(self.total, ordered, self.first, self.last)


def summarize_chat(messages: Iterable[Message]) -> ChatSummary:
    """Count messages per participant and find the first and last time, in one pass.

    Participants are ordered by number of messages (most first), then by name.
    """
    counter = SummaryCounter()
    for message in messages:
        counter.add(message)
    return counter.summary()
