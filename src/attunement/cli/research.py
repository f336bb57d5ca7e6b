"""``attunement researcher``: mark accounts as researchers, who may create studies."""

from __future__ import annotations

import click

from attunement.cli._group import cli
from attunement.cli.db import database_url_option, existing_database_settings

__all__ = ["researcher"]


@cli.group()
def researcher() -> None:
    """Give or take the researcher role (creating studies, reading their pseudonymized data)."""


def _set(database_url: str | None, email: str, value: bool) -> str:
    from attunement.store import create_engine_from_settings, make_session_factory, transaction
    from attunement.store import upgrade as upgrade_schema
    from attunement.store.studies import set_researcher

    engine = create_engine_from_settings(existing_database_settings(database_url))
    try:
        upgrade_schema(engine)
        with transaction(make_session_factory(engine)) as session:
            person = set_researcher(session, email, value)
            return person.email
    finally:
        engine.dispose()


@researcher.command()
@database_url_option
@click.argument("email")
def grant(database_url: str | None, email: str) -> None:
    """Let the account with EMAIL create studies."""
    click.echo(f"{_set(database_url, email, True)} is now a researcher.")


@researcher.command()
@database_url_option
@click.argument("email")
def revoke(database_url: str | None, email: str) -> None:
    """Stop the account with EMAIL from creating studies (its studies stay; it keeps reading
    them until they are handed over or deleted)."""
    click.echo(f"{_set(database_url, email, False)} is no longer a researcher.")
