"""Accounts: sign up, sign in, sign out (filled in by step 2)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse

from attunement.web.deps import sign_out

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.post("/signout")
def sign_out_page(request: Request) -> RedirectResponse:
    """End the session and go to the home page."""
    sign_out(request)
    return RedirectResponse("/", status_code=303)
