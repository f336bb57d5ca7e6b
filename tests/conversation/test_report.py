"""The HTML chat report: self-contained, per person, pseudonymised on request."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from attunement.cli import cli
from attunement.conversation import Message, pseudonymize
from attunement.errors import InvalidInputError
from attunement.reports.chat import chat_report

FIXTURES = Path(__file__).parent / "fixtures"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def weeks_of_chat(weeks: int) -> list[Message]:
    start, out, line = datetime(2024, 1, 1, 19, 0), [], 1
    for week in range(weeks):
        for day, (sender, text) in enumerate(
            [
                ("Maya Schmidt", "I feel so anxious about work, Jonas"),
                ("Jonas", "that sounds exhausting. what happened?"),
                ("Maya Schmidt", "my boss moved my deadline again"),
                ("Jonas", "we could take a walk later"),
            ]
        ):
            stamp = start + timedelta(weeks=week, days=day, minutes=week)
            out.append(Message(stamp, sender, text, "text", line))
            line += 1
    return out


def test_report_is_self_contained_with_charts_per_person() -> None:
    html = chat_report(weeks_of_chat(6), title="Us")
    parser = _Collect()
    parser.feed(html)
    tags = [tag for tag, _ in parser.tags]
    assert tags.count("svg") >= 8  # one chart per trajectory plus the facets
    assert "script" not in tags
    for _tag, attrs in parser.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith(("#", "data:")), (name, value)
    assert "default-src 'none'" in html
    assert not re.search(r"https?://(?!www\.w3\.org/)", html)  # only the SVG namespace
    assert html.count("Maya Schmidt") >= 2  # table column and chart legends
    assert "Jonas" in html
    assert "I feel so anxious" not in html  # no message text


def test_pseudonymized_report_has_no_names() -> None:
    html = chat_report(pseudonymize(weeks_of_chat(3)))
    assert "Maya" not in html
    assert "Jonas" not in html
    assert "Person A" in html
    assert "Person B" in html


def test_report_needs_dated_messages() -> None:
    undated = [Message(None, "A", "hi", "text", 1)]
    with pytest.raises(InvalidInputError, match="no dated messages"):
        chat_report(undated)


def test_cli_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli,
        ["chat", "report", str(FIXTURES / "android_24h_dmy.txt"), "-o", str(out),
         "--pseudonymize"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html
    assert "Maya" not in html
    assert "android_24h_dmy" not in html  # the file name may carry a name: left out
    named = tmp_path / "named.html"
    result = CliRunner().invoke(
        cli, ["chat", "report", str(FIXTURES / "android_24h_dmy.txt"), "-o", str(named)]
    )
    assert "Maya" in named.read_text(encoding="utf-8")


def test_cli_signals_weekly_and_per_message(tmp_path: Path) -> None:
    path = str(FIXTURES / "ios_dots_dmy.txt")
    per_message, weekly = tmp_path / "m.csv", tmp_path / "w.csv"
    first = CliRunner().invoke(cli, ["chat", "signals", path, "-o", str(per_message)])
    assert first.exit_code == 0, first.output
    assert per_message.read_text(encoding="utf-8").splitlines()[0].startswith("line,timestamp")
    second = CliRunner().invoke(
        cli, ["chat", "signals", path, "-o", str(weekly), "--weekly", "--pseudonymize"]
    )
    assert second.exit_code == 0, second.output
    text = weekly.read_text(encoding="utf-8")
    assert text.startswith("week,person,messages")
    assert "Person A" in text
    assert "Lena" not in text
