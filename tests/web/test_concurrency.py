"""Many requests at once: writers queue for the database without starving each other.

On SQLite the app has one writer connection (``store.open_database``); requests that want it
wait in the route threads. A request that failed after taking the connection gives it back
when its session is closed, after the route, and that close must not need a route thread:
if it did, a burst of writers could hold every route thread while waiting for a connection
that only a close could give back, and the server would stop. These tests fire such a burst
at an app whose route threads are few, and check that every request is answered and every
acknowledged record is stored once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from attunement.settings import Settings
from attunement.store import upgrade
from attunement.store.engine import open_database
from attunement.store.models import Interaction
from attunement.web import create_app
from attunement.web.deps import RequestSessions, get_db
from attunement.web.mail import ConsoleMailer

PASSWORD = "correct horse battery staple"
RATINGS = {f"interaction_{n}": n % 7 + 1 for n in range(1, 9)}


async def _signed_up(http: httpx.AsyncClient) -> tuple[dict[str, str], int]:
    token = (await http.get("/api/csrf")).json()["csrf_token"]
    account = {"email": "burst@example.org", "display_name": "Burst", "password": PASSWORD}
    created = await http.post("/api/accounts", json=account, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text
    headers = {"X-CSRF-Token": (await http.get("/api/csrf")).json()["csrf_token"]}
    relationship = await http.post(
        "/api/relationships", json={"type": "friend", "role": "friend"}, headers=headers
    )
    assert relationship.status_code == 201, relationship.text
    return headers, relationship.json()["id"]


async def _burst(app: FastAPI, requests: int) -> tuple[list[int], int]:
    async with app.router.lifespan_context(app):
        # Few route threads, so that the burst outnumbers them many times over.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 3
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            headers, relationship_id = await _signed_up(http)

            async def post(n: int) -> int:
                # Every third request names a relationship that does not exist: it fails
                # after its transaction began, and gives the connection back only on close.
                target = relationship_id if n % 3 else 2_000_000
                body = {"relationship_id": target, "channel": "phone", "responses": RATINGS}
                response = await http.post("/api/interactions", json=body, headers=headers)
                return response.status_code

            codes = await asyncio.wait_for(
                asyncio.gather(*(post(n) for n in range(requests))), timeout=60
            )
            listed = await http.get(
                "/api/interactions", params={"relationship_id": relationship_id}
            )
            return list(codes), len(listed.json())


def test_a_burst_of_writers_with_few_threads_is_answered_in_full(settings: Settings) -> None:
    app = create_app(settings, mailer=ConsoleMailer())
    codes, listed = asyncio.run(_burst(app, 60))
    assert sorted(set(codes)) == [201, 404]
    assert codes.count(201) == 40
    assert listed == 40
    database = open_database(settings.resolved_database_url())
    try:
        with database.reader() as session:
            assert session.scalar(sa.select(sa.func.count(Interaction.id))) == 40
    finally:
        database.dispose()


def test_sqlite_has_one_writer_and_a_reader_that_refuses_to_write(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'one-writer.sqlite3'}")
    try:
        upgrade(database.engine)
        assert database.engine.pool.size() == 1  # type: ignore[attr-defined]
        with database.reader() as session, pytest.raises(sa.exc.OperationalError, match="readonly"):
            session.execute(sa.text("CREATE TABLE scratch (x INTEGER)"))
    finally:
        database.dispose()


def test_a_cancelled_request_still_gives_its_connection_back(tmp_path: Path) -> None:
    """On SQLite the writer has one connection: a request cancelled while holding it (a
    client gone, a server shutting down) must still close its session, or every later write
    would wait for ever."""
    database = open_database(f"sqlite:///{tmp_path / 'cancelled.sqlite3'}")
    upgrade(database.engine)
    app = SimpleNamespace(state=SimpleNamespace(session_factory=database.writer))

    async def route(scope: Scope, _receive: Receive, _send: Send) -> None:
        session = await get_db(Request(scope))
        session.execute(sa.text("SELECT 1"))  # takes the writer's only connection
        assert session.holds_connection
        await anyio.sleep(30)  # cancelled here

    middleware = RequestSessions(route, limiter=anyio.CapacityLimiter(1))

    async def cancelled_request() -> None:
        with anyio.move_on_after(0.2):
            await middleware({"type": "http", "app": app}, _never, _never)

    try:
        anyio.run(cancelled_request)
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        database.dispose()


async def _never(*_args: object) -> Any:
    raise AssertionError("not called")
