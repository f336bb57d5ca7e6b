"""Property tests: render generated messages in each export format, parse back the same."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attunement.conversation import Message, parse_transcript, parse_whatsapp, read_chat
from attunement.conversation.whatsapp import is_whatsapp_line

NNBSP = "\u202f"
names = (
    st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéøß "),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
words = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,!?'()-😀❤️äöüñ"),
    min_size=1,
    max_size=40,
)
lines_of_text = st.lists(words, min_size=1, max_size=3).map("\n".join)
times = st.datetimes(min_value=datetime(2009, 1, 1), max_value=datetime(2099, 12, 31))


def plain(text: str) -> bool:
    """Texts the readers pass through unchanged (not media placeholders or system texts)."""
    _first, *rest = text.split("\n")
    return (
        text.strip() == text
        and "omitted" not in text
        and not text.startswith(("This message", "Missed", "null", "location"))
        and not any(is_whatsapp_line(line) or not line.strip() for line in rest)
    )


chats = st.lists(st.tuples(times, names, lines_of_text.filter(plain)), min_size=1, max_size=12).map(
    lambda rows: sorted(rows, key=lambda row: row[0])
)


def android(stamp: datetime, order: str, clock: int) -> str:
    date = f"{stamp:%d/%m/%Y}" if order == "dmy" else f"{stamp.month}/{stamp.day}/{stamp:%y}"
    if clock == 24:
        return f"{date}, {stamp:%H:%M} - "
    return (
        f"{date}, {stamp.hour % 12 or 12}:{stamp:%M}{NNBSP}{'AM' if stamp.hour < 12 else 'PM'} - "
    )


def ios(stamp: datetime) -> str:
    return f"\u200e[{stamp:%d.%m.%y}, {stamp:%H:%M:%S}] "


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(chats, st.sampled_from(["dmy", "mdy"]), st.sampled_from([12, 24]))
def test_android_roundtrip(rows: list[tuple[datetime, str, str]], order: str, clock: int) -> None:
    rendered, expected, number = [], [], 1
    for stamp, sender, text in rows:
        stamp = stamp.replace(second=0, microsecond=0)
        rendered.append(f"{android(stamp, order, clock)}{sender}: {text}\n")
        expected.append(Message(stamp, sender, text, "text", number))
        number += text.count("\n") + 1
    parsed = list(parse_whatsapp(io.StringIO("".join(rendered)), date_order=order))  # type: ignore[arg-type]
    assert parsed == expected


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(chats)
def test_ios_roundtrip_through_a_file(
    tmp_path_factory: object, rows: list[tuple[datetime, str, str]]
) -> None:
    rows = [
        (stamp.replace(microsecond=0, year=2000 + stamp.year % 100), s, t) for stamp, s, t in rows
    ]
    rows.append((datetime(2024, 1, 13, 9, 0), "Zed", "settles day-first"))
    rows.sort(key=lambda row: row[0])
    text = "".join(f"{ios(stamp)}{sender}: {body}\n" for stamp, sender, body in rows)
    path = Path(tmp_path_factory.mktemp("ios")) / "_chat.txt"  # type: ignore[attr-defined]
    path.write_text(text, encoding="utf-8")
    parsed = list(read_chat(path))
    assert [(m.timestamp, m.sender, m.text, m.kind) for m in parsed] == [
        (stamp, sender, body, "text") for stamp, sender, body in rows
    ]


@settings(max_examples=60)
@given(chats)
def test_telegram_roundtrip(
    tmp_path_factory: object, rows: list[tuple[datetime, str, str]]
) -> None:
    rows = [(stamp.replace(microsecond=0), s, t) for stamp, s, t in rows]
    export = {
        "name": "chat",
        "type": "personal_chat",
        "messages": [
            {"id": 0, "type": "service", "date": "2009-01-01T00:00:00", "actor": "x", "text": ""},
            *(
                {
                    "id": i + 1,
                    "type": "message",
                    "date": stamp.isoformat(),
                    "from": sender,
                    # Alternate plain strings and entity lists.
                    "text": body if i % 2 else [body[:1], {"type": "bold", "text": body[1:]}],
                }
                for i, (stamp, sender, body) in enumerate(rows)
            ),
        ],
    }
    path = Path(tmp_path_factory.mktemp("tg")) / "result.json"  # type: ignore[attr-defined]
    path.write_text(json.dumps(export, indent=1, ensure_ascii=False), encoding="utf-8")
    parsed = list(read_chat(path))
    assert [(m.timestamp, m.sender, m.text, m.kind) for m in parsed] == [
        (stamp, sender, body, "text") for stamp, sender, body in rows
    ]


@settings(max_examples=60)
@given(chats, st.booleans())
def test_transcript_roundtrip(rows: list[tuple[datetime, str, str]], stamped: bool) -> None:
    rows = [(s.replace(microsecond=0), n, t.replace(":", "")) for s, n, t in rows]
    lines = []
    for stamp, sender, body in rows:
        head = f"[{stamp:%Y-%m-%d %H:%M:%S}] " if stamped else ""
        lines.append(f"{head}{sender}: {body}\n")
    parsed = list(parse_transcript(io.StringIO("".join(lines))))
    assert [(m.timestamp, m.sender, m.text) for m in parsed] == [
        (stamp if stamped else None, sender, body) for stamp, sender, body in rows
    ]
