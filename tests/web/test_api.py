"""The JSON API: same sign-in, same rules, one error shape, documented in OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.people import WebPerson, pair

ERROR_KEYS = {"code", "message", "hint", "problems"}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ERROR_KEYS
    if code is not None:
        assert body["error"]["code"] == code
    return dict(body["error"])


def interaction(person: WebPerson, relationship_id: int, **extra: Any) -> dict[str, Any]:
    body = {
        "relationship_id": relationship_id,
        "channel": "video",
        "duration_minutes": 25,
        "responses": {f"interaction_{n}": 5 for n in range(1, 9)},
        "note": f"{person.name}'s private note",
    }
    body.update(extra)
    response = person.api("POST", "/api/interactions", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def couple(web: WebPerson, other_web: WebPerson) -> int:
    return pair(web, other_web)


PROTECTED = [
    ("GET", "/api/me"),
    ("GET", "/api/me/export"),
    ("GET", "/api/relationships"),
    ("GET", "/api/relationships/1"),
    ("GET", "/api/measurements"),
    ("GET", "/api/measurements/1"),
    ("GET", "/api/interactions?relationship_id=1"),
    ("GET", "/api/interactions/pending?relationship_id=1"),
    ("GET", "/api/interactions/1"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_reads_need_sign_in(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, path), 401, "not_signed_in")


def test_writes_need_the_csrf_header_even_when_signed_in(web: WebPerson) -> None:
    response = web.client.post("/api/relationships", json={"type": "friend", "role": "friend"})
    assert_error(response, 403, "csrf_failed")
    ok = web.api("POST", "/api/relationships", {"type": "friend", "role": "friend"})
    assert ok.status_code == 201


def test_sign_up_in_and_out_through_the_api(client: TestClient) -> None:
    token = client.get("/api/csrf").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    body = {"email": "dee@example.org", "display_name": "Dee", "password": "a long passphrase"}
    created = client.post("/api/accounts", json=body, headers=headers)
    assert created.status_code == 201
    assert client.get("/api/me").json()["email"] == "dee@example.org"
    token = client.get("/api/csrf").json()["csrf_token"]
    assert client.delete("/api/session", headers={"X-CSRF-Token": token}).status_code == 204
    assert_error(client.get("/api/me"), 401)
    token = client.get("/api/csrf").json()["csrf_token"]
    wrong = client.post(
        "/api/session",
        json={"email": "dee@example.org", "password": "wrong one!!"},
        headers={"X-CSRF-Token": token},
    )
    error = assert_error(wrong, 422, "invalid_input")
    assert error["problems"][0]["column"] == "password"
    right = client.post(
        "/api/session",
        json={"email": "DEE@example.org", "password": "a long passphrase"},
        headers={"X-CSRF-Token": token},
    )
    assert right.status_code == 200


def test_validation_errors_name_every_field(web: WebPerson) -> None:
    response = web.api(
        "POST",
        "/api/interactions",
        {"relationship_id": 0, "channel": "pigeon", "duration_minutes": 5000},
    )
    error = assert_error(response, 422, "invalid_input")
    columns = {problem["column"] for problem in error["problems"]}
    assert columns == {"relationship_id", "channel", "duration_minutes"}


def test_an_answer_off_the_scale_is_a_problem_naming_the_item(web: WebPerson) -> None:
    response = web.api(
        "POST", "/api/measurements", {"instrument_id": "swls", "responses": {"swls_1": 8}}
    )
    error = assert_error(response, 422)
    assert any(problem["column"] == "swls_1" for problem in error["problems"])


def test_unknown_instrument_lists_the_known_ones(web: WebPerson) -> None:
    response = web.api("POST", "/api/measurements", {"instrument_id": "nope", "responses": {}})
    error = assert_error(response, 404, "not_found")
    assert "eis" in (error["message"] + str(error["hint"]) + str(error["problems"]))


def test_instruments_never_ship_eis_wording(web: WebPerson) -> None:
    instruments = {i["id"]: i for i in web.get("/api/instruments").json()}
    assert {item["text"] for item in instruments["eis"]["items"]} == {None}
    assert instruments["swls"]["items"][0]["text"]


def test_measurement_is_scored_and_explained(web: WebPerson) -> None:
    body = {"instrument_id": "swls", "responses": {f"swls_{n}": 6 for n in range(1, 6)}}
    created = web.api("POST", "/api/measurements", body)
    assert created.status_code == 201
    data = created.json()
    assert data["scores"]["swls_total"] == 30
    assert data["explanation"][0]["explanation"].startswith("30 on a range of 5 to 35")
    assert web.get(f"/api/measurements/{data['id']}").json()["scores"] == data["scores"]


def test_mutual_reveal_through_the_api(web: WebPerson, other_web: WebPerson, couple: int) -> None:
    mine = interaction(web, couple)
    assert mine["other_view"] is None
    assert_error(other_web.get(f"/api/interactions/{mine['id']}"), 403, "permission_denied")
    listed = other_web.get(f"/api/interactions?relationship_id={couple}").json()
    assert listed == []
    pending = other_web.get(f"/api/interactions/pending?relationship_id={couple}").json()
    assert [p["id"] for p in pending] == [mine["id"]]
    assert set(pending[0]) == {"id", "occurred_at", "channel", "person_name"}
    theirs = interaction(other_web, couple, responds_to=mine["id"], channel="video")
    assert theirs["other_view"]["id"] == mine["id"]
    assert theirs["other_view"]["note"] is None  # Ada's note stays private
    seen_by_ada = web.get(f"/api/interactions/{mine['id']}").json()
    assert seen_by_ada["other_view"]["id"] == theirs["id"]
    assert seen_by_ada["other_view"]["note"] is None
    assert seen_by_ada["note"] == "Ada's private note"


def test_another_persons_private_records_are_not_found(
    web: WebPerson, other_web: WebPerson, couple: int
) -> None:
    hidden = interaction(web, couple, shared=False)
    assert_error(other_web.get(f"/api/interactions/{hidden['id']}"), 404, "not_found")
    body = {"instrument_id": "pss4", "responses": {f"pss4_{n}": 2 for n in range(1, 5)}}
    measurement = web.api("POST", "/api/measurements", body).json()
    assert_error(other_web.get(f"/api/measurements/{measurement['id']}"), 404)
    assert other_web.get("/api/measurements").json() == []


def test_strangers_get_nothing_of_a_relationship(
    web: WebPerson, other_web: WebPerson, app: FastAPI
) -> None:
    relationship = web.api("POST", "/api/relationships", {"type": "friend", "role": "friend"})
    relationship_id = relationship.json()["id"]
    interaction(web, relationship_id)
    assert_error(other_web.get(f"/api/relationships/{relationship_id}"), 404)
    assert_error(other_web.get(f"/api/interactions?relationship_id={relationship_id}"), 404)
    invite_path = f"/api/relationships/{relationship_id}/invitations"
    assert_error(other_web.api("POST", invite_path, {"role": "friend"}), 404)
    assert_error(
        other_web.api(
            "POST", "/api/interactions", {"relationship_id": relationship_id, "channel": "text"}
        ),
        404,
    )


def test_invitation_and_leaving_through_the_api(web: WebPerson, other_web: WebPerson) -> None:
    relationship_id = web.api(
        "POST", "/api/relationships", {"type": "family", "role": "parent"}
    ).json()["id"]
    invitation = web.api(
        "POST", f"/api/relationships/{relationship_id}/invitations", {"role": "child"}
    ).json()
    assert invitation["link"].endswith(invitation["token"])
    joined = other_web.api("POST", "/api/invitations/accept", {"token": invitation["token"]})
    assert joined.status_code == 200
    assert {m["display_name"] for m in joined.json()["members"]} == {"Ada", "Ben"}
    again = other_web.api("POST", "/api/invitations/accept", {"token": invitation["token"]})
    assert_error(again, 409, "conflict")
    assert other_web.api("POST", f"/api/relationships/{relationship_id}/leave").status_code == 204
    assert_error(other_web.get(f"/api/relationships/{relationship_id}"), 403)


def test_sharing_settings_through_the_api(
    web: WebPerson, other_web: WebPerson, couple: int
) -> None:
    settings = {
        "mutual_reveal": False,
        "share_measurements_default": True,
        "share_interactions_default": True,
    }
    assert_error(web.api("PUT", f"/api/relationships/{couple}/sharing", settings), 409)
    settings["mutual_reveal"] = True
    changed = web.api("PUT", f"/api/relationships/{couple}/sharing", settings)
    assert changed.json()["share_measurements_default"] is True


def test_export_and_delete_through_the_api(web: WebPerson) -> None:
    export = web.get("/api/me/export").json()
    assert export["person"]["email"] == web.email
    assert_error(web.api("POST", "/api/me/delete", {"password": "not it at all"}), 422)
    assert web.api("POST", "/api/me/delete", {"password": web.password}).status_code == 204
    assert_error(web.get("/api/me"), 401)


def test_ids_beyond_the_database_range_are_invalid_not_errors(web: WebPerson) -> None:
    for path in ("/api/interactions/99999999999", "/api/measurements/0"):
        assert_error(web.get(path), 422, "invalid_input")


def test_openapi_documents_every_route_with_the_error_shape(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    ours = [
        "/api/session",
        "/api/accounts",
        "/api/me",
        "/api/relationships",
        "/api/relationships/{relationship_id}/invitations",
        "/api/invitations/accept",
        "/api/measurements",
        "/api/interactions",
        "/api/interactions/{interaction_id}",
        "/health",
    ]
    for path in ours:
        assert path in spec["paths"], path
    assert "ErrorBody" in spec["components"]["schemas"]
    operation = spec["paths"]["/api/interactions"]["post"]
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
