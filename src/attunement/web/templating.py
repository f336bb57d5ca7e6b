"""Server-rendered pages: the Jinja2 environment and :func:`render`.

Templates live in ``attunement/web/templates`` (``base.html`` and one folder per topic) and are
shipped in the package; so is every stylesheet and script (``/static``), never a CDN. Every
template gets ``csrf_token`` (put it in every form with ``{{ csrf_field() }}``), ``signed_in``,
``display_name`` and ``base_url``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from attunement.web.csrf import CSRF_FIELD, csrf_token

__all__ = ["TEMPLATE_DIR", "build_templates", "render"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def _page_context(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    session = request.scope.get("session", {})
    token = csrf_token(session, settings.secret_key.get_secret_value())

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)

    return {
        "csrf_token": token,
        "csrf_field": csrf_field,
        "signed_in": "pid" in session,
        "display_name": session.get("name"),
        "base_url": settings.base_url,
    }


def _when(value: datetime | None) -> str:
    """A timestamp as people read it: ``21 Nov 2026, 18:05 UTC``."""
    if value is None:
        return ""
    return value.strftime("%-d %b %Y, %H:%M %Z").strip()


def _number(value: object) -> str:
    """A score as people read it: ``19``, ``4.33``; empty for a missing one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _nl2br(value: str | None) -> Markup:
    if not value:
        return Markup("")
    return Markup("<br>").join(escape(line) for line in value.splitlines())


def build_templates() -> Jinja2Templates:
    """The template renderer with attunement's filters and per-request context."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["nl2br"] = _nl2br
    env.filters["number"] = _number
    env.filters["zip_rows"] = lambda left, right: list(zip(left, right, strict=True))
    return Jinja2Templates(env=env, context_processors=[_page_context])


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``template`` for ``request``; ``errors`` in ``context`` maps field names to
    messages shown next to those fields."""
    templates: Jinja2Templates = request.app.state.templates
    values: dict[str, Any] = {"errors": {}, "form": {}, "title": None}
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)
