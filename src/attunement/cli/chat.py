"""``attunement chat``: read an exported chat on this machine and summarise or analyse it.

Nothing is uploaded anywhere: the file is read from disk and results are written to disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from attunement import conversation
from attunement.cli._group import cli
from attunement.conversation import (
    CHAT_FORMATS,
    DATE_ORDERS,
    ChatFormat,
    DateOrder,
    Message,
    read_chat,
    summarize_chat,
)
from attunement.datafile import write_table, writing_to
from attunement.reports.chat import chat_report

__all__ = ["chat"]

F = TypeVar("F", bound=Callable[..., Any])

_FORMAT = click.option(
    "--chat-format",
    type=click.Choice(CHAT_FORMATS),
    default=None,
    help="Export format (default: guessed from the file).",
)
_DATE_ORDER = click.option(
    "--date-order",
    type=click.Choice(DATE_ORDERS),
    default=None,
    help="WhatsApp dates: dmy (31/12) or mdy (12/31); needed only when the file cannot tell.",
)
_FILE = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
_PSEUDONYMIZE = click.option(
    "--pseudonymize", is_flag=True, help="Replace names with Person A, Person B, ... (in order)."
)


def _output(kind: str) -> Callable[[F], F]:
    """The required ``-o/--output`` option for a file of ``kind`` ("CSV", "HTML")."""
    return click.option(
        "-o",
        "--output",
        "out",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"{kind} file to write.",
    )


def _messages(
    file: Path, chat_format: str | None, date_order: str | None, *, pseudonymize: bool = False
) -> Iterator[Message]:
    messages = read_chat(
        file,
        chat_format=cast("ChatFormat | None", chat_format),
        date_order=cast("DateOrder | None", date_order),
    )
    return conversation.pseudonymize(messages) if pseudonymize else messages


@cli.group()
def chat() -> None:
    """Analyse an exported chat (WhatsApp .txt/.zip, Telegram JSON, transcript) locally."""


@chat.command()
@_FILE
@click.option("--format", "output", type=click.Choice(["json", "text"]), default="text")
@_FORMAT
@_DATE_ORDER
def summary(file: Path, output: str, chat_format: str | None, date_order: str | None) -> None:
    """Count messages per participant and show the first and last message time."""
    result = summarize_chat(_messages(file, chat_format, date_order))
    if output == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    data = result.to_dict()
    click.echo(f"messages: {data['messages']}")
    click.echo(f"first:    {data['first'] or '-'}")
    click.echo(f"last:     {data['last'] or '-'}")
    for name, count in result.participants.items():
        click.echo(f"  {name}: {count}")


@chat.command()
@_FILE
@_output("CSV")
@click.option("--weekly", is_flag=True, help="One row per person and week instead of per message.")
@click.option("--sentiment", is_flag=True, help="Add VADER sentiment (slower).")
@_PSEUDONYMIZE
@_FORMAT
@_DATE_ORDER
def signals(
    file: Path,
    out: Path,
    weekly: bool,
    sentiment: bool,
    pseudonymize: bool,
    chat_format: str | None,
    date_order: str | None,
) -> None:
    """Write disclosure, responsiveness and turn signals to a CSV file."""
    messages = _messages(file, chat_format, date_order, pseudonymize=pseudonymize)
    rows = conversation.message_signals(messages, sentiment=sentiment)
    if weekly:
        frame = conversation.weekly_signals(rows)
        write_table(frame, out)
        click.echo(f"Wrote {len(frame)} person-weeks to {out}")
        return
    count = conversation.write_signals_csv(rows, out)
    click.echo(f"Wrote signals of {count} messages to {out}")


@chat.command()
@_FILE
@_output("HTML")
@_PSEUDONYMIZE
@click.option("--title", default=None, help="Title of the report.")
@_FORMAT
@_DATE_ORDER
def report(
    file: Path,
    out: Path,
    pseudonymize: bool,
    title: str | None,
    chat_format: str | None,
    date_order: str | None,
) -> None:
    """Write a self-contained HTML report with weekly trajectories of each person."""
    messages = _messages(file, chat_format, date_order, pseudonymize=pseudonymize)
    heading = title or ("Conversation report" if pseudonymize else f"Conversation: {file.stem}")
    document = chat_report(messages, title=heading)
    with writing_to(out):
        out.write_text(document, encoding="utf-8")
    click.echo(f"Wrote {out} (open it in a browser; it loads nothing from the internet)")


@chat.command()
@_FILE
@_output("CSV")
@_PSEUDONYMIZE
@_FORMAT
@_DATE_ORDER
def similarity(
    file: Path, out: Path, pseudonymize: bool, chat_format: str | None, date_order: str | None
) -> None:
    """Score how closely each reply takes up a disclosure (needs attunement[text])."""
    messages = _messages(file, chat_format, date_order, pseudonymize=pseudonymize)
    frame = conversation.reply_similarity(messages)
    write_table(frame, out)
    click.echo(f"Wrote {len(frame)} disclosure-reply pairs to {out}")
