"""Fixtures of the store tests: an engine and a session factory on each test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from attunement.store import StoreSession, create_engine_from_url, make_session_factory


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine_from_url(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[StoreSession]:
    return make_session_factory(engine)
