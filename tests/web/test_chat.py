"""Chat analysis in the web app: upload an export, read it in memory, show the report, keep nothing.

Through the real app over HTTP on SQLite and PostgreSQL. The disk test watches every file
opened for writing in this process (a ``sys.addaudithook`` hook) while a 1.9 MB export, larger
than the 1 MiB at which Starlette's form parser spools an upload to a temporary file, is
uploaded; a control shows the hook does see Starlette's default parser write that file.
"""

from __future__ import annotations

import io
import os
import re
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from starlette.requests import Request

from attunement.conversation import WEEKLY_COLUMNS, read_chat, summarize_chat
from attunement.reports.chat import chat_report
from attunement.web.csrf import MAX_BODY_BYTES
from tests.web.people import PASSWORD, WebPerson, create_relationship, csrf_from, pair, shown_text

FIXTURES = Path(__file__).resolve().parents[1] / "conversation" / "fixtures"
DMY = FIXTURES / "android_24h_dmy.txt"
AMBIGUOUS = FIXTURES / "android_ambiguous.txt"
TELEGRAM = FIXTURES / "telegram_export.json"


def upload(
    person: WebPerson,
    content: bytes,
    filename: str = "chat.txt",
    *,
    token: str | None = "page",
    **fields: str,
) -> Any:
    """Post the upload form as a browser does (multipart, with the page's CSRF token)."""
    data = dict(fields)
    if token == "page":
        data["csrf_token"] = csrf_from(person.client.get("/chat").text)
    elif token is not None:
        data["csrf_token"] = token
    return person.client.post(
        "/chat",
        data=data,
        files={"export": (filename, content, "text/plain")},
        follow_redirects=False,
    )


def api_upload(person: WebPerson, content: bytes, **params: str) -> Any:
    token = person.client.get("/api/csrf").json()["csrf_token"]
    return person.client.post(
        "/api/chat/analysis",
        params=params,
        content=content,
        headers={"X-CSRF-Token": token, "content-type": "application/octet-stream"},
    )


def saved_report(person: WebPerson, page_html: str) -> str:
    """Press "Save the report" on a result page; the HTML file it answers."""
    token = re.search(r'name="keep_token" value="([^"]+)"', page_html)
    assert token is not None
    saved = person.post("/chat/report", {"keep_token": token.group(1)})
    assert saved.status_code == 200
    assert saved.headers["content-disposition"].startswith("attachment;")
    return saved.text


def row_counts(app: FastAPI) -> dict[str, int]:
    engine: Engine = app.state.engine
    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
            for table in inspect(connection).get_table_names()
        }


def big_chat(target_bytes: int) -> bytes:
    """A valid day-first Android export of about ``target_bytes``, in time order."""
    lines, size, stamp, index = [], 0, datetime(2023, 1, 13, 8, 0), 0
    texts = (
        ("Maya", "I feel a bit lonely tonight, the flat is so quiet without you"),
        ("Jonas", "that sounds hard. I miss you too, what happened today?"),
        ("Maya", "work was long and my sister called about mum again"),
        ("Jonas", "it makes sense that you are tired. we can call later"),
    )
    while size < target_bytes:
        sender, words = texts[index % len(texts)]
        line = f"{stamp:%d/%m/%Y, %H:%M} - {sender}: {words} {index}\n"
        lines.append(line)
        size += len(line.encode("utf-8"))
        stamp += timedelta(minutes=7)
        index += 1
    return "".join(lines).encode("utf-8")


def test_signed_out_person_is_refused(client: TestClient) -> None:
    page = client.get("/chat", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=")
    token = csrf_from(client.get("/signin").text)
    posted = client.post(
        "/chat",
        data={"csrf_token": token},
        files={"export": ("chat.txt", DMY.read_bytes(), "text/plain")},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/signin")
    api_token = client.get("/api/csrf").json()["csrf_token"]
    answer = client.post(
        "/api/chat/analysis", content=DMY.read_bytes(), headers={"X-CSRF-Token": api_token}
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_signed_in"
    for path in ("/chat/kept", "/chat/kept/1"):
        assert client.get(path, follow_redirects=False).status_code == 303
    for path in ("/api/chat/kept", "/api/chat/kept/1"):
        refused = client.get(path)
        assert refused.status_code == 401
        assert set(refused.json()) == {"error"}


def test_upload_shows_the_report_and_keeps_nothing(web: WebPerson, app: FastAPI) -> None:
    before = row_counts(app)
    page = upload(web, DMY.read_bytes(), "WhatsApp Chat with Maya.txt")
    assert page.status_code == 200, page.text[:800]
    html = page.text
    assert "Nothing was kept" in html
    assert "Conversation: WhatsApp Chat with Maya.txt" in html
    summary = summarize_chat(read_chat(DMY))
    assert f"{summary.messages} messages from 2 people" in html
    # the report's overall table has one column per person, side by side
    assert re.search(r"<th scope=col>Maya</th><th scope=col>Jonas</th>", html)
    assert "Week by week" in html
    assert html.count("<svg") >= 3
    # counts and rates only: no message text on the page or in the saved report
    document = saved_report(web, html)
    assert document.startswith("<!doctype html>")
    assert "Maya" in document
    for text_of_message in ("humiliated", "presentation", "Lisbon"):
        assert text_of_message not in html
        assert text_of_message not in document
    assert row_counts(app) == before


def _report_section(html: str) -> str:
    found = re.search(r'<section class="chat-report">(.*?)</section>', html, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_saved_and_kept_reports_are_the_cli_report(web: WebPerson) -> None:
    """The saved file is byte for byte what ``attunement chat report`` writes, and the kept
    summary shows the same numbers: nothing is lost on the way through the page and the store."""
    page = upload(web, DMY.read_bytes(), "chat.txt")
    expected = chat_report(read_chat(DMY), title="Conversation: chat.txt")
    assert saved_report(web, page.text) == expected
    kept = keep_from_page(web, page.text, create_relationship(web))
    shown = web.get(kept.headers["location"]).text
    assert _report_section(shown) == _report_section(page.text)


def test_pseudonymized_report_has_no_names(web: WebPerson) -> None:
    page = upload(web, DMY.read_bytes(), "WhatsApp Chat with Maya.txt", pseudonymize="on")
    assert page.status_code == 200
    assert "Person A" in page.text
    assert "Person B" in page.text
    for shown in (page.text, saved_report(web, page.text)):
        assert "Maya" not in shown
        assert "Jonas" not in shown


def test_whatsapp_zip_is_read_in_memory(web: WebPerson) -> None:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("WhatsApp Chat with Maya.txt", DMY.read_bytes())
    page = upload(web, packed.getvalue(), "WhatsApp Chat with Maya.zip")
    assert page.status_code == 200, page.text[:800]
    assert f"{summarize_chat(read_chat(DMY)).messages} messages" in page.text


def test_telegram_export_is_read(web: WebPerson) -> None:
    page = upload(web, TELEGRAM.read_bytes(), "result.json")
    assert page.status_code == 200, page.text[:800]
    summary = summarize_chat(read_chat(TELEGRAM))
    assert f"{summary.messages} messages" in page.text


def test_unsettled_date_order_is_asked_in_the_form(web: WebPerson) -> None:
    page = upload(web, AMBIGUOUS.read_bytes(), "chat.txt")
    assert page.status_code == 422
    assert "How does this chat write its dates?" in page.text
    assert 'name="date_order" value="dmy"' in page.text
    assert "line 1" in page.text
    answered = upload(web, AMBIGUOUS.read_bytes(), "chat.txt", date_order="dmy")
    assert answered.status_code == 200, answered.text[:800]
    assert "2020-02-01" in answered.text  # 01/02/2020 read day-first
    month_first = upload(web, AMBIGUOUS.read_bytes(), "chat.txt", date_order="mdy")
    assert "2020-01-02" in month_first.text


def test_malformed_export_names_line_and_reason_and_stores_nothing(
    web: WebPerson, app: FastAPI
) -> None:
    before = row_counts(app)
    broken = DMY.read_bytes() + b"31/13/2023, 10:00 - Maya: a thirteenth month\n"
    page = upload(web, broken, "chat.txt")
    assert page.status_code == 422
    lines = len(DMY.read_bytes().splitlines())
    assert f"Line {lines + 1}:" in page.text
    assert "could not be read" in page.text
    assert "Nothing from the file was kept" in page.text
    not_utf8 = upload(web, b"12/03/2023, 21:04 - Maya: \xff\xfe hi\n", "chat.txt")
    assert not_utf8.status_code == 422
    assert "UTF-8" in not_utf8.text
    assert row_counts(app) == before
    answer = api_upload(web, broken, filename="chat.txt")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["problems"][0]["line"] == lines + 1
    assert row_counts(app) == before


def test_forged_upload_is_refused(web: WebPerson, app: FastAPI) -> None:
    before = row_counts(app)
    forged = upload(web, DMY.read_bytes(), token=None)
    assert forged.status_code == 403
    assert "did not come from an attunement page" in forged.text
    wrong = upload(web, DMY.read_bytes(), token="not-a-token")
    assert wrong.status_code == 403
    api = web.client.post("/api/chat/analysis", content=DMY.read_bytes())
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "csrf_failed"
    assert row_counts(app) == before


def test_upload_over_the_limit_gets_a_clear_message(web: WebPerson) -> None:
    too_big = big_chat(MAX_BODY_BYTES + 1000)
    page = upload(web, too_big, "chat.txt")
    assert page.status_code == 413
    assert "larger than 2 MB" in page.text
    assert "did not come from an attunement page" not in page.text
    answer = api_upload(web, too_big)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


def test_api_answers_summary_and_weekly_rows(web: WebPerson) -> None:
    answer = api_upload(web, DMY.read_bytes(), filename="chat.txt")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kept"] is False
    assert body["summary"] == summarize_chat(read_chat(DMY)).to_dict()
    weekly = body["weekly"]
    assert {row["person"] for row in weekly} == {"Maya", "Jonas"}
    assert sum(row["messages"] for row in weekly) == body["summary"]["messages"]
    assert weekly[0]["week"] == "2023-03-06"  # the Monday of the week of 12 March 2023
    ambiguous = api_upload(web, AMBIGUOUS.read_bytes())
    assert ambiguous.status_code == 422
    problem = ambiguous.json()["error"]["problems"][0]
    assert problem["column"] == "date_order"
    assert problem["line"] == 1
    settled = api_upload(web, AMBIGUOUS.read_bytes(), date_order="mdy", pseudonymize="true")
    assert settled.json()["summary"]["first"] == "2020-01-02T10:00:00"
    assert set(settled.json()["summary"]["participants"]) == {"Person A", "Person B"}


def keep_from_page(person: WebPerson, page_html: str, relationship_id: int, **extra: str) -> Any:
    token = re.search(r'name="keep_token" value="([^"]+)"', page_html)
    assert token is not None, "the result page offers to keep the weekly summaries"
    return person.post(
        "/chat/keep", {"keep_token": token.group(1), "relationship": str(relationship_id), **extra}
    )


def kept_rows(app: FastAPI) -> list[dict[str, Any]]:
    engine: Engine = app.state.engine
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT person_id, relationship_id, shared, participants, weekly "
                "FROM kept_chat_summary"
            )
        )
        return [dict(row._mapping) for row in found]


def test_keeping_stores_only_weekly_numbers_privately(
    web: WebPerson, other_web: WebPerson, app: FastAPI
) -> None:
    relationship = pair(web, other_web)
    page = upload(web, DMY.read_bytes(), "WhatsApp Chat with Maya.txt")
    assert kept_rows(app) == []  # analysing alone keeps nothing
    kept = keep_from_page(web, page.text, relationship)
    assert kept.status_code == 303
    location = kept.headers["location"]
    assert re.fullmatch(r"/chat/kept/\d+", location)
    rows = kept_rows(app)
    assert len(rows) == 1
    assert rows[0]["shared"] in (False, 0)
    stored = str(rows[0]["weekly"]) + str(rows[0]["participants"])
    for text_of_message in ("humiliated", "presentation", "Lisbon", "gym"):
        assert text_of_message not in stored
    api_rows = web.api("GET", "/api/chat/kept").json()[0]["weekly"]
    assert set(api_rows[0]) == set(WEEKLY_COLUMNS)
    assert sum(row["messages"] for row in api_rows) == summarize_chat(read_chat(DMY)).messages
    shown = web.get(location)
    assert shown.status_code == 200
    assert "private" in shown.text
    assert re.search(r"<th scope=col>Maya</th><th scope=col>Jonas</th>", shown.text)
    # private by default: the other member of the relationship cannot see it
    kept_id = int(location.rsplit("/", 1)[1])
    assert other_web.get(location).status_code == 404
    assert other_web.api("GET", f"/api/chat/kept/{kept_id}").status_code == 404
    assert other_web.api("GET", "/api/chat/kept").json() == []
    assert "Maya" not in shown_text(other_web.get("/chat/kept").text)
    assert other_web.post(f"/chat/kept/{kept_id}/delete").status_code == 404
    assert len(kept_rows(app)) == 1


def test_shared_summaries_reach_members_only(
    web: WebPerson, other_web: WebPerson, app: FastAPI, client: TestClient
) -> None:
    relationship = pair(web, other_web)
    page = upload(web, DMY.read_bytes(), "chat.txt", pseudonymize="on")
    location = keep_from_page(web, page.text, relationship, shared="on").headers["location"]
    seen = other_web.get(location)
    assert seen.status_code == 200
    assert "Person A" in seen.text
    assert "Delete these summaries" not in seen.text  # only whoever kept it may delete it
    assert "shared with you" in other_web.get("/chat/kept").text
    with TestClient(app) as third_client:
        stranger = WebPerson.sign_up(third_client, "cy@example.org", "Cy")
        assert stranger.get(location).status_code == 404
        assert stranger.api("GET", "/api/chat/kept").json() == []
    kept_id = int(location.rsplit("/", 1)[1])
    assert other_web.api("DELETE", f"/api/chat/kept/{kept_id}").status_code == 404
    assert web.api("DELETE", f"/api/chat/kept/{kept_id}").status_code == 204
    assert kept_rows(app) == []


def test_keeping_refuses_forged_tokens_and_others_relationships(
    web: WebPerson, other_web: WebPerson, app: FastAPI
) -> None:
    own = create_relationship(web)
    theirs = create_relationship(other_web)
    page = upload(web, DMY.read_bytes(), "chat.txt")
    assert keep_from_page(web, page.text, theirs).status_code == 404
    forged = web.post(
        "/chat/keep", {"keep_token": "eyJyb3dzIjpbXX0.forged", "relationship": str(own)}
    )
    assert forged.status_code == 422
    assert "did not come from an analysis by this server" in forged.text
    token = re.search(r'name="keep_token" value="([^"]+)"', page.text)
    assert token is not None
    no_csrf = web.client.post(
        "/chat/keep",
        data={"keep_token": token.group(1), "relationship": str(own)},
        follow_redirects=False,
    )
    assert no_csrf.status_code == 403
    # someone else cannot keep (or save) Ada's analysis, even in their own relationship
    stolen = other_web.post(
        "/chat/keep", {"keep_token": token.group(1), "relationship": str(theirs)}
    )
    assert stolen.status_code == 422
    assert "come from someone else" in stolen.text
    assert other_web.post("/chat/report", {"keep_token": token.group(1)}).status_code == 422
    assert kept_rows(app) == []


def test_api_keeps_an_analysis_with_its_token(web: WebPerson, app: FastAPI) -> None:
    relationship = create_relationship(web)
    analysis = api_upload(web, DMY.read_bytes()).json()
    assert kept_rows(app) == []
    kept = web.api(
        "POST",
        "/api/chat/kept",
        json={"keep_token": analysis["keep_token"], "relationship_id": relationship},
    )
    assert kept.status_code == 201, kept.text
    body = kept.json()
    assert body["shared"] is False
    assert body["is_own"] is True
    assert body["weekly"] == analysis["weekly"]
    assert body["participants"] == analysis["summary"]["participants"]
    assert web.api("GET", f"/api/chat/kept/{body['id']}").json() == body
    bad = web.api(
        "POST", "/api/chat/kept", json={"keep_token": "x.y", "relationship_id": relationship}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["column"] == "keep_token"


def test_deleting_the_account_deletes_what_was_kept(web: WebPerson, app: FastAPI) -> None:
    relationship = create_relationship(web)
    page = upload(web, DMY.read_bytes(), "chat.txt")
    assert keep_from_page(web, page.text, relationship).status_code == 303
    assert len(kept_rows(app)) == 1
    assert web.post("/account/delete", {"password": PASSWORD}).status_code == 200
    assert kept_rows(app) == []


def test_one_person_cannot_see_another_persons_analysis(
    web: WebPerson, other_web: WebPerson
) -> None:
    """Nothing is stored, so nothing of Ada's upload is reachable by Ben: not in his pages,
    not in his export of everything the app holds about him."""
    assert upload(web, DMY.read_bytes(), "WhatsApp Chat with Maya.txt").status_code == 200
    for path in ("/chat", "/", "/account"):
        assert "Maya" not in shown_text(other_web.get(path).text)
    exported = other_web.client.get("/api/me/export")
    if exported.status_code == 200:
        assert "Maya" not in exported.text


# --- nothing is written to disk during an upload ------------------------------------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND


class _DiskWrites:
    """Records every file this process opens for writing while ``active``."""

    def __init__(self) -> None:
        self.active = False
        self.seen: list[str] = []

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing:
                self.seen.append(f"open {path!r} {mode or flags}")
        elif event in ("tempfile.mkstemp", "tempfile.mkdtemp"):
            self.seen.append(f"{event} {args!r}")


_WATCH: _DiskWrites | None = None


@contextmanager
def disk_writes() -> Iterator[list[str]]:
    global _WATCH
    if _WATCH is None:
        _WATCH = _DiskWrites()
        sys.addaudithook(_WATCH)  # hooks cannot be removed; this one is idle when inactive
    _WATCH.seen = []
    _WATCH.active = True
    try:
        yield _WATCH.seen
    finally:
        _WATCH.active = False


def _multipart(content: bytes) -> tuple[bytes, str]:
    boundary = "attunement-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="export"; '
            f'filename="chat.txt"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_the_disk_watch_sees_starlettes_default_spooling() -> None:
    """Control: Starlette's default form parsing writes a 1.9 MB upload to a temporary file."""
    body, content_type = _multipart(big_chat(1_900_000))

    async def parse() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "headers": [(b"content-type", content_type.encode())],
        }
        form = await Request(scope, receive).form()
        await form.close()

    with disk_writes() as seen:
        anyio.run(parse)
    assert seen, "the watch should see the spooled temporary file"


def test_nothing_is_written_to_disk_during_an_upload(web: WebPerson) -> None:
    content = big_chat(1_900_000)
    assert 1024 * 1024 < len(content) < MAX_BODY_BYTES - 10_000
    assert upload(web, DMY.read_bytes()).status_code == 200  # warm up (lazy imports)
    token = csrf_from(web.client.get("/chat").text)
    with disk_writes() as seen:
        page = web.client.post(
            "/chat",
            data={"csrf_token": token},
            files={"export": ("chat.txt", content, "text/plain")},
        )
        api = api_upload(web, content)
    assert page.status_code == 200, page.text[:500]
    assert api.status_code == 200
    assert api.json()["summary"]["messages"] == content.count(b"\n")
    assert seen == []
