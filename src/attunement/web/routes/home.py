"""The home page: a welcome for visitors, the person's overview once signed in."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from attunement.web.deps import OptionalUser, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, me: OptionalUser) -> HTMLResponse:
    """Visitors see what attunement is; a signed-in person sees where to go next."""
    if me is None:
        return render(request, "home/welcome.html", {"title": "Welcome"})
    return render(request, "home/overview.html", {"title": "Home", "me": me})
