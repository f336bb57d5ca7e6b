"""Shared test fixtures: service detection and paths.

PostgreSQL tests run when ``ATTUNEMENT_TEST_DATABASE_URL`` is set, browser tests when Chromium is
installed. Elsewhere they are skipped with a reason that says what to install. In CI
(``ATTUNEMENT_REQUIRE_SERVICES=1``) a missing service fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
POSTGRES_URL = os.environ.get("ATTUNEMENT_TEST_DATABASE_URL")
REQUIRE_SERVICES = os.environ.get("ATTUNEMENT_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = {
        "postgres": None
        if POSTGRES_URL
        else "PostgreSQL tests skipped: set ATTUNEMENT_TEST_DATABASE_URL (see .ci/run)",
        "browser": None
        if CHROMIUM
        else "browser tests skipped: install Debian's chromium (apt-get install chromium)",
    }
    for item in items:
        for marker, reason in missing.items():
            if reason and item.get_closest_marker(marker):
                if REQUIRE_SERVICES:
                    raise pytest.UsageError(f"ATTUNEMENT_REQUIRE_SERVICES=1 but {reason}")
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def repo_root() -> Path:
    return REPO


# -- databases (owner: store) --------------------------------------------------------------
# `database_url`: an empty database at the newest schema for each test, on a fresh SQLite file
# and, when ATTUNEMENT_TEST_DATABASE_URL is set, on a freshly created PostgreSQL database
# (dropped after the test). Both are copied from a template upgraded once per run, so a test
# pays for a file copy or a CREATE DATABASE ... TEMPLATE, not for the migrations.


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from attunement.store import create_engine_from_url, upgrade

    path = tmp_path_factory.mktemp("db-template") / "template.sqlite3"
    engine = create_engine_from_url(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    from attunement.store import create_engine_from_url, upgrade

    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests skipped: set ATTUNEMENT_TEST_DATABASE_URL (see .ci/run)")
    name = f"attunement_template_{uuid.uuid4().hex[:12]}"
    admin = create_engine_from_url(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine_from_url(_postgres_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _postgres_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL or "").set(database=database)
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database at the newest schema (SQLite file or PostgreSQL)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "attunement.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    from attunement.store import create_engine_from_url

    template_name: str = request.getfixturevalue("_postgres_template")
    name = f"attunement_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine_from_url(POSTGRES_URL or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _postgres_url(name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
