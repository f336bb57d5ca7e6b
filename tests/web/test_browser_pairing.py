"""Two people in two phone-sized Chromium contexts: sign up, pair by invitation, record the
same interaction, and see the mutual reveal. Also checks the pages by keyboard and, with
``ATTUNEMENT_SCREENSHOTS=DIR``, saves phone screenshots of the key pages to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attunement.web import create_app
from tests.web.test_closeness_browser import CHROMIUM_FLAGS, PHONE, live_settings, serving, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with serving(create_app(live_settings(tmp_path))) as url:
        yield url


def sign_up(page: Any, email: str, name: str) -> None:
    page.fill("#display_name", name)
    page.fill("#email", email)
    page.fill("#password", "correct horse battery staple")
    page.click("form[action='/signup'] button[type=submit]")


def rate(page: Any, values: dict[int, int]) -> None:
    for item, value in values.items():
        page.check(f"input[name=interaction_{item}][value='{value}']")


def test_two_phones_pair_record_the_same_interaction_and_see_the_reveal(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS
        )
        ada = browser.new_context(viewport=PHONE, device_scale_factor=2).new_page()
        ben = browser.new_context(viewport=PHONE, device_scale_factor=2).new_page()

        ada.goto(f"{server}/")
        shot(ada, "core-01-welcome")
        ada.keyboard.press("Tab")
        assert ada.evaluate("document.activeElement.textContent") == "Skip to content"
        ada.goto(f"{server}/signup")
        shot(ada, "core-02-signup")
        sign_up(ada, "ada@example.org", "Ada")
        expect(ada.locator("h1")).to_have_text("Hello, Ada")
        shot(ada, "core-03-home")

        ada.goto(f"{server}/relationships/new")
        ada.select_option("#type", "romantic_partner")
        ada.fill("#name", "Ada and Ben")
        ada.click("form[action='/relationships'] button[type=submit]")
        ada.click("form[action$='/invitations'] button[type=submit]")
        shown = ada.input_value("#invite-link")
        # The link is built from base_url (the live server's port is chosen at random).
        token = re.fullmatch(r"http://127\.0\.0\.1/join/([\w-]+)", shown)
        assert token is not None
        link = f"{server}/join/{token.group(1)}"
        expect(ada.locator("figure.qr svg")).to_be_visible()
        shot(ada, "core-04-invitation")

        ben.goto(link)
        expect(ben.locator("h1")).to_have_text("Ada invites you")
        shot(ben, "core-05-join")
        ben.click("text=Create an account to join")
        sign_up(ben, "ben@example.org", "Ben")
        ben.wait_for_url(link)
        ben.click("form[action^='/join/'] button[type=submit]")
        expect(ben.locator("h1")).to_have_text("Ada and Ben")
        expect(ben.locator("text=Ada").first).to_be_visible()

        ada.goto(f"{server}/diary/new")
        ada.check("input[name=channel][value=phone]")
        ada.check("input[name=duration_minutes][value='20']")
        rate(ada, {1: 5, 2: 6, 3: 6, 4: 5, 5: 7, 6: 6, 7: 7, 8: 6})
        ada.fill("#note", "He really listened tonight.")
        shot(ada, "core-06-diary-form")
        ada.click("form[action='/diary'] button[type=submit]")
        expect(ada.locator("text=Not recorded yet")).to_be_visible()
        ada_entry = ada.url

        ben.goto(f"{server}/diary")
        shot(ben, "core-07-diary-pending")
        ben.click("text=Add my view")
        expect(ben.locator("h1")).to_have_text("Your view of the phone call")
        rate(ben, {1: 4, 5: 5, 8: 5})
        ben.click("form[action='/diary'] button[type=submit]")
        expect(ben.locator("table.compare th[scope=col]", has_text="Ada")).to_be_visible()
        expect(ben.locator("text=He really listened tonight.")).to_have_count(0)

        ada.goto(ada_entry)
        expect(ada.locator("table.compare th[scope=col]", has_text="Ben")).to_be_visible()
        shot(ada, "core-08-diary-revealed")

        ada.goto(f"{server}/checkins/new")
        shot(ada, "core-09-checkin-form")
        for item, value in {1: 4, 2: 5, 3: 4, 4: 5, 5: 4}.items():
            ada.check(f"input[name=eis_{item}][value='{value}']")
        ada.click("form[action='/checkins/eis'] button[type=submit]")
        expect(ada.locator("text=22 on a range of 5 to 25")).to_be_visible()
        shot(ada, "core-10-checkin-result")

        ada.goto(f"{server}/account")
        shot(ada, "core-11-account")
        browser.close()
