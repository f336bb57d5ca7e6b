"""The interaction diary through HTTP: the quick form, mutual reveal, private notes, no pressure."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.people import WebPerson, create_relationship, pair, shown_text


def record(person: WebPerson, relationship_id: int, **extra: str) -> str:
    form = {"relationship_id": str(relationship_id), "when": "0", "channel": "in_person"}
    form.update({"shared": "on", "duration_minutes": "20"})
    form.update({f"interaction_{n}": str(n % 7 + 1) for n in range(1, 9)})
    form.update(extra)
    response = person.post("/diary", form)
    assert response.status_code == 303, response.text[:800]
    return str(response.headers["location"])


def pending_id(person: WebPerson, relationship_id: int) -> str:
    page = person.get(f"/diary?relationship={relationship_id}").text
    found = re.search(r"responds_to=(\d+)", page)
    assert found is not None
    return found.group(1)


@pytest.fixture
def couple(web: WebPerson, other_web: WebPerson) -> int:
    return pair(web, other_web)


def test_diary_without_a_relationship_explains_what_to_do(web: WebPerson) -> None:
    page = web.get("/diary/new")
    assert page.status_code == 200
    assert "Create a relationship" in page.text


def test_the_form_is_quick_every_rating_optional_and_the_note_private(
    web: WebPerson, couple: int
) -> None:
    html = web.get(f"/diary/new?relationship={couple}").text
    assert html.count('type="radio" name="interaction_') == 8 * 7
    assert 'name="interaction_1" value="1" required' not in html
    assert "Every rating is optional" in html
    assert re.search(r'id="note_shared"(?![^>]*checked)', html)
    assert re.search(r'id="shared"[^>]*checked', html)  # the relationship's default


def test_a_record_with_no_ratings_at_all_is_accepted(web: WebPerson, couple: int) -> None:
    response = web.post("/diary", {"relationship_id": str(couple), "channel": "text", "when": "60"})
    assert response.status_code == 303
    page = web.get(response.headers["location"]).text
    assert page.count("skipped") == 8


def test_bad_fields_are_all_shown_next_to_their_fields(web: WebPerson, couple: int) -> None:
    response = web.post(
        "/diary",
        {"relationship_id": str(couple), "channel": "pigeon", "interaction_2": "0"},
    )
    assert response.status_code == 422
    assert 'id="channel-error"' in response.text
    assert 'id="interaction_2-error"' in response.text


def test_mutual_reveal_shows_both_views_only_once_both_have_answered(
    web: WebPerson, other_web: WebPerson, couple: int
) -> None:
    ada_record = record(web, couple, note="I felt heard")
    assert "Not recorded yet" in web.get(ada_record).text
    assert other_web.get(ada_record).status_code == 403  # Ben has not answered yet
    listing = other_web.get(f"/diary?relationship={couple}").text
    assert "Add my view" in listing
    assert "I felt heard" not in listing
    ben_record = record(
        other_web, couple, responds_to=pending_id(other_web, couple), note="Ben's own note"
    )
    ben_page = other_web.get(ben_record).text
    assert '<h2 id="both-heading">Both views</h2>' in ben_page
    assert '<th scope="col">Ada</th>' in ben_page
    assert "I felt heard" not in ben_page  # the note stays private
    ada_page = web.get(ada_record).text
    assert '<th scope="col">Ben</th>' in ada_page
    assert "I felt heard" in ada_page
    assert "Ben&#39;s own note" not in ada_page
    assert "Ben's own note" not in ada_page
    assert "Both views" in web.get(f"/diary?relationship={couple}").text


def test_a_shared_note_is_visible_after_the_reveal(
    web: WebPerson, other_web: WebPerson, couple: int
) -> None:
    ada_record = record(web, couple, note="thank you for listening", note_shared="on")
    record(other_web, couple, responds_to=pending_id(other_web, couple))
    ada_id = ada_record.rsplit("/", 1)[1]
    assert "thank you for listening" in other_web.get(f"/diary/{ada_id}").text


def test_an_unshared_record_is_never_offered_to_the_partner(
    web: WebPerson, other_web: WebPerson, couple: int
) -> None:
    location = record(web, couple, shared="")
    assert "Only yours" in web.get(location).text
    assert "Add my view" not in other_web.get(f"/diary?relationship={couple}").text
    assert other_web.get(location).status_code == 404


def test_answering_without_sharing_keeps_ones_view_private(
    web: WebPerson, other_web: WebPerson, couple: int
) -> None:
    ada_record = record(web, couple)
    record(other_web, couple, responds_to=pending_id(other_web, couple), shared="")
    page = web.get(ada_record).text
    assert "chose to keep their view to themselves" in page


def test_strangers_and_former_members_cannot_read_the_diary(
    web: WebPerson, other_web: WebPerson, couple: int, app: object
) -> None:
    location = record(web, couple)
    record(other_web, couple, responds_to=pending_id(other_web, couple))
    with TestClient(app) as third:  # type: ignore[arg-type]
        cleo = WebPerson.sign_up(third, "cleo@example.org", "Cleo")
        assert cleo.get(location).status_code == 404
        create_relationship(cleo)
        response = cleo.post(
            "/diary", {"relationship_id": str(couple), "channel": "phone", "when": "0"}
        )
        assert response.status_code == 404
        assert "Ada" not in shown_text(cleo.get(f"/diary?relationship={couple}").text)
    other_web.post(f"/relationships/{couple}/leave")
    assert other_web.get(location).status_code == 403


def test_diary_pages_need_sign_in(client: TestClient) -> None:
    for path in ("/diary", "/diary/new", "/diary/1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
