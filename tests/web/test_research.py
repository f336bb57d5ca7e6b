"""Research studies through HTTP: creating a study, enrolling with consent, withdrawing in one
step, compliance, exports, the audit log, and every refusal (another researcher, a
participant, a stranger, a forged post), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, time, timedelta
from typing import Any

import icalendar
import pandas as pd
import pyreadstat
import pytest
import sqlalchemy as sa
from dateutil.rrule import rrulestr
from fastapi import FastAPI
from fastapi.testclient import TestClient

from attunement.store import records
from attunement.store.models import AuditAction, AuditEvent, Consent, Study
from attunement.store.studies import set_researcher
from attunement.web.research import EXPORT_FILES
from tests.web.people import WebPerson, pair

SWLS = {f"swls_{n}": "5" for n in range(1, 6)}
STUDY_FORM = {
    "title": "Daily closeness",
    "description": "Three weeks of short diaries.",
    "instrument_swls": "on",
    "schedule_swls": "every",
    "days_swls": "7",
    "instrument_interaction": "on",
    "schedule_interaction": "every",
    "days_interaction": "1",
    "instrument_eis": "on",
    "schedule_eis": "free",
    "consent_text": "We are a research team. We collect your answers under a code.",
    "consent_version": "2026-1",
}


def make_researcher(app: FastAPI, email: str) -> None:
    with app.state.session_factory() as db:
        set_researcher(db, email)
        db.commit()


@pytest.fixture
def rita(app: FastAPI, web: WebPerson) -> WebPerson:
    """Ada, made a researcher (as `attunement researcher grant` does)."""
    make_researcher(app, web.email)
    return web


@pytest.fixture
def cleo(app: FastAPI, client: TestClient) -> Iterator[WebPerson]:
    """A third person with her own cookies."""
    with TestClient(app) as third:
        yield WebPerson.sign_up(third, "cleo@example.org", "Cleo")


def create_study(person: WebPerson, **fields: str) -> int:
    response = person.post("/studies", {**STUDY_FORM, **fields})
    assert response.status_code == 303, response.text[:2000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def code_of(person: WebPerson, study_id: int) -> str:
    found = re.search(r"/enroll/([A-Z0-9]+)", person.get(f"/studies/{study_id}").text)
    assert found is not None
    return found.group(1)


def enroll(person: WebPerson, code: str, version: str = "2026-1") -> str:
    response = person.post(f"/enroll/{code}", {"consent_version": version, "agree": "on"})
    assert response.status_code == 303, response.text[:2000]
    found = re.search(r"you are (P[A-Z0-9]+)", person.get("/studies").text)
    assert found is not None
    return found.group(1)


def audit(app: FastAPI, action: AuditAction) -> list[AuditEvent]:
    with app.state.session_factory() as db:
        return list(
            db.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def main_of(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


# -- creating a study ---------------------------------------------------------------------------


def test_a_person_who_is_not_a_researcher_cannot_create_studies(web: WebPerson) -> None:
    page = web.get("/studies")
    assert page.status_code == 200
    assert "attunement researcher grant" in page.text
    assert 'href="/studies/new"' not in page.text
    assert web.get("/studies/new").status_code == 403
    assert web.post("/studies", STUDY_FORM).status_code == 403
    refused = web.api("POST", "/api/studies", {"title": "x", "consent_text": "c"})
    assert refused.status_code in (403, 422)
    body = {**STUDY_FORM, "instruments": ["eis"], "schedule": {}}
    refused = web.api("POST", "/api/studies", body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_a_researcher_creates_a_study_and_sees_its_enrollment_link(
    rita: WebPerson, app: FastAPI
) -> None:
    study_id = create_study(rita)
    page = rita.get(f"/studies/{study_id}")
    assert page.status_code == 200
    html = page.text
    assert "The study is ready. Share its enrollment link." in html
    assert re.search(r'value="http://testserver/enroll/[A-Z0-9]{8}"', html)
    assert re.search(
        r'<svg viewBox="0 0 \d+ \d+" class="segno"><title>QR code of the enrollment link', html
    )
    assert "Satisfaction With Life Scale" in html
    assert "every 7 days" in html
    assert "every day" in html
    assert "when the participant chooses" in html
    assert "Nobody has joined yet" in html
    with app.state.session_factory() as db:
        study = db.get_one(Study, study_id)
        assert study.instruments == ["eis", "interaction", "swls"]
        assert study.schedule == {"swls": {"every_days": 7}, "interaction": {"every_days": 1}}
        assert study.consent_version == "2026-1"
    reads = audit(app, AuditAction.RESEARCHER_READ)
    assert [(event.study_id, event.details["view"]) for event in reads] == [
        (study_id, "compliance")
    ]
    assert "Daily closeness" in rita.get("/studies").text


def test_study_form_errors_are_shown_next_to_their_fields(rita: WebPerson) -> None:
    response = rita.post(
        "/studies",
        {
            "title": "",
            "instrument_swls": "on",
            "schedule_swls": "every",
            "days_swls": "0",
            "instrument_eis": "on",
            "schedule_eis": "once",
            "days_eis": "soon",
            "consent_text": "",
            "consent_version": "1",
        },
    )
    assert response.status_code == 422
    assert 'id="days_swls-error"' in response.text
    assert 'id="days_eis-error"' in response.text
    assert 'value="soon"' in response.text  # what was typed stays
    nothing = rita.post("/studies", {"title": "T", "consent_text": "c", "consent_version": "1"})
    assert nothing.status_code == 422
    assert 'id="instruments-error"' in nothing.text
    missing = rita.post("/studies", {**STUDY_FORM, "title": " ", "consent_text": ""})
    assert missing.status_code == 422
    assert 'id="title-error"' in missing.text
    assert 'id="consent_text-error"' in missing.text
    assert rita.get("/studies").text.count('href="/studies/') == 1  # only /studies/new


def test_a_new_study_can_start_from_an_existing_one(rita: WebPerson) -> None:
    study_id = create_study(rita)
    page = rita.get(f"/studies/new?like={study_id}").text
    assert 'value="Daily closeness (copy)"' in page
    assert re.search(r'name="days_swls"[^>]*value="7"', page)
    assert re.search(
        r'id="instrument_interaction" name="instrument_interaction" value="on" checked', page
    )


# -- enrolling, withdrawing ---------------------------------------------------------------------


def test_anyone_with_the_link_reads_the_consent_text_before_signing_in(
    rita: WebPerson, app: FastAPI
) -> None:
    code = code_of(rita, create_study(rita))
    with TestClient(app) as visitor:
        page = visitor.get(f"/enroll/{code.lower()}")
        assert page.status_code == 200
        assert "We are a research team." in page.text
        assert "Consent (version 2026-1)" in page.text
        assert f'href="/signup?next=/enroll/{code}"' in page.text
        assert 'name="agree"' not in page.text
        preview = visitor.get(f"/api/enroll/{code}").json()
        assert preview["consent_version"] == "2026-1"
        assert preview["researcher"] == "Ada"
        assert [i["instrument_id"] for i in preview["instruments"]] == [
            "eis",
            "interaction",
            "swls",
        ]
        typed = visitor.get(f"/enroll?code={code.lower()}", follow_redirects=False)
        assert typed.headers["location"] == f"/enroll/{code}"
        assert visitor.get("/enroll/NOSUCHCODE").status_code == 404
        assert visitor.get("/api/enroll/NOSUCHCODE").json()["error"]["code"] == "not_found"


def test_enrolling_needs_the_tick_and_the_current_consent_version(
    rita: WebPerson, other_web: WebPerson, app: FastAPI
) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    unticked = other_web.post(f"/enroll/{code}", {"consent_version": "2026-1"})
    assert unticked.status_code == 422
    assert 'id="agree-error"' in unticked.text
    stale = other_web.post(f"/enroll/{code}", {"consent_version": "2025-9", "agree": "on"})
    assert stale.status_code == 409
    with app.state.session_factory() as db:
        assert db.scalar(sa.select(sa.func.count(Consent.id))) == 0
    participant = enroll(other_web, code)
    mine = main_of(other_web.get("/studies").text)
    assert (
        '<a href="/checkins/new?instrument=swls">SWLS</a>: every 7 days · <strong>next by' in mine
    )
    assert '<a href="/diary/new">Diary</a>: every day · <strong>next by' in mine
    assert other_web.post("/checkins/swls", SWLS).status_code == 303
    mine = main_of(other_web.get("/studies").text)
    assert "SWLS</a>: every 7 days · done for now ✓" in mine
    again = other_web.get(f"/enroll/{code}").text
    assert f"You take part in this study as {participant}" in again
    twice = other_web.post(f"/enroll/{code}", {"consent_version": "2026-1", "agree": "on"})
    assert twice.status_code == 409


def test_the_researcher_sees_codes_never_names(
    rita: WebPerson, other_web: WebPerson, cleo: WebPerson
) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    ben = enroll(other_web, code)
    cleo_code = enroll(cleo, code)
    page = main_of(rita.get(f"/studies/{study_id}").text)
    assert ben in page
    assert cleo_code in page
    for private in ("Ben", "Cleo", "ben@example.org", "cleo@example.org"):
        assert private not in page
    listed = rita.api("GET", f"/api/studies/{study_id}/participants").json()
    assert sorted(p["participant_code"] for p in listed) == sorted([ben, cleo_code])
    assert all(set(p) == {"participant_code", "consent_version", "given_at"} for p in listed)


def test_withdrawing_is_one_step_and_removes_the_person_from_later_exports(
    rita: WebPerson, other_web: WebPerson, cleo: WebPerson, app: FastAPI
) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    ben = enroll(other_web, code)
    cleo_code = enroll(cleo, code)
    for person in (other_web, cleo):
        assert person.post("/checkins/swls", SWLS).status_code == 303
    before = pd.read_csv(io.BytesIO(rita.get(f"/studies/{study_id}/export/long.csv").content))
    assert sorted(before["participant_id"]) == sorted([ben, cleo_code])

    response = other_web.post(f"/studies/{study_id}/withdraw")
    assert response.status_code == 303
    assert "You have withdrawn" in other_web.get("/studies").text
    assert "you are P" not in other_web.get("/studies").text

    after = pd.read_csv(io.BytesIO(rita.get(f"/studies/{study_id}/export/long.csv").content))
    assert list(after["participant_id"]) == [cleo_code]
    page = main_of(rita.get(f"/studies/{study_id}").text)
    assert ben not in page
    assert "1</strong> withdrawn" in page
    listed = rita.api("GET", f"/api/studies/{study_id}/participants").json()
    assert [p["participant_code"] for p in listed] == [cleo_code]
    compliance = rita.api("GET", f"/api/studies/{study_id}/compliance").json()
    assert {row["participant_code"] for row in compliance} == {cleo_code}
    # Withdrawing again: nothing to withdraw.
    assert other_web.post(f"/studies/{study_id}/withdraw").status_code == 404
    assert [e.study_id for e in audit(app, AuditAction.CONSENT_WITHDRAWN)] == [study_id]


def test_a_participant_may_ask_for_reminders_of_the_study_and_withdrawing_stops_them(
    app: FastAPI, rita: WebPerson, other_web: WebPerson
) -> None:
    from attunement.store.models import ReminderSchedule

    def reminders() -> list[tuple[str, str, str | None, str, int | None]]:
        with app.state.session_factory() as db:
            return [
                (r.what, str(r.frequency), r.weekdays, r.time_of_day.strftime("%H:%M"), r.study_id)
                for r in db.scalars(sa.select(ReminderSchedule).order_by(ReminderSchedule.what))
            ]

    study_id = create_study(rita)
    code = code_of(rita, study_id)
    page = other_web.get(f"/enroll/{code}").text
    assert "Remind me by email" in page  # offered, not ticked
    assert 'id="remind" name="remind" value="on">' in page

    bad = other_web.post(
        f"/enroll/{code}",
        {"consent_version": "2026-1", "agree": "on", "remind": "on", "remind_at": "25:99"},
    )
    assert bad.status_code == 422
    assert 'id="remind_at-error"' in bad.text
    assert "you are P" not in other_web.get("/studies").text  # nothing stored
    assert reminders() == []

    joined = other_web.post(
        f"/enroll/{code}",
        {"consent_version": "2026-1", "agree": "on", "remind": "on", "remind_at": "08:30"},
    )
    assert joined.status_code == 303
    assert "Reminders are on at 08:30" in other_web.get("/studies").text
    found = reminders()
    # The daily diary every day, SWLS every 7 days (weekly), the free EIS none.
    assert [(what, freq, at, sid) for what, freq, _days, at, sid in found] == [
        ("interaction", "daily", "08:30", study_id),
        ("swls", "weekly", "08:30", study_id),
    ]
    assert found[1][2] in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    assert "08:30" in other_web.get("/practices").text

    assert other_web.post(f"/studies/{study_id}/withdraw").status_code == 303
    assert reminders() == []
    # Reminders asked for because of a study also end when the study is deleted.
    enroll(other_web, code)
    with app.state.session_factory() as db:
        records.remind_of_study(
            db, other_web_id(app), study_id, time_of_day=time(9, 0), timezone="Europe/Vienna"
        )
        db.commit()
    assert len(reminders()) == 2
    deleted = rita.post(f"/studies/{study_id}/delete", {"confirm_title": STUDY_FORM["title"]})
    assert deleted.status_code == 303
    assert reminders() == []


def test_instruments_due_every_few_days_get_reminders_every_few_days(
    app: FastAPI, rita: WebPerson, other_web: WebPerson
) -> None:
    from attunement.practices import due_occurrence, occurrences, rule_of
    from attunement.store.models import ReminderSchedule

    study_id = create_study(rita, days_swls="3", days_interaction="14")
    code = code_of(rita, study_id)
    page = other_web.get(f"/enroll/{code}").text
    assert "every 3 days" in page
    assert "every 14 days" in page
    joined = other_web.post(
        f"/enroll/{code}",
        {"consent_version": "2026-1", "agree": "on", "remind": "on", "remind_at": "19:00"},
    )
    assert joined.status_code == 303
    with app.state.session_factory() as db:
        found = {r.what: r for r in db.scalars(sa.select(ReminderSchedule))}
        assert {what: (str(r.frequency), r.every_days) for what, r in found.items()} == {
            "interaction": ("daily", 14),
            "swls": ("daily", 3),
        }
        swls = found["swls"]
        rule = rule_of(swls)
        made = swls.created_at
    practices = other_web.get("/practices").text
    assert "every 3 days" in practices
    assert "every 14 days" in practices
    # By email: the evening they join (if 19:00 is still to come), then every third evening.
    first_day = made.astimezone(rule.zone).date()
    sent = []
    since = made
    for hour in range(24 * 10):
        now = made + timedelta(hours=hour)
        due = due_occurrence(rule, now, since=since)
        if due is not None:
            sent.append(due)
            since = due
    days = sorted({(t.astimezone(rule.zone).date() - first_day).days for t in sent})
    assert len(days) >= 3
    assert all(day % 3 == 0 for day in days)
    # The calendar feed says the same: every third day from the day they joined.
    made_feed = re.search(
        r'value="http://testserver(/practices/feed/[^"]+\.ics)"',
        other_web.post("/practices/feed").text,
    )
    assert made_feed is not None
    calendar = icalendar.Calendar.from_ical(other_web.client.get(made_feed.group(1)).text)
    event = next(e for e in calendar.walk("VEVENT") if e["RRULE"]["INTERVAL"] == [3])
    assert event["RRULE"]["FREQ"] == ["DAILY"]
    assert event["DTSTART"].dt.date() == first_day
    expanded = rrulestr(event["RRULE"].to_ical().decode(), dtstart=event["DTSTART"].dt)
    window_end = made + timedelta(days=10)
    assert [t.astimezone(UTC) for t in expanded.between(made, window_end)] == occurrences(
        rule, made, window_end
    )


def other_web_id(app: FastAPI) -> int:
    from attunement.store.models import Person

    with app.state.session_factory() as db:
        return db.scalars(sa.select(Person.id).where(Person.email == "ben@example.org")).one()


def test_no_reminders_unless_asked(
    app: FastAPI, rita: WebPerson, other_web: WebPerson, cleo: WebPerson
) -> None:
    from attunement.store.models import ReminderSchedule

    code = code_of(rita, create_study(rita))
    enroll(other_web, code)
    with app.state.session_factory() as db:
        assert db.scalar(sa.select(sa.func.count(ReminderSchedule.id))) == 0
    joined = cleo.api(
        "POST", f"/api/enroll/{code}", {"consent_version": "2026-1", "remind_at": "07:15"}
    )
    assert joined.status_code == 201, joined.text
    with app.state.session_factory() as db:
        times = db.scalars(sa.select(ReminderSchedule.time_of_day)).all()
    assert sorted(t.strftime("%H:%M") for t in times) == ["07:15", "07:15"]


def test_withdrawing_through_the_api(rita: WebPerson, other_web: WebPerson) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    given = other_web.api("POST", f"/api/enroll/{code}", {"consent_version": "2026-1"})
    assert given.status_code == 201
    assert given.json()["participant_code"].startswith("P")
    joined = other_web.api("GET", "/api/studies").json()
    assert [j["study_id"] for j in joined["joined"]] == [study_id]
    assert joined["owned"] == []
    withdrawn = other_web.api("POST", f"/api/studies/{study_id}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["study_id"] == study_id
    assert other_web.api("GET", "/api/studies").json()["joined"] == []
    assert rita.api("GET", f"/api/studies/{study_id}/participants").json() == []


# -- compliance -----------------------------------------------------------------------------------


def test_compliance_shows_who_is_behind(
    rita: WebPerson, other_web: WebPerson, cleo: WebPerson, app: FastAPI
) -> None:
    study_id = create_study(rita, instrument_interaction="", instrument_eis="")
    code = code_of(rita, study_id)
    ben = enroll(other_web, code)
    cleo_code = enroll(cleo, code)
    with app.state.session_factory() as db:  # both joined 15 days ago: 2 weekly windows closed
        for consent in db.scalars(sa.select(Consent)):
            consent.given_at = consent.given_at - timedelta(days=15)
        db.commit()
    assert other_web.post("/checkins/swls", SWLS).status_code == 303  # in the open window
    rows = {
        row["participant_code"]: row
        for row in rita.api("GET", f"/api/studies/{study_id}/compliance").json()
    }
    assert (rows[ben]["windows_due"], rows[ben]["windows_done"]) == (2, 0)
    assert rows[ben]["current_window_done"] is True
    assert rows[ben]["records"] == 1
    assert (rows[cleo_code]["windows_missed"], rows[cleo_code]["compliance"]) == (2, 0.0)
    page = main_of(rita.get(f"/studies/{study_id}").text)
    assert "<strong>2</strong> behind schedule" in page
    assert page.count("behind, 2 missed") == 2
    assert re.search(r"0/2 <span aria-label=\"current window done\"", page)
    table = pd.read_csv(io.BytesIO(rita.get(f"/studies/{study_id}/compliance.csv").content))
    assert sorted(table["participant_code"]) == sorted([ben, cleo_code])
    assert table["windows_missed"].tolist() == [2, 2]
    assert other_web.get(f"/studies/{study_id}/compliance.csv").status_code == 403


# -- exports ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_export_file_downloads_and_is_audited(
    rita: WebPerson, other_web: WebPerson, cleo: WebPerson, app: FastAPI
) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    ben = enroll(other_web, code)
    cleo_code = enroll(cleo, code)
    relationship = pair(other_web, cleo)
    form = {f"interaction_{n}": str(n % 7 + 1) for n in range(1, 9)}
    form.update({"channel": "in_person", "duration_minutes": "20"})
    form["relationship_id"] = str(relationship)
    assert other_web.post("/diary", form).status_code == 303
    assert other_web.post("/checkins/swls", SWLS).status_code == 303
    downloads: dict[str, bytes] = {}
    for name, spec in EXPORT_FILES.items():
        response = rita.get(f"/studies/{study_id}/export/{name}")
        assert response.status_code == 200, (name, response.text[:500])
        assert response.headers["content-type"].split(";")[0] == spec.media_type.split(";")[0]
        assert "attachment" in response.headers["content-disposition"]
        assert response.headers["cache-control"] == "no-store"
        downloads[name] = response.content
    long = pd.read_csv(io.BytesIO(downloads["long.csv"]))
    assert list(long["participant_id"]) == [ben, ben]
    assert sorted(long["record_type"]) == ["interaction", "measurement"]
    assert set(long["partner_id"].dropna()) == {cleo_code}  # the diary record is about Cleo
    assert long["swls_total"].dropna().tolist() == [25]
    parquet = pd.read_parquet(io.BytesIO(downloads["long.parquet"]))
    assert list(parquet["participant_id"]) == list(long["participant_id"])
    sav_path = app.state.settings.data_dir / "long.sav"
    sav_path.write_bytes(downloads["long.sav"])
    frame, meta = pyreadstat.read_sav(str(sav_path))
    assert len(frame) == len(long)
    assert "participant_id" in meta.column_names
    codebook = json.loads(downloads["codebook.json"])
    assert (codebook["study_id"], codebook["participants"]) == (study_id, 2)
    assert codebook["rows"]["long"] == 2
    dyads = pd.read_csv(io.BytesIO(downloads["dyad_interactions.csv"]))
    assert len(dyads) == 1
    assert {dyads.loc[0, "participant_a"], dyads.loc[0, "participant_b"]} == {ben, cleo_code}
    assert "participant_id" in downloads["codebook.md"].decode()
    with zipfile.ZipFile(io.BytesIO(downloads["all.zip"])) as archive:
        names = archive.namelist()
    assert f"study_{study_id}_dyad_interactions.sav" in names
    assert f"study_{study_id}_codebook.md" in names
    exports = audit(app, AuditAction.EXPORT)
    assert len(exports) == len(EXPORT_FILES)
    assert {e.actor_id for e in exports} == {exports[0].actor_id}
    assert all(e.study_id == study_id for e in exports)
    for everything in downloads.values():
        for private in (b"Ben", b"Cleo", b"ben@example.org", b"cleo@example.org"):
            assert private not in everything
    api = rita.get(f"/api/studies/{study_id}/export/long.csv")
    assert api.status_code == 200
    assert api.content == downloads["long.csv"]
    unknown = rita.get(f"/api/studies/{study_id}/export/long.xlsx")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


# -- who may do what ------------------------------------------------------------------------------


def _study_addresses(study_id: int) -> list[str]:
    return [
        f"/studies/{study_id}",
        f"/studies/{study_id}/export/long.csv",
        f"/studies/{study_id}/export/all.zip",
        f"/studies/new?like={study_id}",
    ]


def _api_addresses(study_id: int) -> list[str]:
    return [
        f"/api/studies/{study_id}",
        f"/api/studies/{study_id}/participants",
        f"/api/studies/{study_id}/compliance",
        f"/api/studies/{study_id}/export/codebook.json",
    ]


def test_another_researcher_and_a_participant_see_nothing_of_the_study(
    rita: WebPerson, other_web: WebPerson, cleo: WebPerson, app: FastAPI
) -> None:
    study_id = create_study(rita)
    enroll(other_web, code_of(rita, study_id))
    make_researcher(app, cleo.email)  # Cleo runs studies of her own
    create_study(cleo, title="Cleo's study")
    before = len(audit(app, AuditAction.RESEARCHER_READ)) + len(audit(app, AuditAction.EXPORT))
    for person in (other_web, cleo):
        for address in _study_addresses(study_id):
            response = person.get(address)
            assert response.status_code == 403, (person.name, address)
            assert "Daily closeness" not in response.text
        for address in _api_addresses(study_id):
            response = person.api("GET", address)
            assert response.status_code == 403, (person.name, address)
            assert response.json()["error"]["code"] == "permission_denied"
        assert person.post(f"/studies/{study_id}/close").status_code == 403
        assert person.api("POST", f"/api/studies/{study_id}/close").status_code == 403
        changed = person.api(
            "POST",
            f"/api/studies/{study_id}/consent",
            {"consent_text": "x", "consent_version": "9"},
        )
        assert changed.status_code == 403
    after = len(audit(app, AuditAction.RESEARCHER_READ)) + len(audit(app, AuditAction.EXPORT))
    assert after == before  # refused reads leave no trace of data read
    assert rita.get(f"/studies/{study_id + 100}").status_code == 404
    assert rita.api("GET", f"/api/studies/{study_id + 100}").status_code == 404
    with app.state.session_factory() as db:
        study = db.get_one(Study, study_id)
        assert study.closed_at is None
        assert study.consent_version == "2026-1"


def test_not_signed_in_is_sent_to_sign_in_or_told_in_json(rita: WebPerson, app: FastAPI) -> None:
    study_id = create_study(rita)
    with TestClient(app) as visitor:
        page = visitor.get(f"/studies/{study_id}", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/signin?next=")
        api = visitor.get(f"/api/studies/{study_id}/compliance")
        assert api.status_code == 401
        assert api.json()["error"]["code"] == "not_signed_in"


def test_forged_posts_are_refused(rita: WebPerson, other_web: WebPerson, app: FastAPI) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    client = other_web.client
    forged = client.post(
        f"/enroll/{code}", data={"consent_version": "2026-1", "agree": "on"}, follow_redirects=False
    )
    assert forged.status_code == 403
    forged_api = client.post(f"/api/enroll/{code}", json={"consent_version": "2026-1"})
    assert forged_api.status_code == 403
    assert forged_api.json()["error"]["code"] == "csrf_failed"
    with app.state.session_factory() as db:
        assert db.scalar(sa.select(sa.func.count(Consent.id))) == 0
    enroll(other_web, code)
    assert client.post(f"/studies/{study_id}/withdraw", follow_redirects=False).status_code == 403
    assert client.post(f"/api/studies/{study_id}/withdraw").status_code == 403
    assert rita.client.post(f"/studies/{study_id}/close").status_code == 403
    wrong_token = rita.client.post(
        "/studies", data={**STUDY_FORM, "csrf_token": "not-the-token"}, follow_redirects=False
    )
    assert wrong_token.status_code == 403
    with app.state.session_factory() as db:
        assert (
            db.scalar(sa.select(sa.func.count(Consent.id)).where(Consent.withdrawn_at.is_(None)))
            == 1
        )
        assert db.scalar(sa.select(sa.func.count(Study.id))) == 1
        assert db.get_one(Study, study_id).closed_at is None


# -- the researcher's other actions ---------------------------------------------------------------


def test_a_new_consent_version_applies_to_new_participants(
    rita: WebPerson, other_web: WebPerson, cleo: WebPerson
) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    ben = enroll(other_web, code)
    same = rita.post(
        f"/studies/{study_id}/consent", {"consent_text": "New text", "consent_version": "2026-1"}
    )
    assert same.status_code == 422
    assert 'id="consent_version-error"' in same.text
    changed = rita.post(
        f"/studies/{study_id}/consent", {"consent_text": "New text", "consent_version": "2026-2"}
    )
    assert changed.status_code == 303
    assert "New text" in cleo.get(f"/enroll/{code}").text
    stale = cleo.post(f"/enroll/{code}", {"consent_version": "2026-1", "agree": "on"})
    assert stale.status_code == 409
    enroll(cleo, code, "2026-2")
    page = main_of(rita.get(f"/studies/{study_id}").text)
    assert re.search(rf"{ben}</code> <span[^>]*>v2026-1</span>", page)


def test_a_participant_reads_a_revised_consent_and_chooses(
    app: FastAPI, rita: WebPerson, other_web: WebPerson, cleo: WebPerson
) -> None:
    """After a revision, each participant is shown the new text and may agree to it (or
    withdraw); nothing changes until they act, and agreeing is recorded for the audit."""
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    ben_code = enroll(other_web, code)
    enroll(cleo, code)
    assert "changed the consent text" not in other_web.get("/studies").text
    rita.post(
        f"/studies/{study_id}/consent",
        {"consent_text": "Second text.\nWe now also ask about sleep.", "consent_version": "v2"},
    )
    page = main_of(other_web.get("/studies").text)
    assert "changed the consent text" in page
    assert "We now also ask about sleep." in page
    assert 'name="consent_version" value="v2"' in page

    unticked = other_web.post(f"/studies/{study_id}/consent-again", {"consent_version": "v2"})
    assert unticked.status_code == 303
    assert "Nothing changed" in other_web.get("/studies").text
    stale = other_web.post(
        f"/studies/{study_id}/consent-again", {"consent_version": "2026-1", "agree": "on"}
    )
    assert stale.status_code == 303
    assert "changed again" in other_web.get("/studies").text
    assert audit(app, AuditAction.CONSENT_RENEWED) == []

    agreed = other_web.post(
        f"/studies/{study_id}/consent-again", {"consent_version": "v2", "agree": "on"}
    )
    assert agreed.status_code == 303
    after = main_of(other_web.get("/studies").text)
    assert "changed the consent text" not in after
    assert f"you are {ben_code}" in after  # the same participant code
    assert "consent version v2" in after
    events = audit(app, AuditAction.CONSENT_RENEWED)
    assert [(e.study_id, e.details) for e in events] == [
        (study_id, {"from_version": "2026-1", "to_version": "v2"})
    ]

    # Cleo has not decided: still asked, still under the version she agreed to.
    assert "changed the consent text" in cleo.get("/studies").text
    listed = {
        row["participant_code"]: row["consent_version"]
        for row in rita.api("GET", f"/api/studies/{study_id}/participants").json()
    }
    assert sorted(listed.values()) == ["2026-1", "v2"]
    # Through the API, at the version read; a study one is not in is not found.
    mine = cleo.api("GET", "/api/studies").json()["joined"][0]
    assert (mine["consent_outdated"], mine["current_consent_version"]) == (True, "v2")
    renewed = cleo.api("POST", f"/api/studies/{study_id}/consent-again", {"consent_version": "v2"})
    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["consent_version"], renewed.json()["consent_outdated"]) == (
        "v2",
        False,
    )
    stranger = rita.api("POST", f"/api/studies/{study_id}/consent-again", {"consent_version": "v2"})
    assert stranger.status_code == 404


def test_closing_a_study_stops_enrollment(rita: WebPerson, other_web: WebPerson) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    assert rita.post(f"/studies/{study_id}/close").status_code == 303
    page = rita.get(f"/studies/{study_id}").text
    assert "The study is closed" in page
    assert other_web.get(f"/enroll/{code}").status_code == 404
    refused = other_web.post(f"/enroll/{code}", {"consent_version": "2026-1", "agree": "on"})
    assert refused.status_code == 404
    assert rita.api("POST", f"/api/studies/{study_id}/close").status_code == 409


def test_a_closed_study_reopens_with_the_same_link(rita: WebPerson, other_web: WebPerson) -> None:
    study_id = create_study(rita)
    code = code_of(rita, study_id)
    assert rita.post(f"/studies/{study_id}/close").status_code == 303
    assert "Open to new participants again" in rita.get(f"/studies/{study_id}").text
    assert other_web.post(f"/studies/{study_id}/reopen").status_code == 403  # not theirs
    assert "Open to new participants again" in rita.get(f"/studies/{study_id}").text
    assert rita.post(f"/studies/{study_id}/reopen").status_code == 303
    assert code_of(rita, study_id) == code
    enroll(other_web, code)
    assert rita.api("POST", f"/api/studies/{study_id}/reopen").status_code == 409  # open already
    assert rita.api("POST", f"/api/studies/{study_id}/close").status_code == 200
    reopened = rita.api("POST", f"/api/studies/{study_id}/reopen")
    assert reopened.status_code == 200
    assert reopened.json()["closed_at"] is None


def test_the_api_covers_the_researcher_side(rita: WebPerson, other_web: WebPerson) -> None:
    body: dict[str, Any] = {
        "title": "API study",
        "consent_text": "Consent.",
        "consent_version": "1",
        "instruments": ["swls", "interaction"],
        "schedule": {"swls": {"once_within_days": 14}, "interaction": {"every_days": 1}},
    }
    created = rita.api("POST", "/api/studies", body)
    assert created.status_code == 201, created.text
    study = created.json()
    assert study["enrollment_link"] == f"http://testserver/enroll/{study['enrollment_code']}"
    assert (study["participants"], study["withdrawn"]) == (0, 0)
    bad = rita.api("POST", "/api/studies", {**body, "schedule": {"eis": {"every_days": 0}}})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["column"] == "schedule.eis"
    unknown = rita.api("POST", "/api/studies", {**body, "instruments": ["nope"], "schedule": {}})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["problems"][0]["value"] == "nope"
    other_web.api("POST", f"/api/enroll/{study['enrollment_code']}", {"consent_version": "1"})
    fetched = rita.api("GET", f"/api/studies/{study['id']}").json()
    assert fetched["participants"] == 1
    revised = rita.api(
        "POST",
        f"/api/studies/{study['id']}/consent",
        {"consent_text": "V2", "consent_version": "2"},
    )
    assert revised.json()["consent_version"] == "2"
    listing = rita.api("GET", "/api/studies").json()
    assert [s["id"] for s in listing["owned"]] == [study["id"]]
    compliance = rita.api("GET", f"/api/studies/{study['id']}/compliance").json()
    assert {(row["instrument_id"], row["once_within_days"]) for row in compliance} == {
        ("swls", 14),
        ("interaction", None),
    }
    closed = rita.api("POST", f"/api/studies/{study['id']}/close").json()
    assert closed["closed_at"] is not None


def test_a_study_is_handed_over_or_deleted_by_its_researcher_only(
    rita: WebPerson, other_web: WebPerson, cleo: WebPerson, app: FastAPI
) -> None:
    study_id = create_study(rita)
    enroll(other_web, code_of(rita, study_id))
    assert (
        other_web.post(
            f"/studies/{study_id}/delete", {"confirm_title": "Daily closeness"}
        ).status_code
        == 403
    )
    assert (
        other_web.post(f"/studies/{study_id}/transfer", {"email": other_web.email}).status_code
        == 403
    )
    not_researcher = rita.post(f"/studies/{study_id}/transfer", {"email": cleo.email})
    assert not_researcher.status_code == 422
    assert 'id="email-error"' in not_researcher.text
    assert "this account is not a researcher" in not_researcher.text
    make_researcher(app, cleo.email)
    handed = rita.post(f"/studies/{study_id}/transfer", {"email": cleo.email})
    assert handed.status_code == 303
    assert rita.get(f"/studies/{study_id}").status_code == 403
    assert cleo.get(f"/studies/{study_id}").status_code == 200
    wrong = cleo.post(f"/studies/{study_id}/delete", {"confirm_title": "daily"})
    assert wrong.status_code == 422
    assert 'id="confirm_title-error"' in wrong.text
    back = cleo.api("POST", f"/api/studies/{study_id}/transfer", {"email": rita.email})
    assert back.status_code == 204
    deleted = rita.api(
        "POST", f"/api/studies/{study_id}/delete", {"confirm_title": "Daily closeness"}
    )
    assert deleted.status_code == 204
    assert rita.get(f"/studies/{study_id}").status_code == 404
    assert "You are not taking part in any study." in other_web.get("/studies").text
    with app.state.session_factory() as db:
        assert db.scalar(sa.select(sa.func.count(Consent.id))) == 0
