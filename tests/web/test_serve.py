"""``attunement serve`` starts a real server that creates and upgrades its database."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from attunement.store import create_engine_from_url, current_revision, head_revision


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_upgrades_a_new_database_and_answers_health(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    code = "from attunement.cli import main; main()"
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--port", str(port), "--database-url", url],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={"ATTUNEMENT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        assert response.json() == {"status": "ok"}
        assert f"http://127.0.0.1:{port}/" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)
    engine = create_engine_from_url(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_served_app_puts_its_start_up_objects_out_of_the_collectors_reach(
    tmp_path: Path,
) -> None:
    """``attunement serve`` builds its app with ``freeze_after_start``: once started, the
    objects made so far are frozen (full collections then skip them), and only then."""
    import asyncio
    import gc

    from attunement.settings import Settings
    from attunement.web import create_app

    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'frozen.sqlite3'}",
        data_dir=tmp_path,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
    )

    async def started_freeze_count(freeze: bool) -> int:
        app = create_app(settings, freeze_after_start=freeze)
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    gc.unfreeze()
    try:
        assert asyncio.run(started_freeze_count(False)) == 0
        assert asyncio.run(started_freeze_count(True)) > 10_000
    finally:
        gc.unfreeze()
