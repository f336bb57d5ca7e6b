"""Alembic environment: runs migrations on the connection :func:`attunement.store.upgrade`
hands over (``config.attributes["connection"]``), or on ``sqlalchemy.url`` when Alembic's own
command line is used."""

from __future__ import annotations

from alembic import context

from attunement.store.engine import create_engine_from_url
from attunement.store.models import Base

__all__ = ["run_offline", "run_online"]

config = context.config
target_metadata = Base.metadata


def _configure(connection: object | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection")
    engine = create_engine_from_url(url)
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
