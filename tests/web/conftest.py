"""Fixtures for the web tests: an app on a real database, HTTP clients, signed-up people.

``client`` talks to the app in-process through its ASGI interface (startup included, so the
database is upgraded exactly as ``attunement serve`` does). ``web`` wraps a client with the
steps a person takes (sign up, post a form with its CSRF token); ``other_web`` is a second
person with their own cookies on the same app.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from attunement.settings import Settings
from attunement.web import create_app
from attunement.web.mail import ConsoleMailer
from tests.web.people import WebPerson

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=tmp_path,
        secret_key=SECRET,
        base_url="http://testserver",
    )


@pytest.fixture
def mailer() -> ConsoleMailer:
    return ConsoleMailer(stream=io.StringIO())


@pytest.fixture
def app(settings: Settings, mailer: ConsoleMailer) -> FastAPI:
    return create_app(settings, mailer=mailer)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def web(client: TestClient) -> WebPerson:
    """A person who has just signed up (Ada) and is signed in."""
    return WebPerson.sign_up(client, "ada@example.org", "Ada")


@pytest.fixture
def other_web(app: FastAPI, client: TestClient) -> Iterator[WebPerson]:
    """A second signed-up person (Ben) with their own cookies, on the same running app."""
    with TestClient(app) as second:
        yield WebPerson.sign_up(second, "ben@example.org", "Ben")
