"""The web application: :func:`create_app` builds it from :class:`~attunement.settings.Settings`.

Nothing is created at import time. ``create_app`` checks the settings are safe
(:meth:`~attunement.settings.Settings.check_safe`), creates the database engine and session
factory, the templates, the mailer and the sign-in limiter, and serves the routes of every
router found in :mod:`attunement.web.routes` (each module there that defines ``router``, in
name order). When the app starts (the ASGI lifespan), the database is upgraded to the newest
schema, then each router's own lifespan is entered (the practices router sends reminders).

Layers, from the outside in: security headers, the signed session cookie (HttpOnly,
SameSite=Lax, Secure when ``base_url`` is https), CSRF checking of every unsafe request, then
the routes.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attunement import __version__
from attunement.settings import Settings
from attunement.store import upgrade
from attunement.store.engine import open_database
from attunement.web import routes
from attunement.web.csrf import CSRFMiddleware
from attunement.web.deps import RequestSessions
from attunement.web.failures import install_error_handlers, refuse_forged_request
from attunement.web.mail import Mailer, mailer_from_settings
from attunement.web.ratelimit import SignInLimiter
from attunement.web.templating import build_templates

__all__ = ["SESSION_COOKIE", "STATIC_DIR", "create_app"]

SESSION_COOKIE = "attunement_session"
SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60
STATIC_DIR = Path(__file__).resolve().parent / "static"

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
]


class _SecurityHeaders:
    """Adds the headers that keep pages out of frames and scripts from elsewhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _routers() -> list[APIRouter]:
    found = []
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def _add_routes(app: FastAPI, routers: list[APIRouter]) -> None:
    """Put every route of ``routers`` straight into the app's own route list.

    ``include_router`` would wrap each router in a branch that the app matches twice per
    request (once to choose the branch, once inside it), walking all of the branch's routes
    each time: about 40 µs for a diary post and 85 µs for a dashboard, a tenth of what the
    app spends on either. Our routers are included with no prefix, tags or dependencies of
    their own at that point (each route already carries its router's), so the routes
    themselves are exactly what ``include_router`` would serve, matched once each (the OpenAPI
    document is the same, byte for byte). A router's ``lifespan`` is entered by the app's own
    (see :func:`create_app`). One FastAPI feature does not reach these routes:
    ``app.dependency_overrides`` (they were built by their module's router, before any app
    existed); attunement's tests use the real dependencies.
    """
    for router in routers:
        if router.on_startup or router.on_shutdown:
            raise RuntimeError("route modules may not have startup or shutdown handlers")
        app.router.routes.extend(router.routes)


def create_app(
    settings: Settings, *, mailer: Mailer | None = None, freeze_after_start: bool = False
) -> FastAPI:
    """The attunement web app for ``settings`` (``mailer`` overrides the one from settings).

    ``freeze_after_start`` is for a process that serves this one app (``attunement serve``):
    once started, everything made so far (modules, mappings, templates) is put out of the
    garbage collector's reach (:func:`gc.freeze`). Its full collections then look only at
    what requests made, and take a few milliseconds instead of a tenth of a second or more,
    a pause every request in flight would wait out.
    """
    settings.check_safe()
    database = open_database(settings.resolved_database_url())
    routers = _routers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(upgrade, database.engine)
        async with AsyncExitStack() as routers_running:
            for router in routers:  # e.g. the reminder emails of the practices routes
                await routers_running.enter_async_context(router.lifespan_context(app))
            if freeze_after_start:
                gc.collect()
                gc.freeze()
            yield
        database.dispose()

    app = FastAPI(
        title="attunement",
        version=__version__,
        description="Measure, track and foster emotional intimacy in close relationships. "
        "The JSON API lives under /api; it uses the same sign-in session as the pages. "
        "Unsafe requests need the X-CSRF-Token header (GET /api/csrf). Every error has the "
        'shape {"error": {"code", "message", "hint", "problems"}}. '
        "attunement is not therapy and does not replace it.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.database = database
    app.state.engine = database.engine
    app.state.session_factory = database.writer
    app.state.read_session_factory = database.reader
    app.state.session_close_limiter = anyio.CapacityLimiter(16)
    app.state.templates = build_templates()
    app.state.mailer = mailer if mailer is not None else mailer_from_settings(settings)
    app.state.sign_in_limiter = SignInLimiter()

    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_routes(app, routers)

    secret = settings.secret_key.get_secret_value()
    app.add_middleware(RequestSessions, limiter=app.state.session_close_limiter)
    app.add_middleware(CSRFMiddleware, secret_key=secret, on_refused=refuse_forged_request)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(_SecurityHeaders)
    return app
