"""A phone-sized Chromium uploads a chat export, answers the date-order question, reads the
report and keeps its weekly summaries. ``ATTUNEMENT_SCREENSHOTS=DIR`` saves screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from attunement.web import create_app
from tests.web.test_closeness_browser import (
    CHROMIUM_FLAGS,
    PHONE,
    live_settings,
    serving,
    shot,
    sign_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_EXCHANGES = (
    ("Maya", "I feel so anxious about the new job, I barely slept"),
    ("Jonas", "that sounds exhausting. what is worrying you most?"),
    ("Maya", "my manager changed the deadline again and I hate feeling this behind"),
    ("Jonas", "it makes sense to feel stressed. we could call tonight ❤️"),
    ("Maya", "thank you, that helps. how was your day?"),
    ("Jonas", "long, I missed the train and ate lunch at my desk"),
)


def weeks_of_chat(weeks: int) -> bytes:
    """A day-first Android export, ``weeks`` long, with a few exchanges every evening."""
    lines, stamp = [], datetime(2024, 1, 1, 20, 0)
    for day in range(weeks * 7):
        moment = stamp + timedelta(days=day)
        count = 2 + (day * 5) % len(_EXCHANGES)
        for index in range(count):
            sender, text = _EXCHANGES[(day + index) % len(_EXCHANGES)]
            when = moment + timedelta(minutes=4 * index + day % 9)
            lines.append(f"{when:%d/%m/%Y, %H:%M} - {sender}: {text}\n")
    return "".join(lines).encode("utf-8")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with serving(create_app(live_settings(tmp_path))) as url:
        yield url


def test_a_phone_uploads_a_chat_and_keeps_its_weekly_summaries(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ambiguous = tmp_path / "WhatsApp Chat with Maya.txt"
    ambiguous.write_bytes(b"01/02/2024, 10:00 - Maya: hello\n01/02/2024, 10:05 - Jonas: hi\n")
    chat = tmp_path / "WhatsApp Chat with Jonas.txt"
    chat.write_bytes(weeks_of_chat(8))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS
        )
        page = browser.new_context(viewport=PHONE, device_scale_factor=2).new_page()
        sign_up(page, server, "ada@example.org", "Ada")
        page.goto(f"{server}/relationships/new")
        page.select_option("#type", "romantic_partner")
        page.fill("#name", "Us two")
        page.click("form[action='/relationships'] button[type=submit]")

        page.goto(f"{server}/chat")
        shot(page, "chat-01-upload")
        page.set_input_files("#export", str(ambiguous))
        page.click("form[action='/chat'] button[type=submit]")
        expect(
            page.locator("legend", has_text="How does this chat write its dates?")
        ).to_be_visible()
        shot(page, "chat-02-date-order")
        page.check("#date_order-dmy")
        page.set_input_files("#export", str(chat))
        page.check("#pseudonymize")
        page.click("form[action='/chat'] button[type=submit]")
        expect(page.locator("h1")).to_have_text("Conversation report")
        expect(page.locator("text=Nothing was kept.")).to_be_visible()
        expect(page.locator(".chat-report svg").first).to_be_visible()
        assert page.locator("text=Maya").count() == 0  # pseudonymised: Person A, Person B
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the report scrolls sideways on a phone ({width}px)"
        shot(page, "chat-03-report")

        with page.expect_download() as saved:
            page.click("form[action='/chat/report'] button[type=submit]")
        report = Path(saved.value.path()).read_text(encoding="utf-8")
        assert report.startswith("<!doctype html>")
        assert "Person A" in report

        page.click("form[action='/chat/keep'] button[type=submit]")
        expect(page.locator("text=Only weekly numbers were kept")).to_be_visible()
        expect(page.locator("text=private").first).to_be_visible()
        shot(page, "chat-04-kept")
        browser.close()
