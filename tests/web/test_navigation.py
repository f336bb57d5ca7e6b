"""Every feature can be found: the main navigation, the home page and each relationship's page
link to it, and the navigation marks the page one is on."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.people import WebPerson, create_relationship

FEATURES = [
    "/relationships",
    "/diary",
    "/checkins",
    "/dashboard",
    "/closeness",
    "/practices",
    "/chat",
    "/studies",
    "/account",
]


def _nav(html: str) -> str:
    navs = re.findall(r'<nav aria-label="Main">.*?</nav>', html, flags=re.S)
    assert len(navs) == 1, "one main navigation landmark"
    return navs[0]


def _current(nav: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', nav)


def test_the_main_navigation_links_every_feature_and_each_page_opens(web: WebPerson) -> None:
    nav = _nav(web.get("/").text)
    assert re.findall(r'<a href="([^"]+)"', nav) == FEATURES
    assert _current(nav) == []  # the home page is not in the list (the brand links it)
    for path in FEATURES:
        response = web.get(path)
        assert response.status_code == 200, path
        assert _current(_nav(response.text)) == [path]


def test_a_page_under_a_feature_marks_that_feature(web: WebPerson) -> None:
    relationship_id = create_relationship(web)
    for path, current in (
        (f"/dashboard/{relationship_id}", "/dashboard"),
        (f"/relationships/{relationship_id}", "/relationships"),
        ("/chat/kept", "/chat"),
        ("/diary/new", "/diary"),
    ):
        assert _current(_nav(web.get(path).text)) == [current], path


def test_home_and_relationship_pages_lead_to_the_features(web: WebPerson) -> None:
    home = web.get("/").text
    main = home.split('<main id="main"', 1)[1]
    for path in ("/dashboard", "/closeness", "/practices", "/chat", "/relationships"):
        assert f'href="{path}"' in main, path
    relationship_id = create_relationship(web)
    detail = web.get(f"/relationships/{relationship_id}").text
    assert f'href="/dashboard/{relationship_id}"' in detail
    assert 'href="/closeness"' in detail


def test_visitors_see_sign_in_and_sign_up_only(client: TestClient) -> None:
    nav = _nav(client.get("/signin").text)
    assert re.findall(r'<a (?:class="[^"]*" )?href="([^"]+)"', nav) == ["/signin", "/signup"]
    assert 'href="/signin" aria-current="page"' in nav
