"""The API's session endpoints: a CSRF token for API clients.

``GET /api/csrf`` returns ``{"csrf_token": ...}`` for the caller's session (and sets the session
cookie if there was none). Send it as the ``X-CSRF-Token`` header with every POST, PUT, PATCH
and DELETE under ``/api``.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.requests import Request

from attunement.web.deps import AppSettings, csrf_token

__all__ = ["CsrfToken", "router"]

router = APIRouter(prefix="/api", tags=["session"])


class CsrfToken(BaseModel):
    """The token to send in the ``X-CSRF-Token`` header of unsafe requests."""

    csrf_token: str


@router.get("/csrf", response_model=CsrfToken)
def get_csrf_token(request: Request, settings: AppSettings) -> CsrfToken:
    """A CSRF token bound to this session."""
    return CsrfToken(csrf_token=csrf_token(request.session, settings.secret_key.get_secret_value()))
