"""The main navigation on a 390 px phone and a wide screen: every link visible, nothing cut off."""

from __future__ import annotations

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
from tests.web.test_navigation import FEATURES

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_every_link_of_the_navigation_is_visible_on_a_phone_and_a_wide_screen(
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with serving(create_app(live_settings(tmp_path))) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS
        )
        try:
            for name, viewport, most_rows in (
                ("phone", PHONE, 3),
                ("tablet", {"width": 820, "height": 1000}, 1),
                ("window", {"width": 700, "height": 900}, 2),
                ("wide", {"width": 1200, "height": 800}, 1),
            ):
                page = browser.new_context(viewport=viewport).new_page()
                sign_up(page, base, f"{name}@example.org", name.title())
                page.goto(f"{base}/practices")
                nav = page.get_by_role("navigation", name="Main")
                links = nav.get_by_role("link")
                expect(links).to_have_count(len(FEATURES))
                tops = set()
                for i in range(links.count()):
                    box = links.nth(i).bounding_box()
                    assert box is not None
                    assert box["x"] >= 0
                    assert box["x"] + box["width"] <= viewport["width"]
                    assert box["height"] >= 30  # a target a thumb can hit
                    tops.add(round(box["y"]))
                assert len(tops) <= most_rows, f"{name}: the links take {len(tops)} rows"
                expect(nav.locator("a[aria-current=page]")).to_have_text("Practices")
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow == 0
                shot(page, f"20-navigation-{name}")
                page.context.close()
        finally:
            browser.close()
