"""The live 36 Questions session over HTTP: two people, two cookie jars, one app."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from attunement.closeness import thirty_six_questions
from attunement.store.models import (
    ClosenessQuestion,
    ClosenessSession,
    ClosenessState,
    Membership,
    MembershipRole,
    Person,
    Relationship,
    RelationshipType,
)
from tests.web.people import WebPerson

CODE_IN_PAGE = re.compile(r'data-code="([A-Z0-9]+)"')


@pytest.fixture
def third_web(app: FastAPI, client: TestClient) -> Iterator[WebPerson]:
    """A third person (Cy), a stranger to the session."""
    with TestClient(app) as third:
        yield WebPerson.sign_up(third, "cy@example.org", "Cy")


def start(person: WebPerson, **form: str) -> str:
    response = person.post("/closeness", {"first_reader": "me", "eye_contact": "on", **form})
    assert response.status_code == 303, response.text[:400]
    code = response.headers["location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    return code


def page(person: WebPerson, code: str) -> str:
    response = person.get(f"/closeness/{code}")
    assert response.status_code == 200, response.text[:400]
    return response.text


def status(person: WebPerson, code: str) -> dict[str, object]:
    response = person.get(f"/api/closeness/{code}")
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def position(html: str) -> dict[str, str]:
    """The hidden fields of the "next question" form: the question the page shows."""
    return {
        "set_index": hidden(html, "set_index"),
        "question_index": hidden(html, "question_index"),
    }


def both_ready(web: WebPerson, other_web: WebPerson, **form: str) -> str:
    code = start(web, **form)
    assert other_web.post("/closeness/join", {"code": code.lower()}).status_code == 303
    assert web.post(f"/closeness/{code}/ios", {"moment": "before", "ios": "3"}).status_code == 303
    assert (
        other_web.post(f"/closeness/{code}/ios", {"moment": "before", "ios": "5"}).status_code
        == 303
    )
    return code


def person_id(app: FastAPI, email: str) -> int:
    with app.state.session_factory() as db:
        return int(db.scalar(sa.select(Person.id).where(Person.email == email)))


def test_a_whole_session_on_two_devices(app: FastAPI, web: WebPerson, other_web: WebPerson) -> None:
    code = start(web)
    waiting = page(web, code)
    assert "Your session code" in waiting
    assert f">{code}<" in waiting
    assert status(web, code)["waiting_for_partner"] is True

    # Ben types the code with a dash and in lower case.
    joined = other_web.post("/closeness/join", {"code": f"{code[:3].lower()}-{code[3:]}"})
    assert joined.headers["location"] == f"/closeness/{code}"
    ben_page = page(other_web, code)
    assert "Which picture best describes your relationship with Ada?" in ben_page
    assert ben_page.count('type="radio" name="ios"') == 7

    web.post(f"/closeness/{code}/ios", {"moment": "before", "ios": "3"})
    assert "first question appears as soon as Ben has answered" in page(web, code)
    assert status(web, code)["phase"] == "lobby"
    other_web.post(f"/closeness/{code}/ios", {"moment": "before", "ios": "5"})

    questions = thirty_six_questions().questions
    for number in range(1, 37):
        ada, ben = page(web, code), page(other_web, code)
        text = questions[number - 1].text.replace('"', "&#34;").replace("'", "&#39;")
        assert text in ada, number
        assert text in ben, number
        ada_reads = number % 2 == 1  # Ada chose to read first; the reader alternates
        assert ("<strong>You</strong> read this one" in ada) == ada_reads
        assert ("<strong>Ada</strong> reads this one" in ben) == ada_reads
        assert ("<strong>Ben</strong> reads this one" in ada) != ada_reads
        mover = web if number % 3 else other_web
        form = {
            "set_index": hidden(ada, "set_index"),
            "question_index": hidden(ada, "question_index"),
        }
        assert mover.post(f"/closeness/{code}/next", form).status_code == 303
        if number == 5:
            # Ben's phone still showed question 5: his tap changes nothing.
            other_web.post(f"/closeness/{code}/next", form)
            assert status(web, code)["question_number"] == 6

    after = page(web, code)
    assert "You finished the questions" in after
    web.post(f"/closeness/{code}/ios", {"moment": "after", "ios": "6"})
    other_web.post(f"/closeness/{code}/ios", {"moment": "after", "ios": "6"})
    ending = page(other_web, code)
    assert "not part of the original procedure" in ending
    assert "Finish without it" in ending
    assert other_web.post(f"/closeness/{code}/eye-contact").status_code == 303
    assert "left</p>" in page(web, code)
    assert web.post(f"/closeness/{code}/finish").status_code == 303
    done = page(web, code)
    assert "Thank you both" in done
    assert "<dt>Before</dt><dd>3</dd>" in done
    assert "<dt>After</dt><dd>6</dd>" in done
    assert "<dd>5</dd>" not in done  # Ben's own rating is his alone

    ada_id, ben_id = person_id(app, "ada@example.org"), person_id(app, "ben@example.org")
    with app.state.session_factory() as db:
        record = db.scalars(sa.select(ClosenessSession)).one()
        assert record.state == ClosenessState.FINISHED
        assert (record.ios_before_a, record.ios_before_b) == (3, 5)
        assert (record.ios_after_a, record.ios_after_b) == (6, 6)
        assert record.eye_contact_ending is True
        assert record.first_reader_id == ada_id
        rows = db.scalars(
            sa.select(ClosenessQuestion).order_by(
                ClosenessQuestion.set_number, ClosenessQuestion.question_number
            )
        ).all()
        assert len(rows) == 36
        assert [r.reader_id for r in rows[:4]] == [ada_id, ben_id, ada_id, ben_id]
        assert all(r.answered_at is not None for r in rows)
        assert len(record.sets) == 3


def test_reload_and_a_second_device_resume_where_the_session_was(
    app: FastAPI, web: WebPerson, other_web: WebPerson
) -> None:
    code = both_ready(web, other_web)
    first = page(web, code)
    web.post(
        f"/closeness/{code}/next",
        {
            "set_index": hidden(first, "set_index"),
            "question_index": hidden(first, "question_index"),
        },
    )
    before, again = page(web, code), page(web, code)
    for marker in ('data-version="', 'question-number">', "question 2 of 12"):
        assert marker in before
        start, start_again = before.index(marker), again.index(marker)
        assert again[start_again : start_again + 40] == before[start : start + 40]
    with TestClient(app) as laptop:
        ada_again = WebPerson(laptop, "ada@example.org", "Ada")
        signed_in = ada_again.post(
            "/signin", {"email": "ada@example.org", "password": ada_again.password}
        )
        assert signed_in.status_code == 303
        on_laptop = page(ada_again, code)
        assert "question 2 of 12" in on_laptop


def test_a_stranger_cannot_join_read_or_act(
    web: WebPerson, other_web: WebPerson, third_web: WebPerson
) -> None:
    code = both_ready(web, other_web)
    refused = third_web.post("/closeness/join", {"code": code})
    assert refused.status_code == 422
    assert "field-error" in refused.text
    assert third_web.get(f"/closeness/{code}").status_code == 404
    api = third_web.get(f"/api/closeness/{code}")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    for path, form in (
        ("next", {"set_index": "0", "question_index": "0"}),
        ("next-set", {"set_index": "0"}),
        ("ios", {"moment": "before", "ios": "4"}),
        ("eye-contact", {}),
        ("finish", {}),
    ):
        assert third_web.post(f"/closeness/{code}/{path}", form).status_code == 404, path
    assert status(web, code)["question_number"] == 1


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, web: WebPerson) -> None:
    code = start(web)
    with TestClient(client.app) as stranger:  # type: ignore[arg-type]
        response = stranger.get(f"/closeness/{code}", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")
        assert stranger.get(f"/api/closeness/{code}").status_code == 401


def test_a_relationship_session_admits_only_its_members(
    app: FastAPI, web: WebPerson, other_web: WebPerson, third_web: WebPerson
) -> None:
    ada, ben = person_id(app, "ada@example.org"), person_id(app, "ben@example.org")
    with app.state.session_factory() as db:
        rel = Relationship(type=RelationshipType.ROMANTIC_PARTNER, name="Us", created_by_id=ada)
        db.add(rel)
        db.flush()
        for pid in (ada, ben):
            db.add(Membership(person_id=pid, relationship_id=rel.id, role=MembershipRole.PARTNER))
        db.commit()
        rel_id = rel.id
    assert ">Us</option>" in web.get("/closeness").text
    code = start(web, relationship_id=str(rel_id))
    refused = third_web.post("/closeness/join", {"code": code})
    assert refused.status_code == 422
    assert "a relationship you are not part of" in refused.text
    assert other_web.post("/closeness/join", {"code": code}).status_code == 303
    # Cy cannot start a session tied to a relationship that is not his.
    bad = third_web.post("/closeness", {"relationship_id": str(rel_id), "first_reader": "me"})
    assert bad.status_code == 422
    assert "choose one of your relationships" in bad.text


@pytest.mark.parametrize(
    ("ios", "message"),
    [("", "choose the pair of circles"), ("8", "allowed: 1-7"), ("0", "allowed: 1-7")],
)
def test_ios_errors_are_shown_next_to_the_circles(web: WebPerson, ios: str, message: str) -> None:
    code = start(web)
    response = web.post(f"/closeness/{code}/ios", {"moment": "before", "ios": ios})
    assert response.status_code == 422
    assert 'id="ios-error"' in response.text
    assert message in response.text


def test_unknown_code_is_an_error_next_to_the_field(web: WebPerson) -> None:
    response = web.post("/closeness/join", {"code": "ZZZZZZ"})
    assert response.status_code == 422
    assert 'id="code-error"' in response.text
    empty = web.post("/closeness/join", {"code": " "})
    assert empty.status_code == 422


def test_moving_on_before_the_time_is_up_is_refused(web: WebPerson, other_web: WebPerson) -> None:
    code = both_ready(web, other_web)
    response = web.post(f"/closeness/{code}/next-set", {"set_index": "0"})
    assert response.status_code == 409
    assert "not up yet" in response.text
    assert "data-time-up hidden" in page(web, code)
    assert status(web, code)["time_up"] is False


def test_forms_without_the_csrf_token_are_refused(web: WebPerson, other_web: WebPerson) -> None:
    code = both_ready(web, other_web)
    response = web.client.post(
        f"/closeness/{code}/next",
        data={"set_index": "0", "question_index": "0"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert status(web, code)["question_number"] == 1


def test_start_page_lists_sessions_and_the_procedure(web: WebPerson) -> None:
    code = start(web)
    listing = web.get("/closeness").text
    assert f"/closeness/{code}" in listing
    assert "waiting for the other person" in listing
    assert "Aron, A., Melinat" in listing
