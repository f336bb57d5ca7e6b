"""Check-ins through HTTP: instrument forms, scoring on submit, plain-words results, trends,
and who may read them."""

from __future__ import annotations

import re

import pytest

from attunement.instruments import instrument_ids, load_instrument
from tests.web.people import WebPerson, create_relationship, pair, shown_text


def about_value(person: WebPerson, instrument: str = "eis") -> str:
    page = person.get(f"/checkins/new?instrument={instrument}").text
    found = re.search(r'<option value="(\d+:\d+)"', page)
    assert found is not None
    return found.group(1)


def eis(person: WebPerson, answers: list[int], **extra: str) -> str:
    form = {f"eis_{n}": str(value) for n, value in enumerate(answers, start=1)}
    form.update(extra)
    response = person.post("/checkins/eis", form)
    assert response.status_code == 303, response.text[:800]
    return str(response.headers["location"])


def test_eis_is_the_default_and_its_wording_is_not_invented(web: WebPerson) -> None:
    page = web.get("/checkins/new").text
    assert "<h1>Emotional Intimacy Scale</h1>" in page
    assert "The wording of this questionnaire is not included." in page
    assert "ATTUNEMENT_INSTRUMENT_WORDING_DIR" in page
    assert "Statement 1 (from your licensed copy)" in page
    assert "accepts me" not in page  # the usual (copyrighted) wording of item 1


def test_supplied_wording_is_shown(web: WebPerson, app: object, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "wording"
    folder.mkdir()
    (folder / "eis.toml").write_text(
        "[items]\n" + "".join(f'{n} = "Licensed statement number {n}."\n' for n in range(1, 6))
    )
    settings = app.state.settings  # type: ignore[attr-defined]
    app.state.settings = settings.model_copy(update={"instrument_wording_dir": folder})  # type: ignore[attr-defined]
    page = web.get("/checkins/new?instrument=eis").text
    assert "1. Licensed statement number 1." in page
    assert "The wording of this questionnaire is not included." not in page


def test_eis_about_one_person_is_scored_and_explained_with_its_citation(
    web: WebPerson, other_web: WebPerson
) -> None:
    pair(web, other_web)
    location = eis(web, [4, 5, 3, 4, 4], about=about_value(web))
    page = web.get(location).text
    assert "about Ben" in page
    assert "20 on a range of 5 to 25 (the sum of 5 answers)" in page
    assert "Sinclair, V. G., &amp; Dowdy, S. W. (2005)" in page
    assert "What is not verified" in page


def test_a_missing_answer_is_prorated_and_too_few_give_no_score(web: WebPerson) -> None:
    page = web.get(eis(web, [4, 4, 4, 4][:4])).text  # 4 of 5 answered: 16 * 5/4 = 20
    assert "20 on a range of 5 to 25" in page
    response = web.post("/checkins/eis", {"eis_1": "5", "eis_2": "5"})
    assert response.status_code == 303
    assert "Not enough answers for a score" in web.get(response.headers["location"]).text


def test_an_answer_off_the_scale_is_shown_next_to_its_item(web: WebPerson) -> None:
    response = web.post("/checkins/eis", {"eis_1": "9", "eis_2": "x", "eis_3": "3"})
    assert response.status_code == 422
    assert 'id="eis_1-error"' in response.text
    assert 'id="eis_2-error"' in response.text
    assert 'id="eis_3-error"' not in response.text
    assert re.search(r'name="eis_3" value="3" checked', response.text)


def test_no_answers_at_all_is_refused(web: WebPerson) -> None:
    assert web.post("/checkins/eis", {}).status_code == 422


def test_the_trend_appears_from_the_second_check_in(web: WebPerson, other_web: WebPerson) -> None:
    pair(web, other_web)
    about = about_value(web)
    first = web.get(eis(web, [3, 3, 3, 3, 3], about=about)).text
    assert "This is your first EIS check-in about Ben" in first
    second = web.get(eis(web, [4, 4, 4, 4, 4], about=about)).text
    assert "<svg" in second
    assert "EIS over time, about Ben" in second
    assert re.search(r"<td>[^<]+</td><td>20</td>.*<td>[^<]+</td><td>15</td>", second, re.DOTALL)


@pytest.mark.parametrize("instrument", sorted(set(instrument_ids()) - {"interaction"}))
def test_every_instrument_of_the_bank_renders_and_scores(web: WebPerson, instrument: str) -> None:
    definition = load_instrument(instrument)
    page = web.get(f"/checkins/new?instrument={instrument}")
    assert page.status_code == 200
    for item in definition.items:
        assert f'name="{item.column}"' in page.text
    middle = (definition.scale.min + definition.scale.max) // 2
    form = {item.column: str(middle) for item in definition.items}
    response = web.post(f"/checkins/{instrument}", form)
    assert response.status_code == 303
    result = web.get(response.headers["location"]).text
    assert definition.citation.split(".")[0].replace("&", "&amp;") in result
    assert "on a range of" in result


def test_an_unknown_instrument_is_not_found(web: WebPerson) -> None:
    assert web.get("/checkins/new?instrument=nope").status_code == 404


def test_private_check_ins_stay_private(web: WebPerson, other_web: WebPerson) -> None:
    pair(web, other_web)
    location = eis(web, [4, 4, 4, 4, 4], about=about_value(web))  # not ticked: private
    assert other_web.get(location).status_code == 404
    assert "Ada" not in shown_text(other_web.get("/checkins").text)


def test_shared_check_ins_are_readable_by_the_partner_only(
    web: WebPerson, other_web: WebPerson, app: object
) -> None:
    from fastapi.testclient import TestClient

    pair(web, other_web)
    location = eis(web, [4, 4, 4, 4, 4], about=about_value(web), shared="on")
    page = other_web.get(location)
    assert page.status_code == 200
    assert "Shared by Ada" in page.text
    assert "Over time" not in page.text  # only one's own trend is drawn
    with TestClient(app) as third:  # type: ignore[arg-type]
        stranger = WebPerson.sign_up(third, "cleo@example.org", "Cleo")
        assert stranger.get(location).status_code == 404


def test_check_in_about_a_relationship_one_is_not_in_is_refused(
    web: WebPerson, other_web: WebPerson
) -> None:
    relationship_id = create_relationship(other_web)
    response = web.post("/checkins/eis", {"about": f"{relationship_id}:1", "eis_1": "3"})
    assert response.status_code == 404
