"""What every route of the web app needs: the database session, the signed-in person, CSRF.

Use them in a router like this::

    from fastapi import APIRouter, Depends
    from attunement.web.deps import CurrentUser, DbSession, render

    router = APIRouter()

    @router.get("/things")
    def things(request: Request, db: DbSession, me: CurrentUser) -> HTMLResponse:
        return render(request, "things/list.html", {"things": ...})

- :data:`DbSession` (``Depends(get_db)``): a :class:`~attunement.store.engine.StoreSession`
  for this request; commit yourself (``db.commit()``), it is rolled back and closed afterwards.
  Write routes as plain ``def`` (not ``async def``): FastAPI runs them in a thread pool.
- :data:`ReadSession` (``Depends(get_read_db)``): a session for routes that only read (pages,
  dashboards, lists). On SQLite it takes no write lock, so it neither waits for writers nor
  makes them wait; a write in it fails. A route that writes anything (an audit row included)
  uses :data:`DbSession`.
- :data:`CurrentUser` (``Depends(get_current_user)``): the signed-in
  :class:`~attunement.store.models.Person`. Without one, browsers are redirected to
  ``/signin?next=...`` and the API answers 401 in the JSON error shape.
  :data:`OptionalUser` gives ``None`` instead.
- CSRF: every POST/PUT/PATCH/DELETE is checked by middleware before your route runs. In a
  form template write ``{{ csrf_field() }}``; from JavaScript send the ``csrf_token`` of the
  page (``<meta name="csrf-token">`` in ``base.html``) as the ``X-CSRF-Token`` header.
- :func:`render`: a Jinja2 page; pass ``errors={"field": "message"}`` and ``form={...}`` to show
  form errors next to their fields (see ``templates/macros.html``).
- :func:`field_errors`: turns an :class:`~attunement.errors.AttunementError` into that dict.
- Raise :class:`~attunement.errors.AttunementError` subclasses for anything a person can
  cause; the app turns them into a page or the JSON error shape with the right status.
- :data:`FormFields` (``Depends(form_fields)``): every field of a submitted form as a
  ``dict[str, str]`` (the last value of a repeated field), for forms whose fields are not known
  in advance (a questionnaire's items).
- :data:`IdPath` / :data:`IdQuery`: a record id in the path or query, 1 to :data:`MAX_ID`
  (the database's integer range; a larger number is a clear 422, not a database error).
- Pages may not use inline scripts (``Content-Security-Policy: script-src 'self'``): put
  JavaScript in ``web/static`` and load it with ``<script src="/static/...">``.
- :data:`AppSettings`: the :class:`~attunement.settings.Settings` the app was built with.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import anyio
import anyio.to_thread
import sqlalchemy as sa
from fastapi import Depends, Path, Query
from sqlalchemy.orm import make_transient_to_detached, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from attunement.errors import AttunementError
from attunement.settings import Settings
from attunement.store.engine import Database, QuickReadUnavailableError, StoreSession
from attunement.store.models import Person
from attunement.web.csrf import csrf_token
from attunement.web.failures import AuthenticationRequiredError
from attunement.web.templating import render

__all__ = [
    "MAX_ID",
    "AppSettings",
    "CurrentUser",
    "DbSession",
    "FormFields",
    "IdPath",
    "IdQuery",
    "OptionalUser",
    "ReadSession",
    "RequestSessions",
    "client_address",
    "csrf_token",
    "field_errors",
    "form_fields",
    "get_current_user",
    "get_db",
    "get_optional_user",
    "get_read_db",
    "get_settings",
    "render",
    "session_fingerprint",
    "sign_in",
    "sign_out",
]


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return _settings(request)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_SESSIONS_KEY = "attunement.db_sessions"


class RequestSessions:
    """ASGI middleware: the database sessions a request opened are closed once it is answered.

    :func:`get_db` and :func:`get_read_db` open their session on first use and register it in
    the request's scope; one registry and one close per request cost far less than a generator
    dependency each (FastAPI enters and leaves every generator through an exit stack). A
    session still holding a connection is closed in a thread from a limiter of its own: if it
    came from the route threads, every one of them could be waiting for the connection this
    close is about to give back. Others close at once, without a thread.
    """

    def __init__(self, app: ASGIApp, *, limiter: anyio.CapacityLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        opened: dict[str, StoreSession] = {}
        scope[_SESSIONS_KEY] = opened
        try:
            await self.app(scope, receive, send)
        finally:
            # Shielded: a cancelled request must still give its connection back (on SQLite
            # the writer has only one).
            with anyio.CancelScope(shield=True):
                for session in opened.values():
                    await self._close(session)

    async def _close(self, session: StoreSession) -> None:
        if session.holds_connection:
            await anyio.to_thread.run_sync(session.close, limiter=self.limiter)
        else:
            session.close()


def _request_session(request: Request, factory_name: str) -> StoreSession:
    opened: dict[str, StoreSession] | None = request.scope.get(_SESSIONS_KEY)
    if opened is None:
        raise RuntimeError("database sessions need the RequestSessions middleware")
    session = opened.get(factory_name)
    if session is None:
        factory: sessionmaker[StoreSession] = getattr(request.app.state, factory_name)
        session = opened[factory_name] = factory()
    return session


async def get_db(request: Request) -> StoreSession:
    """The request's database session; commit yourself. Rolled back (if not committed) and
    closed once the request is answered (:class:`RequestSessions`)."""
    return _request_session(request, "session_factory")


async def get_read_db(request: Request) -> StoreSession:
    """The request's read-only database session (see :data:`ReadSession`)."""
    return _request_session(request, "read_session_factory")


def session_fingerprint(person: Person, secret_key: str) -> str:
    """A short keyed digest of the person's password hash, kept in the session cookie.

    Changing the password (a reset included) changes it, which signs out every other session.
    """
    material = (person.password_hash or "").encode("utf-8")
    return hmac.digest(secret_key.encode("utf-8"), material, "sha256").hex()[:32]


def _secret(request: Request) -> str:
    return _settings(request).secret_key.get_secret_value()


_PERSON_COLUMNS = tuple(
    (attribute.key, attribute.columns[0]) for attribute in sa.inspect(Person).column_attrs
)
_PERSON_BY_ID = sa.select(*(column for _key, column in _PERSON_COLUMNS)).where(
    Person.id == sa.bindparam("person_id")
)


def _read_person(reader: StoreSession, person_id: int) -> tuple[Any, ...] | None:
    row = reader.connection().execute(_PERSON_BY_ID, {"person_id": person_id}).first()
    reader.commit()  # end the read: a later read in this request sees a fresh snapshot
    return None if row is None else tuple(row)


async def _person_row(request: Request, person_id: int) -> tuple[Any, ...] | None:
    """The person's row: read at once in the event loop where that cannot wait (a SQLite
    file), else in a worker thread through the request's reader."""
    database: Database = request.app.state.database
    try:
        return database.read_now(_PERSON_BY_ID, {"person_id": person_id})
    except QuickReadUnavailableError:
        reader = _request_session(request, "read_session_factory")
        return await run_in_threadpool(_read_person, reader, person_id)


async def get_optional_user(request: Request) -> Person | None:
    """The signed-in person, or ``None``.

    The person is read with one plain query (no write lock) and placed in the request's
    writer session as if loaded there, so a route may change it and commit.
    """
    session = request.session
    person_id = session.get("pid")
    if not isinstance(person_id, int):
        return None
    row = await _person_row(request, person_id)
    person = None
    if row is not None:
        person = Person(
            **{key: value for (key, _column), value in zip(_PERSON_COLUMNS, row, strict=True)}
        )
        make_transient_to_detached(person)
        _request_session(request, "session_factory").add(person)
    if person is None or not hmac.compare_digest(
        str(session.get("auth", "")), session_fingerprint(person, _secret(request))
    ):
        session.pop("pid", None)
        session.pop("auth", None)
        session.pop("name", None)
        return None
    request.state.user = person
    return person


async def get_current_user(
    person: Annotated[Person | None, Depends(get_optional_user)],
) -> Person:
    """The signed-in person; raises :class:`AuthenticationRequiredError` when there is none."""
    if person is None:
        raise AuthenticationRequiredError()
    return person


def sign_in(request: Request, person: Person) -> None:
    """Start a signed-in session for ``person`` (a fresh CSRF secret, against fixation)."""
    session = request.session
    session.clear()
    session["pid"] = person.id
    session["auth"] = session_fingerprint(person, _secret(request))
    session["name"] = person.display_name
    csrf_token(session, _secret(request))


def sign_out(request: Request) -> None:
    """End the session (the cookie is cleared)."""
    request.session.clear()


def client_address(request: Request) -> str:
    """The client's network address (the direct peer; put a proxy's address rules in front)."""
    return request.client.host if request.client else "unknown"


def field_errors(error: AttunementError, fields: set[str] | None = None) -> dict[str, str]:
    """Map an error's problems onto form fields: ``{"field": "message"}``.

    Problems without a column (or with a column not in ``fields``) go under ``"_form"``, which
    otherwise holds the error's message (shown above the form).
    """
    errors: dict[str, str] = {}
    for problem in error.problems:
        column = problem.column
        key = column if column and (fields is None or column in fields) else "_form"
        text = problem.message
        if problem.allowed:
            text += f" (allowed: {problem.allowed})"
        errors.setdefault(key, text)
    errors.setdefault("_form", error.message)
    return errors


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form as plain text fields (file uploads are ignored)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


MAX_ID = 2**31 - 1
"""The largest record id (PostgreSQL's ``integer``)."""

DbSession = Annotated[StoreSession, Depends(get_db)]
ReadSession = Annotated[StoreSession, Depends(get_read_db)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
FormFields = Annotated[dict[str, str], Depends(form_fields)]
CurrentUser = Annotated[Person, Depends(get_current_user)]
OptionalUser = Annotated[Person | None, Depends(get_optional_user)]
AppSettings = Annotated[Settings, Depends(get_settings)]
