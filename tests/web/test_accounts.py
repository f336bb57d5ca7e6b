"""Accounts through HTTP: sign up, sign in and out, limits, password reset, export, deletion."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from attunement.store.models import Person
from attunement.web.mail import ConsoleMailer
from tests.web.people import PASSWORD, WebPerson, csrf_from


def person_by_email(app: FastAPI, email: str) -> Person | None:
    import sqlalchemy as sa

    with app.state.session_factory() as db:
        return db.scalars(sa.select(Person).where(Person.email == email)).one_or_none()


def test_sign_up_creates_an_argon2id_account_and_signs_in(app: FastAPI, web: WebPerson) -> None:
    person = person_by_email(app, "ada@example.org")
    assert person is not None
    assert person.password_hash is not None
    assert person.password_hash.startswith("$argon2id$")
    assert PASSWORD not in person.password_hash
    page = web.get("/account")
    assert page.status_code == 200
    assert "ada@example.org" in page.text


def test_sign_up_shows_every_error_next_to_its_field(client: TestClient) -> None:
    token = csrf_from(client.get("/signup").text)
    response = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "email": "not-an-email",
            "display_name": "",
            "password": "short",
        },
    )
    assert response.status_code == 422
    html = response.text
    for field in ("email", "display_name", "password"):
        assert f'id="{field}-error"' in html
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html)
    assert 'value="not-an-email"' in html  # what was typed is kept
    assert "short" not in re.findall(r'name="password"[^>]*', html)[0]


def test_sign_up_refuses_an_email_already_used_whatever_its_case(
    client: TestClient, web: WebPerson
) -> None:
    other = WebPerson(client, "ADA@example.org", "Ada two")
    response = other.post(
        "/signup", {"email": "ADA@example.org", "display_name": "Ada two", "password": PASSWORD}
    )
    assert response.status_code == 409
    assert 'id="email-error"' in response.text


def test_sign_out_then_pages_need_sign_in_again(web: WebPerson) -> None:
    assert web.post("/signout").status_code == 303
    response = web.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Faccount"


def test_sign_in_with_the_right_password_and_go_back_where_one_was(web: WebPerson) -> None:
    web.post("/signout")
    response = web.post(
        "/signin", {"email": "Ada@Example.org", "password": PASSWORD, "next": "/account"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    assert web.get("/account").status_code == 200


def test_sign_in_never_redirects_to_another_site(web: WebPerson) -> None:
    web.post("/signout")
    response = web.post(
        "/signin", {"email": web.email, "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/"


def test_wrong_password_and_unknown_account_get_the_same_answer(web: WebPerson) -> None:
    web.post("/signout")
    wrong = web.post("/signin", {"email": web.email, "password": "not the password"})
    unknown = web.post("/signin", {"email": "nobody@example.org", "password": "whatever123"})
    assert wrong.status_code == unknown.status_code == 422
    assert "The email or the password is not right." in wrong.text
    assert "The email or the password is not right." in unknown.text


def test_sign_in_is_refused_after_five_failures_even_with_the_right_password(
    web: WebPerson,
) -> None:
    web.post("/signout")
    for _ in range(5):
        assert (
            web.post("/signin", {"email": web.email, "password": "wrong-guess-1"}).status_code
            == 422
        )
    response = web.post("/signin", {"email": web.email, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Too many sign-in attempts." in response.text


def test_a_successful_sign_in_clears_the_account_count(web: WebPerson) -> None:
    web.post("/signout")
    for _ in range(4):
        web.post("/signin", {"email": web.email, "password": "wrong-guess-1"})
    assert web.post("/signin", {"email": web.email, "password": PASSWORD}).status_code == 303
    web.post("/signout")
    for _ in range(4):
        assert (
            web.post("/signin", {"email": web.email, "password": "wrong-guess-2"}).status_code
            == 422
        )
    assert web.post("/signin", {"email": web.email, "password": PASSWORD}).status_code == 303


def reset_link(mailer: ConsoleMailer) -> str:
    found = re.search(r"http://testserver(/password/reset\?token=\S+)", mailer.outbox[-1].body)
    assert found is not None
    return found.group(1)


def test_password_reset_by_mail_works_once(web: WebPerson, mailer: ConsoleMailer) -> None:
    web.post("/signout")
    answer = web.post("/password/forgot", {"email": web.email})
    assert answer.status_code == 200
    assert len(mailer.outbox) == 1
    assert mailer.outbox[0].to == web.email
    link = reset_link(mailer)
    token = link.split("token=", 1)[1]
    from urllib.parse import unquote

    token = unquote(token)
    assert web.get(link).status_code == 200
    new_password = "a brand new passphrase"
    done = web.post("/password/reset", {"token": token, "password": new_password})
    assert done.status_code == 303
    assert "Your password has been changed." in web.get("/account").text
    again = web.post("/password/reset", {"token": token, "password": "yet another passphrase"})
    assert again.status_code == 422
    assert "already been used" in again.text
    web.post("/signout")
    assert web.post("/signin", {"email": web.email, "password": PASSWORD}).status_code == 422
    assert web.post("/signin", {"email": web.email, "password": new_password}).status_code == 303


def test_reset_for_an_unknown_email_says_the_same_and_sends_nothing(
    client: TestClient, mailer: ConsoleMailer
) -> None:
    person = WebPerson(client, "ghost@example.org", "Ghost")
    response = person.post("/password/forgot", {"email": "ghost@example.org"})
    assert response.status_code == 200
    assert "If an account uses" in response.text
    assert mailer.outbox == []


def test_a_forged_reset_token_is_refused(web: WebPerson) -> None:
    response = web.post("/password/reset", {"token": "abc.def.ghi", "password": "whatever-long-1"})
    assert response.status_code == 422
    assert "not valid" in response.text


def test_changing_the_password_signs_out_other_sessions(
    app: FastAPI, web: WebPerson, mailer: ConsoleMailer
) -> None:
    with TestClient(app) as laptop:
        other_device = WebPerson(laptop, web.email, web.name)
        assert (
            other_device.post("/signin", {"email": web.email, "password": PASSWORD}).status_code
            == 303
        )
        assert other_device.get("/account").status_code == 200
        web.post("/password/forgot", {"email": web.email})
        from urllib.parse import unquote

        token = unquote(reset_link(mailer).split("token=", 1)[1])
        web.post("/password/reset", {"token": token, "password": "changed passphrase 1"})
        assert other_device.get("/account").status_code == 303


def test_export_my_data_downloads_my_account_without_secrets(web: WebPerson) -> None:
    response = web.get("/account/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    data = json.loads(response.text)
    assert data["person"]["email"] == web.email
    assert "password_hash" not in data["person"]
    assert set(data) >= {"measurements", "interactions", "relationships", "memberships"}


def test_delete_my_account_needs_the_password_then_removes_it(app: FastAPI, web: WebPerson) -> None:
    refused = web.post("/account/delete", {"password": "not my password"})
    assert refused.status_code == 422
    assert person_by_email(app, web.email) is not None
    done = web.post("/account/delete", {"password": PASSWORD})
    assert done.status_code == 200
    assert "Your account is deleted" in done.text
    assert person_by_email(app, web.email) is None
    assert web.get("/account").status_code == 303


def test_account_pages_need_sign_in(client: TestClient) -> None:
    for path in ("/account", "/account/export"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")


@pytest.mark.parametrize("path", ["/signup", "/signin", "/password/forgot", "/password/reset"])
def test_account_forms_render_with_labels(client: TestClient, path: str) -> None:
    html = client.get(path).text
    for found in re.findall(r'<input id="([a-z_]+)"', html):
        assert f'<label for="{found}"' in html
    assert 'name="csrf_token"' in html


def test_home_greets_a_signed_in_person_and_welcomes_visitors(
    web: WebPerson, client: TestClient
) -> None:
    page = web.get("/").text
    assert "Hello, Ada" in page
    assert 'href="/diary/new"' in page
    web.post("/signout")
    assert "Create an account" in web.get("/").text
