"""Readers of WhatsApp, Telegram and transcript exports, on hand-written fixture files."""

from __future__ import annotations

import tracemalloc
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from attunement.conversation import (
    Message,
    detect_date_order,
    detect_format,
    parse_transcript,
    parse_whatsapp,
    read_chat,
    summarize_chat,
)
from attunement.errors import InvalidInputError

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str, **kwargs: object) -> list[Message]:
    return list(read_chat(FIXTURES / name, **kwargs))  # type: ignore[arg-type]


def test_android_24h_day_first() -> None:
    messages = read("android_24h_dmy.txt")
    assert messages[0] == Message(
        datetime(2023, 3, 12, 21, 4),
        None,
        "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
        "WhatsApp, can read or listen to them. Tap to learn more.",
        "system",
        1,
    )
    assert messages[1] == Message(
        datetime(2023, 3, 12, 21, 4), "Maya", "hey, are you still up?", "text", 2
    )
    multi = messages[6]
    assert multi.text == "that the numbers were wrong.\nWhich they weren't.\n\nI checked them twice"
    assert multi.line == 7
    assert [m.kind for m in messages[7:]] == [
        "media", "text", "media", "system", "system", "text",
    ]  # fmt: skip
    assert messages[10].sender == "Maya"  # a deleted message keeps who deleted it
    assert messages[11].sender is None  # "Jonas changed their phone number" is no message
    assert messages[12].text == "we should plan our trip to Lisbon"
    assert messages[12].line == 16


def test_android_12h_month_first_with_narrow_spaces() -> None:
    messages = read("android_12h_mdy.txt")
    assert messages[1].timestamp == datetime(2024, 1, 14, 21, 58)
    assert messages[6] == Message(
        datetime(2024, 1, 15, 0, 5), "Alex", "<Media omitted>", "media", 7
    )
    assert messages[9].timestamp == datetime(2024, 1, 15, 12, 0)  # 12 PM is noon
    assert (messages[9].sender, messages[9].kind) == ("Sam", "system")  # missed call
    assert messages[10].kind == "media"  # shared location
    with (FIXTURES / "android_12h_mdy.txt").open(encoding="utf-8") as handle:
        assert detect_date_order(handle) == "mdy"


def test_ios_brackets_dots_and_direction_marks() -> None:
    messages = read("ios_dots_dmy.txt")
    first = messages[0]
    assert (first.sender, first.kind) == (None, "system")  # the chat's name is no participant
    assert first.text.startswith("Messages and calls are end-to-end encrypted")
    assert messages[1] == Message(
        datetime(2021, 2, 3, 18, 44, 10), "Lena", "Hi! Wie war dein Tag?", "text", 2
    )
    assert messages[3] == Message(
        datetime(2021, 2, 3, 18, 51, 2), "Lena", "image omitted", "media", 4
    )
    assert messages[4].text.endswith("\nIt was the best weekend I've had in a long time")
    assert messages[5].kind == "media"  # <attached: ...>
    assert (messages[6].sender, messages[6].kind) == ("Tom", "system")
    assert messages[7] == Message(
        datetime(2021, 2, 15, 21, 17, 55), "Lena", "We should call my parents on Sunday", "text", 9
    )


def test_ios_12h_month_first() -> None:
    messages = read("ios_12h_mdy.txt")
    assert [m.timestamp for m in messages] == [
        datetime(2021, 2, 3, 18, 44, 10),
        datetime(2021, 2, 3, 18, 50, 31),
        datetime(2021, 2, 13, 11, 2),
    ]


def test_year_first_and_quoted_colon_in_system_line() -> None:
    messages = read("android_year_first.txt")
    assert messages[1].timestamp == datetime(2022, 7, 1, 9, 16)
    assert [(m.sender, m.kind) for m in messages[2:]] == [(None, "system"), (None, "system")]
    assert messages[2].text == 'Priya created group "Weekend: plans"'


def test_ambiguous_order_is_reported_not_guessed() -> None:
    with pytest.raises(InvalidInputError) as caught:
        read("android_ambiguous.txt")
    assert "--date-order" in str(caught.value)
    assert caught.value.problems[0].line == 1
    day_first = read("android_ambiguous.txt", date_order="dmy")
    month_first = read("android_ambiguous.txt", date_order="mdy")
    assert day_first[0].timestamp == datetime(2020, 2, 1, 10, 0)
    assert month_first[0].timestamp == datetime(2020, 1, 2, 10, 0)


def test_dashes_and_spanish_am_pm_need_an_order_then_parse() -> None:
    with pytest.raises(InvalidInputError):
        read("android_dashes_ampm_ambiguous.txt")
    messages = read("android_dashes_ampm_ambiguous.txt", date_order="dmy")
    assert [m.timestamp for m in messages] == [
        datetime(2020, 1, 3, 9, 15),
        datetime(2020, 1, 3, 9, 20),
        datetime(2020, 1, 3, 13, 5),
    ]
    assert messages[0].text == "¿Dónde estás?"


def test_order_settled_by_the_sequence_of_dates() -> None:
    # Day-first would run 1 Feb, 1 Mar, 2 Jan: backwards. Month-first runs forwards.
    messages = read("android_order_by_sequence.txt")
    assert messages[2].timestamp == datetime(2020, 2, 1, 11, 0)


def test_mixed_orders_are_an_error_naming_the_line() -> None:
    # The pre-scan stops at the first line that settles the order; the parse then fails on
    # the line that contradicts it.
    lines = ["13/01/2020, 10:00 - A: x\n", "01/13/2020, 10:00 - B: y\n"]
    assert detect_date_order(lines) == "dmy"
    with pytest.raises(InvalidInputError) as caught:
        list(parse_whatsapp(lines, date_order="dmy"))
    assert caught.value.problems[0].line == 2
    assert "month must be in 1..12" in str(caught.value)


def test_zip_export(tmp_path: Path) -> None:
    archive = tmp_path / "WhatsApp Chat - Lena.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(FIXTURES / "ios_dots_dmy.txt", "_chat.txt")
        zf.writestr("00000007-PHOTO-2021-02-04-08-03-12.jpg", b"\xff\xd8\xff")
    assert read_chat(archive) is not None
    assert list(read_chat(archive)) == read("ios_dots_dmy.txt")


def test_zip_without_chat_and_broken_zip(tmp_path: Path) -> None:
    empty = tmp_path / "photos.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("a.jpg", b"x")
    with pytest.raises(InvalidInputError, match="no chat text file"):
        list(read_chat(empty))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK not really")
    with pytest.raises(InvalidInputError, match="not a readable zip"):
        list(read_chat(broken))


def test_malformed_whatsapp_names_the_line() -> None:
    lines = ["\n", "hello there\n"]
    with pytest.raises(InvalidInputError) as caught:
        list(parse_whatsapp(lines, date_order="dmy"))
    assert caught.value.problems[0].line == 2
    bad_date = ["31/12/2020, 10:00 - A: x\n", "32/12/2020, 10:00 - A: y\n"]
    with pytest.raises(InvalidInputError) as caught:
        list(parse_whatsapp(bad_date, date_order="dmy"))
    assert caught.value.problems[0].line == 2
    bad_hour = ["12/31/20, 13:00 PM - A: x\n"]
    with pytest.raises(InvalidInputError) as caught:
        list(parse_whatsapp(bad_hour, date_order="mdy"))
    assert "hour 13" in str(caught.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes("31/12/2020, 10:00 - Zoë: hé\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        list(read_chat(path, chat_format="whatsapp"))


def test_telegram_export() -> None:
    messages = read("telegram_export.json")
    assert [m.sender for m in messages] == ["Noor", "Eli", "Eli", "user333"]  # no service
    assert messages[0] == Message(
        datetime(2023, 5, 2, 19, 7, 12),
        "Noor",
        "I keep feeling like I'm failing at everything lately",
        "text",
        18,
    )
    assert (
        messages[1].text == "That sounds really heavy. What's been happening? https://example.org"
    )
    assert messages[2].kind == "media"
    assert messages[1].line == 28


def test_telegram_broken_and_wrong_exports(tmp_path: Path) -> None:
    text = (FIXTURES / "telegram_export.json").read_text(encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text(text.replace('"from": "Eli",', '"from": "Eli"', 1), encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        list(read_chat(broken))
    assert caught.value.problems[0].line == 34  # where the comma is missing
    everything = tmp_path / "result.json"
    everything.write_text('{"about": "x", "chats": {"list": []}}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="all chats"):
        list(read_chat(everything))
    nothing = tmp_path / "other.json"
    nothing.write_text('{"name": "x"}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no 'messages'"):
        list(read_chat(nothing))
    no_date = tmp_path / "nodate.json"
    no_date.write_text('{"messages": [\n{"type": "message", "from": "A", "text": "x"}]}')
    with pytest.raises(InvalidInputError) as caught:
        list(read_chat(no_date))
    assert caught.value.problems[0].line == 2


def test_telegram_streams_across_blocks(tmp_path: Path) -> None:
    # Messages longer than a block, and many of them, decode whole and in order.
    path = tmp_path / "big.json"
    long_text = "x" * 1_500_000
    with path.open("w", encoding="utf-8") as out:
        out.write('{"name": "N", "messages": [\n')
        for i in range(3):
            out.write(
                f'{{"type": "message", "date": "2023-01-0{i + 1}T10:00:00", '
                f'"from": "P{i}", "text": "{long_text if i == 1 else i}"}}'
            )
            out.write(",\n" if i < 2 else "\n")
        out.write("]}\n")
    messages = list(read_chat(path))
    assert [m.sender for m in messages] == ["P0", "P1", "P2"]
    assert len(messages[1].text) == 1_500_000
    assert [m.line for m in messages] == [2, 3, 4]


def test_transcript() -> None:
    messages = read("transcript.txt")
    assert detect_format(FIXTURES / "transcript.txt") == "transcript"
    assert messages[0].text == (
        "I finally told my sister how I felt about the wedding.\nIt didn't go well."
    )
    assert messages[1] == Message(
        datetime(2024, 3, 1, 21, 17),
        "Ben",
        "Oh Mira. That took courage. How are you feeling now?",
        "text",
        3,
    )
    assert messages[3] == Message(None, "Ben", "I'm proud of you", "text", 6)
    with pytest.raises(InvalidInputError) as caught:
        list(parse_transcript(["no speaker here\n"]))
    assert caught.value.problems[0].line == 1


def test_summary() -> None:
    summary = summarize_chat(read_chat(FIXTURES / "android_24h_dmy.txt"))
    assert summary.to_dict() == {
        "messages": 10,
        "participants": {"Maya": 6, "Jonas": 4},
        "first": "2023-03-12T21:04:00",
        "last": "2023-03-14T22:10:00",
    }


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(FIXTURES / "ios_dots_dmy.txt") == "whatsapp"
    assert detect_format(FIXTURES / "telegram_export.json") == "telegram"
    with pytest.raises(InvalidInputError, match="not found"):
        detect_format(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(InvalidInputError, match="empty"):
        detect_format(tmp_path / "empty.txt")


@pytest.mark.slow
def test_whatsapp_reading_memory_does_not_grow(tmp_path: Path) -> None:
    def peak(n: int) -> int:
        path = tmp_path / f"chat{n}.txt"
        with path.open("w", encoding="utf-8") as out:
            for i in range(n):
                out.write(
                    f"{1 + i % 28:02d}/0{1 + i % 9}/2021, 10:{i % 60:02d} - P{i % 2}: hi {i}\n"
                )
        tracemalloc.start()
        for _ in read_chat(path, date_order="dmy"):
            pass
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size

    small, large = peak(2_000), peak(40_000)
    assert large < small * 2 + 200_000


@pytest.mark.slow
def test_telegram_reading_memory_does_not_grow(tmp_path: Path) -> None:
    def peak(n: int) -> int:
        path = tmp_path / f"tg{n}.json"
        with path.open("w", encoding="utf-8") as out:
            out.write('{"name": "N", "type": "personal_chat", "messages": [\n')
            for i in range(n):
                comma = "," if i < n - 1 else ""
                out.write(
                    f' {{"id": {i}, "type": "message", "date": "2023-01-01T10:00:00", '
                    f'"from": "P{i % 2}", "text": ["hi ", {{"type": "bold", "text": "{i}"}}]}}'
                    f"{comma}\n"
                )
            out.write("]}\n")
        tracemalloc.start()
        count = sum(1 for _ in read_chat(path))
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == n
        return size

    small, large = peak(2_000), peak(30_000)
    # The large file (~2.5 MB) is several blocks long; memory stays near one block (1 MiB of
    # text, up to 4 bytes a character) plus one message.
    assert large < small + 6_000_000


def test_reading_bytes_as_uploaded_matches_reading_files(tmp_path: Path) -> None:
    from attunement.conversation import read_chat_bytes

    for name in ("android_12h_mdy.txt", "ios_dots_dmy.txt", "telegram_export.json",
                 "transcript.txt"):  # fmt: skip
        data = (FIXTURES / name).read_bytes()
        assert list(read_chat_bytes(data, filename=name)) == read(name), name
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(FIXTURES / "ios_dots_dmy.txt", "_chat.txt")
    # A zip is recognised by its bytes even under a misleading name.
    uploaded = list(read_chat_bytes(archive.read_bytes(), filename="blob"))
    assert uploaded == read("ios_dots_dmy.txt")
    with pytest.raises(InvalidInputError, match="--date-order"):
        list(read_chat_bytes((FIXTURES / "android_ambiguous.txt").read_bytes(), filename="c.txt"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        list(read_chat_bytes("01/13/2020, 10:00 - Zoë: x\n".encode("latin-1"), filename="c.txt"))
