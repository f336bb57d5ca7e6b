"""How failures reach people: one JSON error shape under ``/api``, friendly pages elsewhere.

Every failure is an :class:`~attunement.errors.AttunementError` (or becomes one here), so the
JSON body is always ``{"error": {"code", "message", "hint", "problems"}}``. The HTTP status
follows the error's ``code`` (:data:`STATUS_BY_CODE`). A browser that is not signed in is sent
to the sign-in page and brought back afterwards; anything unexpected is logged with its
traceback and shown as a calm 500 page that leaks nothing.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from attunement.errors import AttunementError, InvalidInputError, Problem
from attunement.web.csrf import TOO_LARGE_SCOPE_KEY, forged_request_error, too_large_error
from attunement.web.templating import render

__all__ = [
    "STATUS_BY_CODE",
    "AuthenticationRequiredError",
    "RateLimitedError",
    "error_response",
    "install_error_handlers",
    "refuse_forged_request",
    "wants_json",
]

log = logging.getLogger("attunement.web")

STATUS_BY_CODE = {
    "invalid": 400,
    "invalid_input": 422,
    "not_signed_in": 401,
    "permission_denied": 403,
    "csrf_failed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}


class AuthenticationRequiredError(AttunementError):
    """The request needs a signed-in person and there is none (or the session has expired)."""

    def __init__(self) -> None:
        super().__init__(
            "Please sign in first.",
            hint="Sign in at /signin (or POST /api/session), then try again.",
            code="not_signed_in",
        )


class RateLimitedError(AttunementError):
    """Too many attempts in a short time; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            message,
            hint=f"Wait about {minutes} minute{'s' if minutes != 1 else ''} and try again.",
            code="rate_limited",
        )
        self.retry_after = retry_after


def wants_json(request: Request) -> bool:
    """JSON for the API (and the health check); HTML pages for everything else."""
    path = request.url.path
    return path.startswith("/api") or path == "/health"


def error_response(request: Request, error: AttunementError) -> Response:
    """The response for ``error``: JSON under /api, a friendly page (or sign-in) elsewhere."""
    status = STATUS_BY_CODE.get(error.code, 400)
    headers = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    if wants_json(request):
        return JSONResponse(error.to_dict(), status_code=status, headers=headers)
    if isinstance(error, AuthenticationRequiredError):
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    response = render(
        request,
        "errors/error.html",
        {
            "title": _phrase(status),
            "status": status,
            "error": error,
        },
        status_code=status,
    )
    response.headers.update(headers)
    return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _from_http_exception(exc: StarletteHTTPException) -> AttunementError:
    if exc.status_code == 404:
        return AttunementError(
            "There is nothing at this address.",
            hint="Check the link, or start again from the home page.",
            code="not_found",
        )
    if exc.status_code == 405:
        return AttunementError(
            "This address does not accept that kind of request.",
            hint="Use the links and forms of the app.",
            code="method_not_allowed",
        )
    code = {401: "not_signed_in", 403: "permission_denied", 409: "conflict", 413: "too_large"}
    return AttunementError(
        str(exc.detail) if exc.detail else _phrase(exc.status_code),
        code=code.get(exc.status_code, "invalid"),
    )


def _from_validation_error(exc: RequestValidationError) -> InvalidInputError:
    problems = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query")]
        value = item.get("input")
        problems.append(
            Problem(
                str(item.get("msg", "invalid value")),
                column=".".join(location) or None,
                value=value if isinstance(value, (str, int, float, bool)) else None,
            )
        )
    return InvalidInputError(
        "Some fields are missing or not valid.",
        hint="Correct the fields listed in problems and send the request again.",
        problems=problems,
    )


async def refuse_forged_request(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI app used by the CSRF middleware for a request without a valid token (or too large)."""
    request = Request(scope, receive)
    error = too_large_error() if scope.get(TOO_LARGE_SCOPE_KEY) else forged_request_error()
    response = error_response(request, error)
    await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through :func:`error_response`."""

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, AttunementError):  # pragma: no cover - registered for it
            raise exc
        return error_response(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
            raise exc
        return error_response(request, _from_http_exception(exc))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError):  # pragma: no cover
            raise exc
        return error_response(request, _from_validation_error(exc))

    async def on_data_error(request: Request, exc: Exception) -> Response:
        # The database refused a value the request carried (a number beyond its integer
        # range, a NUL character in text): the request is at fault, not the server.
        log.info("database refused a value on %s %s: %s", request.method, request.url.path, exc)
        error = InvalidInputError(
            "A value in this request cannot be stored or looked up.",
            hint="Check numbers are in range and text has no control characters.",
        )
        return error_response(request, error)

    async def on_database_unavailable(request: Request, exc: Exception) -> Response:
        # The database is busy beyond its timeout ("database is locked") or unreachable.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        error = AttunementError(
            "The database is busy or cannot be reached right now. Nothing was changed.",
            hint="Try again in a moment.",
            code="unavailable",
        )
        return error_response(request, error)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        error = AttunementError(
            "Something went wrong on our side. Nothing you did caused it.",
            hint="Try again in a moment. If it keeps happening, tell whoever runs this server.",
            code="internal",
        )
        return error_response(request, error)

    app.add_exception_handler(AttunementError, on_domain_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(DataError, on_data_error)
    app.add_exception_handler(OperationalError, on_database_unavailable)
    app.add_exception_handler(Exception, on_unexpected)
