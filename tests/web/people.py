"""A person using the web app through a test client: sign up, post forms, call the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

__all__ = [
    "PASSWORD",
    "WebPerson",
    "create_relationship",
    "csrf_from",
    "invitation_path",
    "pair",
    "shown_text",
]

PASSWORD = "correct horse battery staple"
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


_TAG = re.compile(r"<[^>]*>")


def shown_text(html: str) -> str:
    """What a page shows as text: tags and their attributes (CSRF tokens, invitation links,
    which are random and may happen to contain a name) are left out."""
    return _TAG.sub(" ", html)


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (every page has it in a meta tag)."""
    found = _META.search(html)
    if found is None:
        raise ValueError("page has no csrf-token meta tag")
    return found.group(1)


@dataclass
class WebPerson:
    client: TestClient
    email: str
    name: str
    password: str = PASSWORD

    @classmethod
    def sign_up(cls, client: TestClient, email: str, name: str) -> WebPerson:
        person = cls(client, email, name)
        response = person.post(
            "/signup",
            {"email": email, "display_name": name, "password": PASSWORD},
        )
        if response.status_code != 303:
            raise AssertionError(f"sign-up failed: {response.status_code} {response.text[:500]}")
        return person

    def token(self) -> str:
        return csrf_from(self.client.get("/").text)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        """Post a form as the browser does, with the page's CSRF token."""
        form = dict(data or {})
        form["csrf_token"] = self.token()
        return self.client.post(path, data=form, follow_redirects=False)

    def api(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """Call the JSON API with the session cookie and the X-CSRF-Token header."""
        token = self.client.get("/api/csrf").json()["csrf_token"]
        return self.client.request(method, path, json=json, headers={"X-CSRF-Token": token})


def create_relationship(person: WebPerson, **fields: str) -> int:
    """Create a relationship through the form; returns its id."""
    form = {"type": "romantic_partner", "role": "partner", "mutual_reveal": "on"}
    form["share_interactions_default"] = "on"
    form.update(fields)
    response = person.post("/relationships", form)
    if response.status_code != 303:
        raise AssertionError(f"creating failed: {response.status_code} {response.text[:500]}")
    return int(response.headers["location"].rsplit("/", 1)[1])


def invitation_path(person: WebPerson, relationship_id: int, role: str = "partner") -> str:
    """Make an invitation link on the relationship page; returns its path (/join/...)."""
    response = person.post(f"/relationships/{relationship_id}/invitations", {"role": role})
    found = re.search(r'value="https?://[^/"]+(/join/[^"]+)"', response.text)
    if found is None:
        raise AssertionError(f"no invitation link: {response.status_code} {response.text[:500]}")
    return found.group(1)


def pair(first: WebPerson, second: WebPerson, **fields: str) -> int:
    """``first`` creates a relationship and invites ``second``, who accepts; returns its id."""
    relationship_id = create_relationship(first, **fields)
    path = invitation_path(first, relationship_id)
    response = second.post(path)
    if response.status_code != 303:
        raise AssertionError(f"accepting failed: {response.status_code} {response.text[:500]}")
    return relationship_id
