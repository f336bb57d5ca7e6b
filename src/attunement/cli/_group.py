"""The ``attunement`` command group, shared by the command modules of this package.

Each command parses its options, calls one library function and prints the result. Every
:class:`~attunement.errors.AttunementError` becomes a plain message on standard error and exit
status 2; nothing the user does should ever produce a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from attunement import __version__
from attunement.errors import AttunementError

__all__ = ["EXIT_USAGE", "cli", "main"]

EXIT_USAGE = 2


class _Group(click.Group):
    """A click group that turns domain errors into a clear message and status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AttunementError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attunement")
def cli() -> None:
    """attunement: measure, track and foster emotional intimacy in close relationships.

    attunement is not therapy and does not replace it.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``attunement`` console script."""
    cli.main(args=argv, prog_name="attunement", standalone_mode=True)
