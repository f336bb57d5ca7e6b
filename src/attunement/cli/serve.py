"""``attunement serve``: run the web app (the database is upgraded when it starts)."""

from __future__ import annotations

from typing import Any

import click

from attunement.cli._group import cli
from attunement.settings import Settings

__all__ = ["serve"]


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: ATTUNEMENT_HOST).")
@click.option(
    "--port", type=int, default=None, help="Port to listen on (default: ATTUNEMENT_PORT)."
)
@click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default: ATTUNEMENT_DATABASE_URL, else a SQLite file in the data "
    "folder). PostgreSQL: postgresql://user:password@host/dbname",
)
def serve(host: str | None, port: int | None, database_url: str | None) -> None:
    """Run the attunement web app. Open the printed address in a browser.

    The database is created or upgraded to the newest schema on start. Settings come from
    ATTUNEMENT_* environment variables; the options override them.
    """
    import uvicorn

    from attunement.web import create_app

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if database_url is not None:
        overrides["database_url"] = database_url
    settings = Settings(**overrides)
    app = create_app(settings, freeze_after_start=True)
    click.echo(f"attunement is running at http://{settings.host}:{settings.port}/ (Ctrl+C stops)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", proxy_headers=False)
