"""Properties of the whole app, route by route: every unsafe request needs the CSRF token,
every private page and API read needs a signed-in person, and the documentation keeps up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.people import WebPerson

PUBLIC_PAGES = {"/", "/signup", "/signin", "/password/forgot", "/password/reset", "/health"}
PUBLIC_API = {"/api/csrf", "/api/instruments"}


def concrete(path: str) -> str:
    """A route path with each parameter filled in (``{id}`` becomes ``1``)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def api_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """``(path, methods)`` of every route, including those of included routers."""
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.append((route.path, set(route.methods)))
        original = getattr(route, "original_router", None)
        if original is not None:
            prefix = route.include_context.prefix  # type: ignore[attr-defined]
            found.extend(
                (prefix + sub.path, set(sub.methods))
                for sub in original.routes
                if isinstance(sub, APIRoute)
            )
    return found


def unsafe_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method, concrete(path))
        for path, methods in api_routes(app)
        for method in sorted(methods - {"GET", "HEAD", "OPTIONS"})
    ]


def test_every_unsafe_route_refuses_a_request_without_the_csrf_token(
    app: FastAPI, web: WebPerson
) -> None:
    routes = unsafe_routes(app)
    assert len(routes) >= 20  # the matrix covers the whole app, not a handful of routes
    for method, path in routes:
        response = web.client.request(method, path, data={"x": "1"}, follow_redirects=False)
        assert response.status_code == 403, (method, path, response.status_code)
        if path.startswith("/api"):
            assert response.json()["error"]["code"] == "csrf_failed"
        else:
            assert "did not come from an attunement page" in response.text
    assert web.get("/account").status_code == 200  # still signed in: nothing was done


def test_a_form_token_from_a_page_is_accepted_for_a_json_request(web: WebPerson) -> None:
    token = web.token()
    response = web.client.post(
        "/api/relationships",
        json={"type": "friend", "role": "friend"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 201


def test_every_private_page_and_api_read_needs_sign_in(app: FastAPI, client: TestClient) -> None:
    checked = 0
    for template, methods in api_routes(app):
        if "GET" not in methods:
            continue
        path = concrete(template)
        if template in PUBLIC_PAGES | PUBLIC_API or template.startswith(("/join/", "/enroll")):
            continue
        if "calendar" in template or template.endswith(".ics"):
            continue  # private calendar feeds: the secret token in the address is the key
        response = client.get(path, follow_redirects=False)
        checked += 1
        if path.startswith("/api"):
            assert response.status_code in (401, 404, 422), (path, response.status_code)
            assert response.json()["error"]["code"] in (
                "not_signed_in",
                "not_found",
                "invalid_input",
            )
        else:
            assert response.status_code in (303, 404), (path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/signin?next=")
    assert checked >= 15


@pytest.mark.parametrize("path", sorted(PUBLIC_PAGES - {"/health"}))
def test_public_pages_render_for_visitors(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "attunement is not therapy" in response.text


def test_serve_options_and_web_settings_are_documented(repo_root: Path) -> None:
    from attunement.cli.serve import serve
    from attunement.settings import Settings

    text = (repo_root / "docs" / "web.md").read_text()
    for option in serve.params:
        for name in option.opts:
            if name.startswith("--"):
                assert name in text, name
    for setting in ("secret_key", "base_url", "smtp_host", "instrument_wording_dir"):
        assert setting in Settings.model_fields
        assert f"ATTUNEMENT_{setting.upper()}" in text
