"""Data commands: ``attunement demo``, ``export``, ``import``, ``backup``, ``restore`` and
``erase-person``. Each opens the database from the settings, calls one library function of
:mod:`attunement.store` and prints what it did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from attunement.cli._group import cli
from attunement.cli.db import database_url_option, settings_from
from attunement.store.engine import StoreSession

__all__ = ["demo"]


@contextmanager
def _session(database_url: str | None, *, upgrade: bool = True) -> Iterator[StoreSession]:
    from attunement.store import create_engine_from_settings, make_session_factory
    from attunement.store import upgrade as upgrade_schema

    engine = create_engine_from_settings(settings_from(database_url))
    try:
        if upgrade:
            upgrade_schema(engine)
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@cli.command()
@database_url_option
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed.")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day (YYYY-MM-DD); default: three weeks ago, so the data ends today.",
)
@click.option("--days", type=click.IntRange(7, 366), default=21, show_default=True)
def demo(database_url: str | None, seed: int, start: datetime | None, days: int) -> None:
    """Fill the database with generated demo data: two couples and a friendship.

    Three weeks of interaction records rated by both people, weekly check-ins, practices and
    one 36 Questions session, all in a demo study. Same seed and start, same data.
    """
    from attunement.store.demo import generate_demo

    first_day = start.date() if start is not None else None
    with _session(database_url) as session:
        summary = generate_demo(session, seed=seed, start=first_day, days=days)
    click.echo(summary.describe())
