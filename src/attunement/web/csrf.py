"""Protection against cross-site request forgery (CSRF) for every unsafe request.

Each browser session holds a random secret (``session["csrf"]``). Pages put a token derived
from it in every form (``<input type="hidden" name="csrf_token">``); JavaScript and API clients
send the same token in the ``X-CSRF-Token`` header (``GET /api/csrf`` hands one out). The token
is the secret signed with the application key and a timestamp, so a token is bound to one
session, cannot be forged without the key, and expires with the session.

:class:`CSRFMiddleware` checks every POST, PUT, PATCH and DELETE before any route runs, so no
route can forget it. A request without a valid token is refused with 403 (a friendly page for
browsers, the JSON error shape under ``/api``). The body is read once here and replayed to the
route unchanged.

Forms are parsed in memory (:func:`read_form_in_memory`): the body is already held whole (at most
:data:`MAX_BODY_BYTES`), so an uploaded file is never spooled to a temporary file on disk, as
Starlette's parser does past 1 MiB. A larger body is refused with 413 (:func:`too_large_error`).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attunement.errors import AttunementError, InvalidInputError, PermissionDeniedError

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "MAX_BODY_BYTES",
    "TOO_LARGE_SCOPE_KEY",
    "CSRFMiddleware",
    "csrf_token",
    "forged_request_error",
    "read_form_in_memory",
    "too_large_error",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_BODY_BYTES = 2 * 1024 * 1024
TOO_LARGE_SCOPE_KEY = "attunement.body_too_large"
_SALT = "attunement.csrf"
_MAX_AGE_SECONDS = 14 * 24 * 60 * 60


@functools.lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    # Built once per key: its construction derives the signing key on every request.
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def csrf_token(session: MutableMapping[str, Any], secret_key: str) -> str:
    """The token to put in a form (or header) for this session; creates the secret if needed."""
    secret = session.get("csrf")
    if not isinstance(secret, str):
        secret = secrets.token_urlsafe(32)
        session["csrf"] = secret
    return str(_serializer(secret_key).dumps(secret))


def token_matches(session: MutableMapping[str, Any], secret_key: str, token: str | None) -> bool:
    """Whether ``token`` was issued for this session by this application."""
    secret = session.get("csrf")
    if not token or not isinstance(secret, str):
        return False
    try:
        value = _serializer(secret_key).loads(token, max_age=_MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return isinstance(value, str) and hmac.compare_digest(value, secret)


def forged_request_error() -> PermissionDeniedError:
    """The error shown when a form or API call arrives without a valid CSRF token."""
    return PermissionDeniedError(
        "This request was refused because it did not come from an attunement page.",
        hint="Go back, reload the page and send the form again. If you use the API, send the "
        "token from GET /api/csrf in the X-CSRF-Token header.",
        code="csrf_failed",
    )


def too_large_error() -> AttunementError:
    """The error shown when a request body is larger than :data:`MAX_BODY_BYTES`."""
    return AttunementError(
        f"This request is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB, the most this "
        "server accepts at once.",
        hint="Send a smaller file. For a chat export: upload the .zip that WhatsApp's "
        "'Export chat' makes (it is smaller than the .txt), or analyse a long chat on your own "
        "computer with 'attunement chat report'.",
        code="too_large",
    )


class _InMemoryMultiPartParser(MultiPartParser):
    # Never roll an uploaded file over to disk: the body is already in memory, whole.
    spool_max_size = MAX_BODY_BYTES + 1


async def read_form_in_memory(request: Request) -> FormData:
    """The request's form, with uploaded files held in memory (never a temporary file).

    Only for bodies the middleware has buffered (at most :data:`MAX_BODY_BYTES`). A malformed
    multipart body raises :class:`~attunement.errors.InvalidInputError`.
    """
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await request.form()
    try:
        return await _InMemoryMultiPartParser(request.headers, request.stream()).parse()
    except MultiPartException as exc:
        raise InvalidInputError(
            f"The form could not be read: {exc.message}",
            hint="Send the form again from the page.",
        ) from None


class CSRFMiddleware:
    """Refuses unsafe requests whose CSRF token does not match the session's.

    Must sit inside the session middleware (it reads ``scope["session"]``). ``on_refused`` is
    an ASGI app called for refused requests; it renders the 403 page or JSON error.
    """

    def __init__(self, app: ASGIApp, *, secret_key: str, on_refused: ASGIApp) -> None:
        self.app = app
        self.secret_key = secret_key
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        replay = _replayer(body, receive)
        if not complete:
            await self.on_refused({**scope, TOO_LARGE_SCOPE_KEY: True}, replay, send)
            return
        request = Request(scope, replay)
        token = request.headers.get(CSRF_HEADER)
        if token is None and _is_form(request):
            try:
                form = await read_form_in_memory(request)
            except InvalidInputError:
                form = FormData()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
            await form.close()
        if token_matches(scope.get("session", {}), self.secret_key, token):
            await self.app(scope, _replayer(body, receive), send)
        else:
            await self.on_refused(scope, _replayer(body, receive), send)


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and False if it was larger than :data:`MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replayer(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body once, then waits on the real connection."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
