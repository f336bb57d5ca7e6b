"""The set timer at test clock speed, and random assignment of the control condition."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from attunement.closeness import SessionState, assign_condition, thirty_six_questions
from attunement.settings import Settings
from attunement.store.models import ClosenessCondition, ClosenessSession, Consent, Study
from attunement.web.routes.closeness import study_seed
from tests.web.people import WebPerson
from tests.web.test_closeness_web import both_ready, page, person_id, start, status


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # 15 protocol minutes pass in under a millisecond: every set's time is up at once.
    return settings.model_copy(update={"clock_speed": 1_000_000})


def test_gentle_notice_when_time_is_up_and_moving_on(web: WebPerson, other_web: WebPerson) -> None:
    code = both_ready(web, other_web)
    html = page(web, code)
    assert "data-time-up>" in html  # shown, not hidden
    assert "The 15 minutes for this set are up." in html
    assert "Move on to set II" in html
    assert status(other_web, code)["time_up"] is True
    # Carrying on is allowed ...
    web.post(f"/closeness/{code}/next", {"set_index": "0", "question_index": "0"})
    assert status(web, code)["question_number"] == 2
    # ... and so is moving on; a second phone's tap for the same set changes nothing.
    assert other_web.post(f"/closeness/{code}/next-set", {"set_index": "0"}).status_code == 303
    web.post(f"/closeness/{code}/next-set", {"set_index": "0"})
    now = status(web, code)
    assert (now["set_number"], now["question_number"]) == (2, 13)
    other_web.post(f"/closeness/{code}/next-set", {"set_index": "1"})
    assert "Finish the questions" in page(web, code)  # the last set has no next set
    web.post(f"/closeness/{code}/next-set", {"set_index": "2"})
    assert status(web, code)["phase"] == "ios_after"


def test_eye_contact_timer_ends(web: WebPerson, other_web: WebPerson) -> None:
    code = both_ready(web, other_web)
    for set_index in range(3):
        web.post(f"/closeness/{code}/next-set", {"set_index": str(set_index)})
    web.post(f"/closeness/{code}/ios", {"moment": "after", "ios": "4"})
    other_web.post(f"/closeness/{code}/ios", {"moment": "after", "ios": "5"})
    web.post(f"/closeness/{code}/eye-contact")
    html = page(other_web, code)
    assert "Time is up. Take a moment" in html
    assert "data-eye-done>" in html


def _study(app: FastAPI, owner: int, *people: int) -> int:
    with app.state.session_factory() as db:
        study = Study(
            owner_id=owner,
            title="Closeness lab",
            consent_text="You agree to take part.",
            consent_version="1",
            enrollment_code="LAB2026",
            randomize_closeness=True,
        )
        db.add(study)
        db.flush()
        for number, pid in enumerate(people):
            db.add(
                Consent(
                    study_id=study.id,
                    person_id=pid,
                    consent_version="1",
                    participant_code=f"P{number:03d}",
                )
            )
        db.commit()
        return study.id


def test_a_study_assigns_conditions_in_permuted_blocks(
    app: FastAPI, settings: Settings, web: WebPerson, other_web: WebPerson
) -> None:
    ada, ben = person_id(app, "ada@example.org"), person_id(app, "ben@example.org")
    study_id = _study(app, ada, ada, ben)
    assert "Closeness lab" in web.get("/closeness").text
    codes = [start(web, study_id=str(study_id)) for _ in range(4)]
    with app.state.session_factory() as db:
        study = db.get(Study, study_id)
        assert study is not None
        seed = study_seed(settings, study)
        records = {
            r.join_code: r
            for r in db.scalars(
                sa.select(ClosenessSession).where(ClosenessSession.study_id == study_id)
            )
        }
    expected = [assign_condition(seed, n).condition for n in range(4)]
    got = [records[c].condition.value for c in codes]
    assert got == expected
    assert sorted(got) == ["closeness", "closeness", "small_talk", "small_talk"]
    for code in codes:
        state = SessionState.from_dict(records[code].live_state or {})
        assert state.assignment.method == "permuted_blocks"
        assert state.assignment.seed == seed
    # A control session shows the small-talk questions, labelled neutrally.
    control = codes[got.index("small_talk")]
    other_web.post("/closeness/join", {"code": control})
    web.post(f"/closeness/{control}/ios", {"moment": "before", "ios": "2"})
    other_web.post(f"/closeness/{control}/ios", {"moment": "before", "ios": "2"})
    html = page(other_web, control)
    first_control = thirty_six_questions().control_sets[0].questions[0].text
    assert first_control.replace("'", "&#39;") in html
    assert "Conversation session" in html
    assert records[control].condition == ClosenessCondition.SMALL_TALK


def test_only_study_participants_join_a_study_session(
    app: FastAPI, web: WebPerson, other_web: WebPerson
) -> None:
    ada = person_id(app, "ada@example.org")
    study_id = _study(app, ada, ada)
    code = start(web, study_id=str(study_id))
    refused = other_web.post("/closeness/join", {"code": code})
    assert refused.status_code == 422
    assert "a study you have not joined" in refused.text
    # Nor can Ben start a session in a study he has not joined.
    bad = other_web.post("/closeness", {"study_id": str(study_id), "first_reader": "me"})
    assert bad.status_code == 422
    assert "choose a study you take part in" in bad.text
