"""Reading a plain transcript: one ``Name: text`` per line, timestamps optional.

Accepted line starts: ``Alice: text``, ``[2024-03-01 21:15] Alice: text``,
``2024-03-01 21:15:07 Alice: text``, ``2024-03-01T21:15 - Alice: text``. Times are year-first
(ISO 8601 order), so there is no day/month ambiguity. A name is 1 to 40 characters without a
colon and does not start with a space. A line that does not start a message continues the one
above it; blank lines are kept inside a message but dropped at its end. Every message is
``kind="text"``. Caveat: a continuation line that itself looks like ``Word: text`` starts a new
message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Final

from attunement.conversation.messages import Message, stream_utf8_bytes, stream_utf8_file
from attunement.errors import InvalidInputError, Problem

__all__ = ["parse_transcript", "read_transcript", "read_transcript_bytes"]

_LINE = re.compile(
    r"(?:\[?(?P<stamp>\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(?::\d{2})?)\]?\s*(?:[-–]\s*)?)?"
    r"(?P<sender>[^\s:][^:]{0,39}?):(?:\s(?P<text>.*)|$)",
    re.DOTALL,
)


def parse_transcript(lines: Iterable[str], *, first_line: int = 1) -> Iterator[Message]:
    """Yield the messages of transcript lines, one at a time."""
    pending: tuple[datetime | None, str, int] | None = None
    text = ""
    for number, raw in enumerate(lines, first_line):
        line = raw.rstrip("\r\n")
        match = _LINE.match(line)
        if match is None:
            if pending is None:
                if not line.strip():
                    continue
                raise InvalidInputError(
                    "Not a transcript: a message must start with 'Name: text'",
                    hint="Write one message per line as 'Name: text', optionally after a "
                    "timestamp like '[2024-03-01 21:15]'.",
                    problems=[Problem("no 'Name:' at the start", line=number, value=line[:60])],
                )
            text += "\n" + line
            continue
        if pending is not None:
            yield Message(pending[0], pending[1], text.rstrip("\n "), "text", pending[2])
        stamp_text = match["stamp"]
        stamp = None
        if stamp_text is not None:
            try:
                stamp = datetime.fromisoformat(stamp_text.replace(" ", "T"))
            except ValueError as exc:
                raise InvalidInputError(
                    "Not a valid timestamp",
                    problems=[Problem(str(exc), line=number, value=stamp_text)],
                ) from None
        pending = (stamp, match["sender"].strip(), number)
        text = match["text"] or ""
    if pending is not None:
        yield Message(pending[0], pending[1], text.rstrip("\n "), "text", pending[2])


_NOT_UTF8_HINT: Final = "Save the transcript as UTF-8 text."


def read_transcript_bytes(data: bytes, *, filename: str = "transcript.txt") -> Iterator[Message]:
    """Like :func:`read_transcript` for a transcript held in memory (e.g. an upload)."""
    return stream_utf8_bytes(data, parse_transcript, filename=filename, hint=_NOT_UTF8_HINT)


def read_transcript(path: str | Path) -> Iterator[Message]:
    """Stream the messages of a plain transcript file (UTF-8)."""
    return stream_utf8_file(path, parse_transcript, hint=_NOT_UTF8_HINT)
