"""Reading a Telegram Desktop chat export (``result.json``) as a stream.

Telegram Desktop ("Export chat history", format JSON) writes one object with the chat's
``name``, ``type``, ``id`` and a ``messages`` array. Each message has ``type`` (``"message"`` or
``"service"``; service messages such as "X joined" are not messages and are skipped), ``date``
(local time, ISO 8601), ``from``, and ``text``: a string, or a list of strings and entity objects
(``{"type": "bold", "text": "..."}``) whose texts are joined. Photos, stickers, voice notes and
files (``photo``, ``media_type``, ``file``) make ``kind="media"``.

**Memory.** The reader does not load the file: it walks the top-level object with
:meth:`json.JSONDecoder.raw_decode` and decodes the ``messages`` array one element at a time from
a buffer refilled in 1 MiB blocks, so memory holds one block plus one message. ``line`` is the
line of the file where the message object starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TextIO

from attunement.conversation.messages import Kind, Message, stream_utf8_bytes, stream_utf8_file
from attunement.errors import InvalidInputError, Problem

__all__ = ["message_from_telegram", "read_telegram", "read_telegram_bytes"]

_BLOCK: Final = 1 << 20
_LARGEST_VALUE: Final = 64 << 20  # one message larger than this is reported as broken JSON
_WHITESPACE: Final = " \t\n\r"
_MEDIA_KEYS: Final = ("photo", "media_type", "file", "sticker_emoji", "location_information")


class _Buffer:
    """A sliding window over a text file that tracks line numbers of what it discards."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.text = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.eof = False
        self.last_start_line = 1  # line where the last decoded value started

    def more(self) -> bool:
        if self.eof:
            return False
        block = self.handle.read(_BLOCK)
        if not block:
            self.eof = True
            return False
        self.text = self.text[self.pos :] + block
        self.pos = 0
        return True

    def advance(self, end: int) -> None:
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def skip_space(self) -> str:
        """Skip whitespace; return the next character ('' at the end of the file)."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in _WHITESPACE:
                pos += 1
            self.advance(pos)
            if pos < len(text):
                return text[pos]
            if not self.more():
                return ""

    def expect(self, char: str, what: str) -> None:
        found = self.skip_space()
        if found != char:
            raise self.error(f"expected {what}", found or "end of file")
        self.advance(self.pos + 1)

    def value(self, decoder: json.JSONDecoder) -> Any:
        """Decode the JSON value at the cursor, reading more blocks while it is incomplete."""
        self.skip_space()
        while True:
            try:
                obj, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos < _LARGEST_VALUE and self.more():
                    continue  # most likely cut at the end of the block: read on and retry
                line = self.line + self.text.count("\n", self.pos, exc.pos)
                raise InvalidInputError(
                    "Not a valid Telegram JSON export",
                    hint="Export the chat again from Telegram Desktop (format: JSON).",
                    problems=[Problem(f"broken JSON: {exc.msg}", line=line)],
                ) from None
            # A number or literal cut at the block end decodes short: make sure it ended.
            if end >= len(self.text) and self.more():
                continue
            self.last_start_line = self.line
            self.advance(end)
            return obj

    def error(self, why: str, found: str) -> InvalidInputError:
        return InvalidInputError(
            "Not a valid Telegram JSON export",
            hint="Export the chat again from Telegram Desktop (format: JSON).",
            problems=[Problem(why, line=self.line, value=found[:40])],
        )


def _text_of(text: Any, line: int) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        parts = []
        for part in text:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                raise InvalidInputError(
                    "Unexpected message text in Telegram export",
                    problems=[
                        Problem(
                            "a text part is neither a string nor an entity",
                            line=line,
                            value=str(part)[:40],
                        )
                    ],
                )
        return "".join(parts)
    if text is None:
        return ""
    raise InvalidInputError(
        "Unexpected message text in Telegram export",
        problems=[
            Problem("'text' is neither a string nor a list", line=line, value=str(text)[:40])
        ],
    )


def message_from_telegram(obj: Any, line: int) -> Message | None:
    """The :class:`Message` of one element of ``messages``; ``None`` for a service message."""
    if not isinstance(obj, dict):
        raise InvalidInputError(
            "Unexpected element in Telegram 'messages'",
            problems=[Problem("a message is not an object", line=line, value=str(obj)[:40])],
        )
    if obj.get("type", "message") != "message":
        return None
    raw_date = obj.get("date")
    try:
        stamp = datetime.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        stamp = None
    if stamp is None:
        raise InvalidInputError(
            "A Telegram message has no valid date",
            problems=[Problem("'date' is missing or not ISO 8601", line=line, value=raw_date)],
        )
    sender = obj.get("from")
    if not isinstance(sender, str) or not sender:
        sender = str(obj.get("from_id") or "Deleted account")
    text = _text_of(obj.get("text"), line)
    kind: Kind = "media" if any(key in obj for key in _MEDIA_KEYS) else "text"
    return Message(stamp.replace(tzinfo=None), sender, text, kind, line)


def _stream(handle: TextIO) -> Iterator[Message]:
    buffer = _Buffer(handle)
    decoder = json.JSONDecoder()
    buffer.expect("{", "a JSON object ('{') at the start")
    seen_messages = False
    while True:
        char = buffer.skip_space()
        if char == "}":
            break
        if char == ",":
            buffer.advance(buffer.pos + 1)
            continue
        if char != '"':
            raise buffer.error("expected a key", char or "end of file")
        key = buffer.value(decoder)
        buffer.expect(":", "':' after a key")
        if key == "chats":
            raise InvalidInputError(
                "This is a Telegram export of all chats, not of one chat",
                hint="In Telegram Desktop open the chat, then ... > Export chat history (JSON).",
            )
        if key != "messages":
            buffer.value(decoder)
            continue
        seen_messages = True
        buffer.expect("[", "a list after 'messages'")
        while True:
            char = buffer.skip_space()
            if char == "]":
                buffer.advance(buffer.pos + 1)
                break
            if char == ",":
                buffer.advance(buffer.pos + 1)
                continue
            if not char:
                raise buffer.error("the 'messages' list is not closed", "end of file")
            obj = buffer.value(decoder)
            message = message_from_telegram(obj, buffer.last_start_line)
            if message is not None:
                yield message
    if not seen_messages:
        raise InvalidInputError(
            "Not a Telegram chat export: no 'messages' list",
            hint="In Telegram Desktop open the chat, then ... > Export chat history (JSON).",
        )


_NOT_UTF8_HINT: Final = "Telegram exports are UTF-8; export the chat again."


def read_telegram_bytes(data: bytes, *, filename: str = "result.json") -> Iterator[Message]:
    """Like :func:`read_telegram` for an export held in memory (e.g. an upload)."""
    return stream_utf8_bytes(data, _stream, filename=filename, hint=_NOT_UTF8_HINT)


def read_telegram(path: str | Path) -> Iterator[Message]:
    """Stream the messages of a Telegram Desktop JSON export of one chat."""
    return stream_utf8_file(path, _stream, hint=_NOT_UTF8_HINT)
