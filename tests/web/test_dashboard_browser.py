"""The dashboard and the practices page in a phone-sized Chromium: readable, nothing cut off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from attunement.store.models import Membership, Person
from attunement.store.records import add_measurement, create_relationship, record_interaction
from attunement.web import create_app
from tests.web.test_closeness_browser import (
    CHROMIUM_FLAGS,
    PHONE,
    live_settings,
    serving,
    shot,
    sign_up,
)
from tests.web.test_dashboard_web import eis, interaction

pytestmark = [pytest.mark.browser, pytest.mark.slow]

T0 = datetime(2026, 1, 5, 19, 0, tzinfo=UTC)


def _fill(app: object) -> int:
    factory = app.state.session_factory  # type: ignore[attr-defined]
    with factory() as db:
        people = dict(db.execute(sa.select(Person.email, Person.id)).all())
        ada, ben = people["ada@example.org"], people["ben@example.org"]
        rel = create_relationship(db, ada, "romantic_partner", "partner", name="Ada and Ben")
        db.add(Membership(relationship_id=rel.id, person_id=ben, role="partner"))
        db.flush()
        for day in range(10):
            sd, resp = 3 + day % 4, 2 + (day * 3) % 5
            mine = record_interaction(
                db,
                ada,
                rel.id,
                interaction(sd, 4, resp, min(7, 1 + (sd + resp) // 2)),
                channel="in_person",
                occurred_at=T0 + timedelta(days=day),
                shared=True,
            )
            record_interaction(
                db,
                ben,
                rel.id,
                interaction(2 + day % 5, sd, 3 + day % 4, 3 + day % 3),
                channel="in_person",
                occurred_at=T0 + timedelta(days=day),
                shared=True,
                responds_to=mine.id,
            )
        for week in range(6):
            for person, other, item in ((ada, ben, 3 + week % 3), (ben, ada, 4)):
                add_measurement(
                    db,
                    person,
                    "eis",
                    eis(item),
                    taken_at=T0 + timedelta(weeks=week),
                    relationship_id=rel.id,
                    about_person_id=other,
                    shared=True,
                )
        db.commit()
        return int(rel.id)


def test_dashboard_and_practices_fit_a_phone(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = create_app(live_settings(tmp_path))
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS
        )
        try:
            ada = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
            ben = browser.new_context(viewport=PHONE, is_mobile=True)
            page, other = ada.new_page(), ben.new_page()
            sign_up(page, base, "ada@example.org", "Ada")
            sign_up(other, base, "ben@example.org", "Ben")
            rel = _fill(app)

            page.goto(f"{base}/dashboard/{rel}")
            expect(page.locator("h1")).to_have_text("Ada and Ben")
            charts = page.locator(".chart svg")
            expect(charts).to_have_count(5)
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None
                assert box["width"] <= PHONE["width"]
                assert box["width"] > 250  # uses the screen, not a thumbnail
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow == 0
            page.locator(".suggestions summary").first.click()
            expect(page.locator(".suggestions .evidence").first).to_be_visible()
            shot(page, "10-dashboard")

            page.goto(f"{base}/practices")
            page.click("#practice-appreciation summary")
            page.select_option("#what", "check_in")
            page.check("input[name=frequency][value=weekly]")
            page.check("input[name=weekdays][value=SU]")
            page.fill("#time_of_day", "19:30")
            page.fill("#timezone", "Europe/Berlin")
            page.click("form[action='/practices/reminders'] button[type=submit]")
            expect(page.locator("#reminders")).to_contain_text("every Sunday at 19:30")
            page.click("form[action='/practices/feed'] button")
            link = page.locator("#feed-url").input_value()
            assert link.endswith(".ics")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow == 0
            shot(page, "11-practices")
        finally:
            browser.close()
