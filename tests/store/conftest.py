"""Fixtures of the store tests: an engine and a session factory on each test database, and the
small world of tests/store/world.py built once per run and copied for each test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from attunement.store import StoreSession, create_engine_from_url, make_session_factory
from tests.conftest import postgres_database, postgres_url
from tests.store.world import World, build_world


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_from_url(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[StoreSession]:
    return make_session_factory(engine)


def _build(url: str) -> World:
    engine = create_engine_from_url(url)
    try:
        with make_session_factory(engine)() as session:
            world = build_world(session)
            session.commit()
        return world
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _world_sqlite(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, World]:
    path = tmp_path_factory.mktemp("world") / "world.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    return path, _build(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def _world_postgres(_postgres_template: str) -> Iterator[tuple[str, World]]:
    with postgres_database(_postgres_template) as name:
        world = _build(postgres_url(name))
        yield name, world


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, World]]:
    """A fresh copy of the world database: its URL and the ids of its people and records."""
    if request.param == "sqlite":
        template, world = request.getfixturevalue("_world_sqlite")
        path = tmp_path / "world.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}", world
        return
    template_name, world = request.getfixturevalue("_world_postgres")
    with postgres_database(template_name) as name:
        yield postgres_url(name), world


@pytest.fixture
def world_engine(world_url: tuple[str, World]) -> Iterator[Engine]:
    engine = create_engine_from_url(world_url[0])
    yield engine
    engine.dispose()


@pytest.fixture
def world_db(
    world_url: tuple[str, World], world_engine: Engine
) -> tuple[sessionmaker[StoreSession], World]:
    """A session factory on a fresh copy of the world, and the world's ids."""
    return make_session_factory(world_engine), world_url[1]
