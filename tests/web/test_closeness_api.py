"""The live session through the JSON API: same rules, one error shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from attunement.closeness import thirty_six_questions
from tests.web.people import WebPerson


@pytest.fixture
def third_web(app: FastAPI, client: TestClient) -> Iterator[WebPerson]:
    with TestClient(app) as third:
        yield WebPerson.sign_up(third, "cy@example.org", "Cy")


def test_a_session_through_the_api(web: WebPerson, other_web: WebPerson) -> None:
    started = web.api("POST", "/api/closeness", {"first_reader": "partner"})
    assert started.status_code == 201
    code = started.json()["code"]
    assert started.json()["phase"] == "lobby"
    joined = other_web.api("POST", "/api/closeness/join", {"code": code.lower()})
    assert joined.json()["participants"] == 2
    web.api("POST", f"/api/closeness/{code}/ios", {"moment": "before", "value": 2})
    status = other_web.api("POST", f"/api/closeness/{code}/ios", {"moment": "before", "value": 7})
    data = status.json()
    assert data["phase"] == "questions"
    assert data["you_read"] is True  # first_reader "partner": the one who joined
    assert data["question_text"] == thirty_six_questions().questions[0].text
    assert data["set_title"] == "Set I"
    moved = web.api("POST", f"/api/closeness/{code}/next", {"set_index": 0, "question_index": 0})
    assert moved.json()["question_number"] == 2
    assert moved.json()["you_read"] is True  # Ada reads question 2
    stale = other_web.api(
        "POST", f"/api/closeness/{code}/next", {"set_index": 0, "question_index": 0}
    )
    assert stale.json()["question_number"] == 2
    early = web.api("POST", f"/api/closeness/{code}/next-set", {"set_index": 0})
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "conflict"
    assert web.api("POST", f"/api/closeness/{code}/finish").status_code == 409


def test_api_refuses_strangers_and_bad_input(
    web: WebPerson, other_web: WebPerson, third_web: WebPerson
) -> None:
    code = web.api("POST", "/api/closeness", {}).json()["code"]
    other_web.api("POST", "/api/closeness/join", {"code": code})
    refused = third_web.api("POST", "/api/closeness/join", {"code": code})
    assert refused.status_code == 404
    assert set(refused.json()["error"]) == {"code", "message", "hint", "problems"}
    for path, body in (
        ("ios", {"moment": "before", "value": 3}),
        ("next", {"set_index": 0, "question_index": 0}),
        ("eye-contact", None),
    ):
        assert third_web.api("POST", f"/api/closeness/{code}/{path}", body).status_code == 404
    bad = web.api("POST", f"/api/closeness/{code}/ios", {"moment": "before", "value": 9})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"]
    assert web.api("POST", "/api/closeness", {"relationship_id": 10**12}).status_code == 422
    not_mine = web.api("POST", "/api/closeness", {"relationship_id": 5})
    assert not_mine.status_code == 422
    assert not_mine.json()["error"]["problems"][0]["column"] == "relationship_id"
    forged = web.client.post("/api/closeness", json={})
    assert forged.status_code == 403


def test_api_is_documented(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/closeness",
        "/api/closeness/join",
        "/api/closeness/{code}",
        "/api/closeness/{code}/ios",
        "/api/closeness/{code}/next",
        "/api/closeness/{code}/next-set",
        "/api/dashboard/{relationship_id}",
    ):
        assert path in paths, path
    assert "/closeness/{code}" not in paths  # pages stay out of the API description
