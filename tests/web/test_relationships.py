"""Relationships through HTTP: create, invite (link and QR), accept, share settings, leave."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.people import WebPerson, create_relationship, invitation_path, pair, shown_text


def test_create_a_relationship_and_see_it_listed(web: WebPerson) -> None:
    relationship_id = create_relationship(web, type="friend", role="friend", name="Book club")
    listing = web.get("/relationships")
    assert "Book club" in listing.text
    assert "Friends" in listing.text
    page = web.get(f"/relationships/{relationship_id}")
    assert page.status_code == 200
    assert "Ada (you)" in page.text


def test_an_unknown_type_is_shown_next_to_its_field(web: WebPerson) -> None:
    response = web.post("/relationships", {"type": "rival", "role": "partner"})
    assert response.status_code == 422
    assert 'id="type-error"' in response.text


def test_invitation_shows_a_single_use_link_and_an_inline_qr_code(web: WebPerson) -> None:
    relationship_id = create_relationship(web)
    response = web.post(f"/relationships/{relationship_id}/invitations", {"role": "partner"})
    assert response.status_code == 200
    assert re.search(r'value="http://testserver/join/[A-Za-z0-9_-]{40,}"', response.text)
    svg = re.search(r'<svg[^>]*class="segno".*?</svg>', response.text, re.DOTALL)
    assert svg is not None
    assert "<title>QR code of the invitation link</title>" in svg.group(0)
    assert "<path" in svg.group(0)


def test_invited_person_signs_up_from_the_link_and_joins(
    web: WebPerson, app: object, client: TestClient
) -> None:
    relationship_id = create_relationship(web)
    path = invitation_path(web, relationship_id)
    with TestClient(app) as phone:  # type: ignore[arg-type]
        landing = phone.get(path)
        assert landing.status_code == 200
        assert "Ada invites you" in landing.text
        assert "/signup?next=/join/" in landing.text
        ben = WebPerson(phone, "ben@example.org", "Ben")
        signed_up = ben.post(
            "/signup",
            {"email": ben.email, "display_name": "Ben", "password": ben.password, "next": path},
        )
        assert signed_up.headers["location"] == path
        joined = ben.post(path)
        assert joined.status_code == 303
        assert joined.headers["location"] == f"/relationships/{relationship_id}"
        page = ben.get(f"/relationships/{relationship_id}")
        assert "Ada" in page.text
        assert "Ben (you)" in page.text
    assert "Ben" in web.get("/relationships").text


def test_an_invitation_works_only_once(web: WebPerson, other_web: WebPerson, app: object) -> None:
    relationship_id = create_relationship(web)
    path = invitation_path(web, relationship_id)
    assert other_web.post(path).status_code == 303
    with TestClient(app) as third_client:  # type: ignore[arg-type]
        cleo = WebPerson.sign_up(third_client, "cleo@example.org", "Cleo")
        assert cleo.get(path).status_code == 409
        refused = cleo.post(path)
        assert refused.status_code == 409
        assert "already been used" in refused.text
        assert cleo.get(f"/relationships/{relationship_id}").status_code == 404


def test_a_made_up_invitation_link_is_not_found(web: WebPerson) -> None:
    assert web.get("/join/not-a-real-token").status_code == 404


def test_strangers_cannot_see_or_change_a_relationship(
    web: WebPerson, other_web: WebPerson
) -> None:
    relationship_id = create_relationship(web)
    assert other_web.get(f"/relationships/{relationship_id}").status_code == 404
    invite = other_web.post(f"/relationships/{relationship_id}/invitations", {"role": "partner"})
    assert invite.status_code == 404
    sharing = other_web.post(f"/relationships/{relationship_id}/sharing", {})
    assert sharing.status_code == 404
    assert other_web.post(f"/relationships/{relationship_id}/leave").status_code == 404


def test_sharing_settings_are_saved(web: WebPerson) -> None:
    relationship_id = create_relationship(web)
    saved = web.post(
        f"/relationships/{relationship_id}/sharing", {"share_measurements_default": "on"}
    )
    assert saved.status_code == 303
    page = web.get(f"/relationships/{relationship_id}").text
    assert "Sharing settings saved." in page
    assert re.search(r'id="share_measurements_default"[^>]*checked', page)
    assert not re.search(r'id="mutual_reveal"[^>]*checked', page)
    assert not re.search(r'id="share_interactions_default"[^>]*checked', page)


def test_mutual_reveal_stays_on_once_someone_has_joined(
    web: WebPerson, other_web: WebPerson
) -> None:
    relationship_id = pair(web, other_web)
    refused = other_web.post(
        f"/relationships/{relationship_id}/sharing", {"share_interactions_default": "on"}
    )
    assert refused.status_code == 409
    assert "Mutual reveal stays on" in refused.text
    page = web.get(f"/relationships/{relationship_id}").text
    assert re.search(r'id="mutual_reveal"[^>]*checked', page)


def test_leaving_is_one_step_and_ends_access(web: WebPerson, other_web: WebPerson) -> None:
    relationship_id = pair(web, other_web)
    left = other_web.post(f"/relationships/{relationship_id}/leave")
    assert left.status_code == 303
    assert "You have left the relationship" in other_web.get("/relationships").text
    assert other_web.get(f"/relationships/{relationship_id}").status_code == 403
    assert "Ben" not in shown_text(web.get(f"/relationships/{relationship_id}").text)


def test_relationship_pages_need_sign_in(client: TestClient) -> None:
    for path in ("/relationships", "/relationships/new", "/relationships/1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")
