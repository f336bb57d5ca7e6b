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
from contextlib import contextmanager
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


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database on the test server (a copy of ``template`` if given), dropped
    afterwards; yields its name."""
    from attunement.store import create_engine_from_url

    name = f"attunement_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine_from_url(POSTGRES_URL or "", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            copy = ""
            if template:
                copy = f' TEMPLATE "{template}"'
                version = connection.exec_driver_sql("SHOW server_version_num").scalar()
                if int(str(version)) >= 150000:  # a file copy is ~5x faster for small databases
                    copy += " STRATEGY FILE_COPY"
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
        yield name
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def postgres_url(database: str) -> str:
    """The URL of ``database`` on the test server."""
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL or "").set(database=database)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    from attunement.store import upgrade

    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests skipped: set ATTUNEMENT_TEST_DATABASE_URL (see .ci/run)")
    with postgres_database() as name:
        upgrade(postgres_url(name))
        yield name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database at the newest schema (SQLite file or PostgreSQL)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "attunement.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    with postgres_database(request.getfixturevalue("_postgres_template")) as name:
        yield postgres_url(name)
