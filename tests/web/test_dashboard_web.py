"""The relationship dashboard over HTTP: only shared data, numbers by hand, access refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from attunement.closeness import SessionState
from attunement.store.models import ClosenessSession, Membership, Person
from attunement.store.records import (
    add_measurement,
    create_relationship,
    log_practice,
    record_interaction,
)
from tests.web.people import WebPerson

T0 = datetime(2026, 2, 2, 19, 0, tzinfo=UTC)


@pytest.fixture
def third_web(app: FastAPI, client: TestClient) -> Iterator[WebPerson]:
    with TestClient(app) as third:
        yield WebPerson.sign_up(third, "cy@example.org", "Cy")


def ids(app: FastAPI) -> tuple[int, int]:
    with app.state.session_factory() as db:
        found = dict(db.execute(sa.select(Person.email, Person.id)).all())
    return found["ada@example.org"], found["ben@example.org"]


def interaction(sd: int, pd_: int, resp: int, intimacy: int) -> dict[str, int]:
    return {
        "interaction_1": sd,
        "interaction_2": sd,
        "interaction_3": sd,
        "interaction_4": pd_,
        "interaction_5": resp,
        "interaction_6": resp,
        "interaction_7": resp,
        "interaction_8": intimacy,
    }


def eis(total_item: int) -> dict[str, int]:
    return {f"eis_{i}": total_item for i in range(1, 6)}


@pytest.fixture
def relationship(app: FastAPI, web: WebPerson, other_web: WebPerson) -> int:
    """Ada and Ben; Ada shares 4 records and 2 check-ins, Ben shares 3 of his 4 records."""
    ada, ben = ids(app)
    with app.state.session_factory() as db:
        rel = create_relationship(db, ada, "romantic_partner", "partner", name="Ada and Ben")
        db.add(Membership(relationship_id=rel.id, person_id=ben, role="partner"))
        db.flush()
        ada_rows = [(6, 3, 3, 4), (5, 3, 2, 3), (6, 4, 3, 5), (7, 2, 4, 4)]
        ada_ids = []
        for day, row in enumerate(ada_rows):
            record = record_interaction(
                db,
                ada,
                rel.id,
                interaction(*row),
                channel="in_person",
                occurred_at=T0 + timedelta(days=day),
                shared=True,
            )
            ada_ids.append(record.id)
        # Ben records the same four interactions (mutual reveal: linked to Ada's records).
        ben_rows = [(3, 6, 6, 6), (4, 5, 5, 5), (3, 6, 6, 7), (1, 1, 1, 1)]
        for day, row in enumerate(ben_rows):
            record_interaction(
                db,
                ben,
                rel.id,
                interaction(*row),
                channel="in_person",
                occurred_at=T0 + timedelta(days=day),
                shared=day < 3,
                responds_to=ada_ids[day],
            )
        for week, item in enumerate((4, 3)):
            add_measurement(
                db,
                ada,
                "eis",
                eis(item),
                taken_at=T0 + timedelta(weeks=week),
                relationship_id=rel.id,
                about_person_id=ben,
                shared=True,
            )
        add_measurement(
            db,
            ben,
            "eis",
            eis(5),
            taken_at=T0,
            relationship_id=rel.id,
            about_person_id=ada,
            shared=False,
        )
        log_practice(db, ada, "appreciation", relationship_id=rel.id, shared=True)
        log_practice(db, ben, "active_listening", relationship_id=rel.id, shared=True)
        log_practice(db, ben, "raise_early", relationship_id=rel.id, shared=False)
        log_practice(
            db,
            ada,
            "check_in",
            relationship_id=rel.id,
            shared=True,
            done_at=datetime.now(UTC) - timedelta(days=40),
        )
        db.commit()
        return rel.id


def test_dashboard_shows_own_and_shared_numbers(
    app: FastAPI, web: WebPerson, relationship: int
) -> None:
    html = web.get(f"/dashboard/{relationship}").text
    assert "<h1>Ada and Ben</h1>" in html
    assert html.count("<svg") >= 5  # EIS trend + two scatter plots for each of the two
    assert "Emotional Intimacy Scale over time" in html
    data = web.get(f"/api/dashboard/{relationship}").json()
    you, ben = data["people"]
    assert you["is_you"] is True
    assert you["records"] == 4
    assert you["self_disclosure"] == pytest.approx(6.0)
    assert you["partner_disclosure"] == pytest.approx(3.0)
    assert you["responsiveness"] == pytest.approx(3.0)
    assert you["balance"] == pytest.approx(0.5)  # 1 - |6 - 3| / 6
    assert you["balance_label"] == "one-sided"
    assert you["eis_latest"] == 15
    assert you["practices_30_days"] == 1
    # Ben shared 3 interaction records and no check-in: the fourth and his EIS stay his.
    assert ben["records"] == 3
    assert ben["responsiveness"] == pytest.approx(17 / 3)
    assert ben["eis_latest"] is None
    assert ben["practices_30_days"] == 1  # his private practice log is not counted
    practices = [s["practice"] for s in data["suggestions"]]
    assert practices[:2] == ["active_listening", "check_in"]
    evidence = data["suggestions"][0]["evidence"]
    assert any(e["citation"].startswith("Reis, H. T., & Shaver, P. (1988)") for e in evidence)
    assert "Something to try" in html
    assert "Active listening</a>" in html


def test_each_partner_sees_their_own_view(
    app: FastAPI, other_web: WebPerson, relationship: int
) -> None:
    data = other_web.get(f"/api/dashboard/{relationship}").json()
    ada, you = data["people"]
    assert you["is_you"] is True
    assert you["records"] == 4  # his own, shared or not
    assert you["eis_latest"] == 25
    assert ada["records"] == 4


def test_strangers_and_former_members_cannot_read(
    app: FastAPI, web: WebPerson, other_web: WebPerson, third_web: WebPerson, relationship: int
) -> None:
    assert third_web.get(f"/dashboard/{relationship}").status_code == 404
    api = third_web.get(f"/api/dashboard/{relationship}")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    assert third_web.get("/dashboard/999999").status_code == 404
    _, ben = ids(app)
    with app.state.session_factory() as db:
        membership = db.scalars(sa.select(Membership).where(Membership.person_id == ben)).one()
        membership.left_at = datetime.now(UTC)
        db.commit()
    assert other_web.get(f"/dashboard/{relationship}").status_code == 403
    with TestClient(app) as anonymous:
        assert anonymous.get(f"/api/dashboard/{relationship}").status_code == 401


def test_dashboard_list_and_empty_dashboard(app: FastAPI, web: WebPerson) -> None:
    with app.state.session_factory() as db:
        ada = db.scalars(sa.select(Person.id)).one()
    with app.state.session_factory() as db:
        rel = create_relationship(db, ada, "friend", "friend", name=None)
        db.commit()
        rel_id = rel.id
    listing = web.get("/dashboard").text
    assert f'href="/dashboard/{rel_id}"' in listing
    assert "nobody has joined yet" in listing
    empty = web.get(f"/dashboard/{rel_id}").text
    assert "No check-ins yet" in empty
    assert "Suggestions appear once you have recorded at least three interactions." in empty


def test_out_of_range_ids_are_input_errors_not_crashes(web: WebPerson) -> None:
    huge = 10**30
    assert web.get(f"/api/dashboard/{huge}").status_code == 422
    assert web.get(f"/dashboard/{huge}").status_code == 422
    assert web.post(f"/practices/reminders/{huge}/delete").status_code == 422
    assert web.get("/api/closeness/" + "X" * 5000).status_code == 404


def test_own_36_questions_ratings_appear_on_the_dashboard(
    app: FastAPI, web: WebPerson, other_web: WebPerson, relationship: int
) -> None:
    started = web.api("POST", "/api/closeness", {"relationship_id": relationship})
    code = started.json()["code"]
    other_web.api("POST", "/api/closeness/join", {"code": code})
    for person, before in ((web, 2), (other_web, 6)):
        person.api("POST", f"/api/closeness/{code}/ios", {"moment": "before", "value": before})
    with app.state.session_factory() as db:
        record = db.scalars(sa.select(ClosenessSession)).one()
        state = SessionState.from_dict(record.live_state or {})
    for _ in range(state.plan.total_questions):
        status = web.get(f"/api/closeness/{code}").json()
        body = {"set_index": status["set_number"] - 1, "question_index": 0}
        body["question_index"] = status["question_number"] - 1 - 12 * body["set_index"]
        web.api("POST", f"/api/closeness/{code}/next", body)
    for person, after in ((web, 5), (other_web, 7)):
        person.api("POST", f"/api/closeness/{code}/ios", {"moment": "after", "value": after})
    assert web.get(f"/api/closeness/{code}").json()["phase"] == "finished"  # no ending offered
    html = web.get(f"/dashboard/{relationship}").text
    assert "Your 36 Questions sessions" in html
    assert "<td>2</td><td>5</td>" in html
    assert "<td>6</td>" not in html  # Ben's ratings are his alone
