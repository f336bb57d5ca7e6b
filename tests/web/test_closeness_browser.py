"""Two browsers (Chromium, phone-sized) do a whole 36 Questions session on a live server.

The server runs the real app under uvicorn with a fast test clock (15 minutes pass in about a
second), so the gentle time-up notice appears on its own. Screenshots of each step are written
to ``ATTUNEMENT_SCREENSHOTS`` when that is set (for looking at the pages).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI

from attunement.settings import Settings
from attunement.web import create_app
from tests.web.conftest import SECRET

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("ATTUNEMENT_SCREENSHOTS")


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port; yield its address."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def live_settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'live.sqlite3'}",
        data_dir=tmp_path,
        secret_key=SECRET,
        base_url="http://127.0.0.1",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    # A 15-minute set lasts one real second.
    with serving(create_app(live_settings(tmp_path, clock_speed=900))) as url:
        yield url


def shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_up(page: object, base: str, email: str, name: str) -> None:
    page.goto(f"{base}/signup")  # type: ignore[attr-defined]
    page.fill("#email", email)  # type: ignore[attr-defined]
    page.fill("#display_name", name)  # type: ignore[attr-defined]
    page.fill("#password", "correct horse battery staple")  # type: ignore[attr-defined]
    page.click("form[action='/signup'] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/$"))  # type: ignore[attr-defined]


def choose_ios_by_keyboard(page: object, value: int) -> None:
    """Tab to the circles, move with the arrow keys, submit: no mouse needed.

    The page reloads itself when the other phone moves the session on while nothing is chosen
    yet; a reload that lands between two key presses clears the choice, so choose again then.
    """
    checked = None
    for _attempt in range(3):
        page.wait_for_load_state()  # type: ignore[attr-defined]
        first = page.locator("input[name=ios]").first  # type: ignore[attr-defined]
        first.focus()
        page.keyboard.press("Space")  # type: ignore[attr-defined]
        for _ in range(value - 1):
            page.keyboard.press("ArrowRight")  # type: ignore[attr-defined]
        chosen = page.locator("input[name=ios]:checked")  # type: ignore[attr-defined]
        if chosen.count() == 1:
            checked = chosen.get_attribute("value")
            break
    assert checked == str(value)
    page.click(".ios-form button[type=submit]")  # type: ignore[attr-defined]


def test_two_phones_complete_a_whole_session(live_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS
        )
        try:
            contexts = [
                browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
                for _ in range(2)
            ]
            ada, ben = (context.new_page() for context in contexts)
            sign_up(ada, live_server, "ada@example.org", "Ada")
            sign_up(ben, live_server, "ben@example.org", "Ben")

            ada.goto(f"{live_server}/closeness")
            shot(ada, "01-start")
            ada.check("input[name=first_reader][value=me]")
            ada.check("#eye_contact")
            ada.click("form[action='/closeness'] button[type=submit]")
            code = ada.locator(".join-code").inner_text().strip()
            assert re.fullmatch(r"[A-Z0-9]{6}", code)
            shot(ada, "02-code")

            ben.goto(f"{live_server}/closeness")
            ben.fill("#code", code.lower())
            ben.click("form[action='/closeness/join'] button[type=submit]")
            expect(ben.locator("legend")).to_contain_text("relationship with Ada")
            # Ada's waiting page notices Ben without a reload by hand.
            expect(ada.locator("legend")).to_contain_text("relationship with Ben", timeout=10_000)
            shot(ben, "03-ios-before")

            choose_ios_by_keyboard(ada, 3)
            expect(ada.locator(".alert.ok")).to_contain_text("as soon as Ben has answered")
            choose_ios_by_keyboard(ben, 5)
            expect(ben.locator(".question-card")).to_be_visible()
            expect(ada.locator(".question-card")).to_be_visible(timeout=10_000)
            expect(ada.locator("[data-reader]")).to_contain_text("You read this one aloud")
            expect(ben.locator("[data-reader]")).to_contain_text("Ada reads this one aloud")
            shot(ada, "04-question-reader")
            # The set's 15 minutes pass in a second at this clock: the gentle notice appears.
            expect(ben.locator("[data-time-up]")).to_be_visible(timeout=10_000)
            shot(ben, "05-time-up")

            for number in range(1, 37):
                mover = ada if number % 2 else ben
                other = ben if mover is ada else ada
                expect(mover.locator(".question-number")).to_have_text(str(number))
                mover.click("button.next")
                if number < 36:
                    # The other phone follows by itself.
                    expect(other.locator(".question-number")).to_have_text(
                        str(number + 1), timeout=10_000
                    )
                    reader = other.locator("[data-reader]")
                    expected = "You read" if (other is ada) == (number % 2 == 0) else "reads this"
                    expect(reader).to_contain_text(expected)

            expect(ada.locator("h1")).to_have_text("You finished the questions", timeout=10_000)
            expect(ben.locator("h1")).to_have_text("You finished the questions", timeout=10_000)
            choose_ios_by_keyboard(ada, 6)
            choose_ios_by_keyboard(ben, 6)
            expect(ben.locator(".ending")).to_contain_text("not part of the original procedure")
            expect(ada.locator(".ending")).to_be_visible(timeout=10_000)
            shot(ada, "06-ending")
            ada.click("form[action$='/eye-contact'] button")
            expect(ada.locator("[data-eye-done]")).to_be_visible(timeout=10_000)
            ben.reload()
            ben.click("form[action$='/finish'] button")
            expect(ben.locator("h1")).to_have_text("Thank you both")
            expect(ada.locator("h1")).to_have_text("Thank you both", timeout=10_000)
            expect(ada.locator("dl.ratings")).to_contain_text("3")
            shot(ada, "07-finished")

            # A reload of a finished session shows the same end, and a stranger sees nothing.
            ada.reload()
            expect(ada.locator("h1")).to_have_text("Thank you both")
        finally:
            browser.close()


def test_a_dropped_connection_catches_up_when_it_returns(live_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS
        )
        try:
            contexts = [browser.new_context(viewport=PHONE, is_mobile=True) for _ in range(2)]
            ada, ben = (context.new_page() for context in contexts)
            sign_up(ada, live_server, "ada@example.org", "Ada")
            sign_up(ben, live_server, "ben@example.org", "Ben")
            ada.goto(f"{live_server}/closeness")
            ada.click("form[action='/closeness'] button[type=submit]")
            code = ada.locator(".join-code").inner_text().strip()
            ben.goto(f"{live_server}/closeness")
            ben.fill("#code", code)
            ben.click("form[action='/closeness/join'] button[type=submit]")
            expect(ada.locator("legend")).to_contain_text("relationship with Ben", timeout=10_000)
            choose_ios_by_keyboard(ada, 4)
            expect(ada.locator(".alert.ok")).to_be_visible()
            choose_ios_by_keyboard(ben, 4)
            expect(ben.locator(".question-number")).to_have_text("1", timeout=10_000)
            expect(ada.locator(".question-number")).to_have_text("1", timeout=10_000)

            contexts[1].set_offline(True)  # Ben's phone loses its connection
            expect(ben.locator("[data-sync]")).to_have_text("Reconnecting…", timeout=10_000)
            for number in (1, 2, 3):
                expect(ada.locator(".question-number")).to_have_text(str(number))
                ada.click("button.next")
            expect(ben.locator(".question-number")).to_have_text("1")  # still offline
            contexts[1].set_offline(False)
            expect(ben.locator(".question-number")).to_have_text("4", timeout=20_000)
            expect(ben.locator("[data-sync]")).to_be_hidden()
            shot(ben, "08-reconnected")
        finally:
            browser.close()
