"""A study from start to withdrawal on two phone-sized Chromium contexts: the researcher creates
it with the form, the participant opens the enrollment link and agrees, the researcher sees the
code (never the name), the participant withdraws; no page is wider than the phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from attunement.store.studies import set_researcher
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


def _overflow(page: object) -> int:
    return int(
        page.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def test_a_study_from_creation_to_withdrawal_on_two_phones(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = create_app(live_settings(tmp_path))
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS
        )
        try:
            rita = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
            ben = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
            sign_up(rita, base, "rita@uni.example", "Rita")
            sign_up(ben, base, "ben@example.org", "Ben")
            with app.state.session_factory() as db:
                set_researcher(db, "rita@uni.example")
                db.commit()

            rita.goto(f"{base}/studies/new")
            assert _overflow(rita) == 0
            rita.fill("#title", "Evenings together")
            rita.check("#instrument_interaction")
            rita.select_option("#schedule_interaction", "every")
            rita.fill("#days_interaction", "1")
            rita.fill("#consent_text", "We study evenings. You may stop at any time.")
            rita.fill("#consent_version", "1.0")
            rita.click("form[action='/studies'] button[type=submit]")
            expect(rita.locator("h1")).to_have_text("Evenings together")
            link = rita.locator("#enroll-link").input_value()
            assert "/enroll/" in link
            assert _overflow(rita) == 0

            ben.goto(base + link[link.index("/enroll/") :])  # the test server's port
            expect(ben.locator("#consent-heading")).to_have_text("Consent (version 1.0)")
            ben.click("form[action^='/enroll/'] button[type=submit]")  # not ticked yet
            assert ben.evaluate("document.querySelector('#agree').validity.valueMissing")
            ben.check("#agree")
            ben.check("#remind")  # optional reminders of the daily diary
            ben.fill("#remind_at", "21:00")
            assert _overflow(ben) == 0
            shot(ben, "19-enroll-with-reminders")
            ben.click("form[action^='/enroll/'] button[type=submit]")
            expect(ben.locator(".alert.ok")).to_contain_text("You take part as P")
            expect(ben.locator(".alert.ok")).to_contain_text("Reminders are on at 21:00")
            code = ben.locator(".alert.ok").inner_text().split("as ", 1)[1].split(";")[0]
            assert _overflow(ben) == 0
            shot(ben, "20-studies-participant")

            # The team revises the consent text; Ben reads it and agrees to it on his phone.
            rita.locator("section[aria-labelledby=consent-heading] summary").click()
            rita.locator("#consent_text").fill("We study evenings and, from now on, mornings.")
            rita.fill("#consent_version", "2.0")
            rita.click("form[action$='/consent'] button[type=submit]")
            ben.reload()
            notice = ben.locator(".alert", has_text="changed the consent text")
            expect(notice).to_be_visible()
            notice.locator("summary").click()
            expect(notice).to_contain_text("from now on, mornings")
            assert _overflow(ben) == 0
            shot(ben, "20b-consent-revised")
            notice.locator("input[type=checkbox]").check()
            notice.locator("button[type=submit]").click()
            expect(ben.locator(".alert.ok")).to_contain_text("under the new consent text")
            expect(ben.locator("main")).to_contain_text("consent version 2.0")

            rita.reload()
            table = rita.locator("table.compliance")
            expect(table).to_contain_text(code)
            assert "Ben" not in rita.locator("main").inner_text()
            assert _overflow(rita) == 0
            shot(rita, "21-study-researcher")

            ben.click("form[action$='/withdraw'] button")
            expect(ben.locator(".alert.ok")).to_contain_text("You have withdrawn")
            rita.reload()
            expect(rita.locator("main")).to_contain_text("Nobody is taking part at the moment")
            expect(rita.locator("main")).not_to_contain_text(code)
        finally:
            browser.close()
