"""``attunement chat``: read an exported chat on this machine and summarise or analyse it.

Nothing is uploaded anywhere: the file is read from disk and results are written to disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import click

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

__all__ = ["chat"]

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


def _messages(file: Path, chat_format: str | None, date_order: str | None) -> Iterator[Message]:
    return read_chat(
        file,
        chat_format=cast("ChatFormat | None", chat_format),
        date_order=cast("DateOrder | None", date_order),
    )


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
