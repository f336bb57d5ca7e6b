"""Shared test fixtures: service detection and paths.

PostgreSQL tests run when ``ATTUNEMENT_TEST_DATABASE_URL`` is set, browser tests when Chromium is
installed. Elsewhere they are skipped with a reason that says what to install. In CI
(``ATTUNEMENT_REQUIRE_SERVICES=1``) a missing service fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
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
