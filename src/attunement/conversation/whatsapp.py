"""Reading WhatsApp chat exports (Android and iOS, ``.txt`` or ``.zip``) as a stream.

WhatsApp writes one line per message start, in the phone's locale:

* Android: ``31/12/2019, 23:59 - Alice: text`` or ``12/31/19, 11:59 PM - Alice: text``
  (dots, slashes or dashes; 2- or 4-digit years; ``AM``/``PM``, ``a.m.``/``p. m.``, often after
  a narrow no-break space U+202F); system lines have no ``Name:``.
* iOS: ``[31.12.19, 23:59:59] Alice: text``, often preceded by a left-to-right mark U+200E;
  system lines (the encryption notice, "X added Y") carry the chat's name as sender and a
  U+200E before the text.

Lines that do not start with a date and time continue the message above (multi-line messages).
Media placeholders (``<Media omitted>``, ``image omitted``, ``<attached: ...>``,
``... (file attached)``) become ``kind="media"``; system lines ``kind="system"``. Placeholders
and system texts are recognised in English exports only.

**Date order.** ``01/02/20`` is 1 February in most of the world and 2 January in the USA, and the
line itself cannot tell. :func:`detect_date_order` reads the date fields of the whole file in a
first pass (and stops at the first line that settles it): a first field above 12 means
day-first, a second field above 12 month-first; if no field is above 12, the order under which
the dates never go backwards wins (chats are written in time order). If neither settles it, the
reader raises :class:`~attunement.errors.InvalidInputError` asking for ``date_order``; it never
guesses. Year-first dates (``2019-12-31``) need no decision. The second pass parses the messages.
Both passes hold one line at a time, so memory does not grow with the length of the chat.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, TextIO

from attunement.conversation.messages import Kind, Message
from attunement.errors import InvalidInputError, Problem

__all__ = [
    "DATE_ORDERS",
    "DateOrder",
    "detect_date_order",
    "is_whatsapp_line",
    "parse_whatsapp",
    "read_whatsapp",
    "read_whatsapp_bytes",
]

DateOrder = Literal["dmy", "mdy"]
DATE_ORDERS: Final[tuple[DateOrder, ...]] = ("dmy", "mdy")

_SPACE = "[ \u00a0\u202f]"
_HEADER = re.compile(
    # iOS: "[date, time:ss] "; Android: "date, time - ". Date a.b.c with one separator.
    r"(?P<br>\[)?(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})\.?,?"
    + _SPACE
    + r"*(?P<H>\d{1,2})[:.](?P<M>\d{2})(?(br)[:.](?P<S>\d{2})|(?:[:.](?P<S2>\d{2}))?)"
    + _SPACE
    + r"*(?P<ap>[AaPp]\.?"
    + _SPACE
    + r"?[Mm]\.?)?"
    + r"(?(br)\]"
    + _SPACE
    + "|"
    + _SPACE
    + "*[-–]"
    + _SPACE
    + r")(?P<rest>.*)",
    re.DOTALL,
)
_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_STRIP_MARKS = {ord(c): None for c in _MARKS}

_SYSTEM = re.compile(
    r"(?:Messages and calls are end-to-end encrypted.*"
    r"|Messages (?:to this group|you send to this chat).*end-to-end encryption"
    r"|.* (?:created group|created this group|added|removed|left"
    r"|joined using this group's invite link"
    r"|changed the subject|changed this group's icon|changed the group description"
    r"|deleted this group's icon|changed their phone number|changed to \+?\d|"
    r"turned (?:on|off) disappearing messages)"
    r"|Your security code with .* changed|.*'s security code changed"
    r"|You're now an admin|Disappearing messages were turned"
    r"|Missed (?:voice|video|group voice|group video) call.*"
    r"|This message was deleted|You deleted this message|Waiting for this message.*"
    r"|.* is a contact|You blocked this contact.*|You unblocked this contact.*)",
    re.DOTALL,
)
_MEDIA_OMITTED = frozenset(
    f"{kind} omitted"
    for kind in ("image", "video", "audio", "sticker", "GIF", "document", "Contact card", "media")
) | {"<Media omitted>", "<media omitted>", "null"}
_EDITED = " <This message was edited>"
_SYSTEM_STARTS = ("This message was deleted", "You deleted this message", "Missed ", "Waiting for")


def is_whatsapp_line(line: str) -> bool:
    """Whether ``line`` starts like a WhatsApp message line (date, time, separator)."""
    return _HEADER.match(line.lstrip(_MARKS)) is not None


def detect_date_order(lines: Iterable[str]) -> DateOrder | None:
    """Day-first or month-first, decided from the date fields of all lines; ``None`` if unsettled.

    Raises :class:`InvalidInputError` when some lines are only valid day-first and others only
    month-first. Year-first files return ``"dmy"`` only if they also hold other dates; a file of
    year-first dates alone returns ``None`` and needs no order (the parser never asks for it).
    """
    day_first_line = month_first_line = 0
    previous: tuple[int, int, int] | None = None
    dmy_sorted = mdy_sorted = True
    for number, raw in enumerate(lines, 1):
        match = _HEADER.match(raw.lstrip(_MARKS))
        if match is None or len(match["a"]) == 4:
            continue
        a, b, c = int(match["a"]), int(match["b"]), int(match["c"])
        if a > 12 and not day_first_line:
            day_first_line = number
        if b > 12 and not month_first_line:
            month_first_line = number
        if day_first_line and month_first_line:
            raise InvalidInputError(
                "The dates mix day-first and month-first orders",
                hint="Each WhatsApp export uses one date order; check that the file is one export.",
                problems=[
                    Problem("only valid day-first", line=day_first_line),
                    Problem("only valid month-first", line=month_first_line),
                ],
            )
        if day_first_line or month_first_line:
            return "dmy" if day_first_line else "mdy"
        year = c + 2000 if c < 100 else c
        current = (year, a, b)
        if previous is not None:
            dmy_sorted = dmy_sorted and (year, b, a) >= (previous[0], previous[2], previous[1])
            mdy_sorted = mdy_sorted and current >= previous
        previous = current
    if dmy_sorted != mdy_sorted:
        return "dmy" if dmy_sorted else "mdy"
    return None


def _timestamp(match: re.Match[str], order: DateOrder | None, number: int) -> datetime:
    a, b, c = match["a"], match["b"], match["c"]
    if len(a) == 4:
        year, month, day = int(a), int(b), int(c)
    else:
        if order is None:
            raise _undecided(number)
        year = int(c)
        if year < 100:
            year += 2000
        day, month = (int(a), int(b)) if order == "dmy" else (int(b), int(a))
    hour = int(match["H"])
    ampm = match["ap"]
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise InvalidInputError(
                "Not a valid time",
                problems=[Problem(f"hour {hour} with {ampm.strip()}", line=number)],
            )
        hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
    second = match["S"] or match["S2"]
    try:
        return datetime(year, month, day, hour, int(match["M"]), int(second) if second else 0)
    except ValueError as exc:
        raise InvalidInputError(
            "Not a valid date or time",
            hint="If the dates are month-first, pass date order 'mdy' (or 'dmy' if day-first).",
            problems=[Problem(f"{exc} (reading the date as {order or 'year-first'})", line=number)],
        ) from None


def _undecided(number: int) -> InvalidInputError:
    return InvalidInputError(
        "Cannot tell whether the dates are day-first or month-first",
        hint=(
            "No date in the file has a day above 12 and the dates run forwards either way. "
            "Say which it is: --date-order dmy (31/12) or --date-order mdy (12/31)."
        ),
        problems=[Problem("first ambiguous date", line=number)],
    )


def _classify(sender: str | None, text: str, lrm: bool) -> tuple[str | None, str, Kind]:
    if "\u200e" in text or "\u200f" in text:
        text = text.translate(_STRIP_MARKS)
    if text.endswith(_EDITED):
        text = text[: -len(_EDITED)]
    if sender is None:
        return None, text, "system"
    if text in _MEDIA_OMITTED or "<attached: " in text or text.endswith(" (file attached)"):
        return sender, text, "media"
    if text.startswith("location: https://"):
        return sender, text, "media"
    if (lrm or text.startswith(_SYSTEM_STARTS)) and (_SYSTEM.fullmatch(text) is not None):
        # iOS writes group events as a message "from" the chat's name: not a participant.
        keeps_sender = text.startswith(("Missed", "This message", "You deleted", "Waiting"))
        return (sender if keeps_sender else None), text, "system"
    return sender, text, "text"


def parse_whatsapp(
    lines: Iterable[str], *, date_order: DateOrder | None, first_line: int = 1
) -> Iterator[Message]:
    """Yield the messages of the lines of a WhatsApp export, one at a time.

    ``date_order`` is needed for dates that are not year-first (see :func:`detect_date_order`).
    A first line that is not a message line raises :class:`InvalidInputError` naming it.
    """
    if date_order is not None and date_order not in DATE_ORDERS:
        raise InvalidInputError(
            "Unknown date order",
            problems=[Problem("date order", value=date_order, allowed="dmy, mdy")],
        )
    header = _HEADER.match
    pending: tuple[datetime, str | None, bool, int] | None = None
    text = ""
    for number, raw in enumerate(lines, first_line):
        line = raw.rstrip("\r\n")
        lrm = line.startswith(("\u200e", "\u200f", "\ufeff"))
        match = header(line.lstrip(_MARKS) if lrm else line)
        if match is None:
            if pending is None:
                if not line.strip():
                    continue
                raise InvalidInputError(
                    "Not a WhatsApp chat export",
                    hint="A WhatsApp export starts each message with a date and time, "
                    "e.g. '31/12/2019, 23:59 - Name: text'.",
                    problems=[
                        Problem("does not start with a date and time", line=number, value=line[:60])
                    ],
                )
            text += "\n" + line
            continue
        if pending is not None:
            yield _finish(pending, text)
        stamp = _timestamp(match, date_order, number)
        rest = match["rest"]
        colon = rest.find(": ")
        if colon > 0 and '"' not in rest[:colon]:
            sender: str | None = rest[:colon].translate(_STRIP_MARKS).strip()
            text = rest[colon + 2 :]
            body_lrm = text.startswith("\u200e")
        elif rest.endswith(":") and '"' not in rest and len(rest) > 1:
            sender, text, body_lrm = rest[:-1].strip(), "", False
        else:
            sender, text, body_lrm = None, rest, True
        pending = (stamp, sender, body_lrm, number)
    if pending is not None:
        yield _finish(pending, text)


def _finish(pending: tuple[datetime, str | None, bool, int], text: str) -> Message:
    stamp, sender, lrm, number = pending
    sender, text, kind = _classify(sender, text, lrm)
    return Message(stamp, sender, text, kind, number)


@contextmanager
def _open_text(source: Path | bytes, name: str) -> Iterator[TextIO]:
    """Open a WhatsApp export (a file, or its bytes as uploaded) as text; unpack a zip."""
    raw: Any = source if isinstance(source, Path) else io.BytesIO(source)
    is_zip = name.lower().endswith(".zip") or (
        isinstance(source, bytes) and source[:4] == b"PK\x03\x04"
    )
    if is_zip:
        try:
            archive = zipfile.ZipFile(raw)
        except zipfile.BadZipFile:
            raise InvalidInputError(
                f"{name} is not a readable zip file",
                hint="Export the chat again from WhatsApp ('Export chat').",
            ) from None
        with archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".txt")]
            chosen = (
                [n for n in names if n.rsplit("/", 1)[-1] == "_chat.txt"]
                or [n for n in names if "whatsapp" in n.lower()]
                or names
            )
            if not chosen:
                raise InvalidInputError(
                    f"{name} holds no chat text file (_chat.txt or 'WhatsApp Chat with ... .txt')",
                    hint="Export the chat again from WhatsApp ('Export chat').",
                )
            with archive.open(chosen[0]) as member:
                yield io.TextIOWrapper(member, encoding="utf-8-sig")
        return
    if isinstance(source, Path):
        with source.open(encoding="utf-8-sig") as handle:
            yield handle
        return
    yield io.TextIOWrapper(raw, encoding="utf-8-sig")


def _read(source: Path | bytes, name: str, date_order: DateOrder | None) -> Iterator[Message]:
    order = date_order
    try:
        if order is None:
            with _open_text(source, name) as first_pass:
                order = detect_date_order(first_pass)
        with _open_text(source, name) as handle:
            yield from parse_whatsapp(handle, date_order=order)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{name} is not UTF-8 text (byte {exc.start}: {exc.reason})",
            hint="WhatsApp exports are UTF-8; export the chat again rather than re-saving it.",
        ) from None
    except FileNotFoundError:
        raise InvalidInputError(f"File not found: {name}", hint="Check the path.") from None


def read_whatsapp(path: str | Path, *, date_order: DateOrder | None = None) -> Iterator[Message]:
    """Stream the messages of a WhatsApp export file (``.txt`` or ``.zip``).

    Without ``date_order`` a first pass decides it (:func:`detect_date_order`); an unsettled
    order raises :class:`InvalidInputError` when the first ambiguous date is reached.
    """
    file = Path(path)
    return _read(file, file.name, date_order)


def read_whatsapp_bytes(
    data: bytes, *, filename: str = "chat.txt", date_order: DateOrder | None = None
) -> Iterator[Message]:
    """Like :func:`read_whatsapp` for an export held in memory (e.g. an upload): ``.txt`` or
    ``.zip`` bytes (a zip is recognised by its name or its first bytes)."""
    return _read(data, filename, date_order)
