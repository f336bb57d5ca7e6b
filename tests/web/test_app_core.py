"""The app shell: health, error shapes, CSRF, session cookies, security headers, static files."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from attunement.errors import InvalidInputError
from attunement.settings import Settings
from attunement.web import create_app
from attunement.web.app import SESSION_COOKIE, _add_routes, _routers


def test_health_answers_ok_after_a_database_query(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_reports_an_unreachable_database() -> None:
    settings = Settings(environment="test", database_url="postgresql://nobody@127.0.0.1:1/none")
    client = TestClient(create_app(settings))  # no startup: the upgrade would fail first
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_unknown_page_is_a_friendly_html_404(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is nothing at this address." in response.text
    assert "attunement is not therapy" in response.text


def test_unknown_api_address_is_the_json_error_shape(client: TestClient) -> None:
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "hint", "problems"}
    assert body["error"]["code"] == "not_found"


def test_forged_form_post_is_refused_with_a_clear_403_page(client: TestClient) -> None:
    client.get("/")  # a session exists, but the form carries no token
    response = client.post("/signout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert "did not come from an attunement page" in response.text


def test_post_with_a_token_from_another_session_is_refused(app: object) -> None:
    with TestClient(app) as first, TestClient(app) as second:  # type: ignore[arg-type]
        token = first.get("/api/csrf").json()["csrf_token"]
        second.get("/")
        response = second.post("/signout", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403
        own = second.get("/api/csrf").json()["csrf_token"]
        response = second.post("/signout", data={"csrf_token": own}, follow_redirects=False)
        assert response.status_code == 303


def test_tampered_token_is_refused_in_the_api(client: TestClient) -> None:
    token = client.get("/api/csrf").json()["csrf_token"]
    response = client.post("/api/session", json={}, headers={"X-CSRF-Token": token + "x"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_session_cookie_is_httponly_samesite_lax_and_not_secure_on_http(
    client: TestClient,
) -> None:
    response = client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()


def test_session_cookie_is_secure_when_base_url_is_https(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"base_url": "https://example.org"}))
    with TestClient(app, base_url="https://testserver") as client:
        cookie = client.get("/").headers["set-cookie"]
    assert re.search(r";\s*secure", cookie, re.IGNORECASE)


def test_security_headers_on_every_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_stylesheet_is_shipped_in_the_package(client: TestClient) -> None:
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert "font-family" in response.text or "--font" in response.text
    assert "http" not in re.sub(r"/\*.*?\*/", "", response.text, flags=re.DOTALL)


def test_base_layout_is_accessible_and_has_the_not_therapy_footer(client: TestClient) -> None:
    html = client.get("/").text
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert 'href="#main"' in html  # skip link
    assert "attunement is not therapy" in html
    assert "findahelpline.com" in html
    assert '<script src="http' not in html
    assert "cdn" not in html.lower()


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(InvalidInputError, match="SECRET_KEY"):
        create_app(Settings(environment="production", database_url="sqlite://"))


def test_an_unreachable_database_is_a_calm_503_page() -> None:
    settings = Settings(environment="test", database_url="postgresql://nobody@127.0.0.1:1/none")
    client = TestClient(create_app(settings))
    page = client.get("/signin?next=/account")
    assert page.status_code == 200  # the sign-in form needs no database
    token = client.get("/api/csrf").json()["csrf_token"]
    api = client.post(
        "/api/session",
        json={"email": "ada@example.org", "password": "whatever it is"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "unavailable"


def test_every_route_module_route_is_served_once_and_matched_once(app: FastAPI) -> None:
    served = [route for route in app.routes if not isinstance(route, Mount)]
    expected = [route for router in _routers() for route in router.routes]
    assert len(expected) > 100
    assert [route for route in served if route in expected] == expected
    # plain routes only: no included-router branch that a request would be matched through
    # twice (the reminder loop the practices router brings is tested in
    # test_practices_reminder_loop.py)
    assert {type(route) for route in served} <= {APIRoute, Route}


def test_a_route_module_with_startup_handlers_is_refused(settings: Settings) -> None:
    with pytest.raises(RuntimeError, match="startup or shutdown"):
        _add_routes(create_app(settings), [APIRouter(on_startup=[lambda: None])])
