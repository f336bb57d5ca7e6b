"""Relationship pages: create, invite by link or QR code, accept, leave, sharing settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.errors import AttunementError
from attunement.store import records
from attunement.store.models import MembershipRole, RelationshipType
from attunement.web.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    IdPath,
    OptionalUser,
    ReadSession,
    field_errors,
    render,
)
from attunement.web.relationships import (
    ROLE_LABELS,
    TYPE_LABELS,
    invitation_preview,
    my_relationships,
    qr_svg,
    relationship_summary,
    update_sharing,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_TYPE_OPTIONS = [(kind.value, TYPE_LABELS[kind]) for kind in RelationshipType]
_ROLE_OPTIONS = [(role.value, ROLE_LABELS[role]) for role in MembershipRole]
_DEFAULT_ROLE = {
    "romantic_partner": "partner",
    "friend": "friend",
    "colleague": "colleague",
    "therapeutic": "therapist",
    "family": "parent",
}
_INVITED_ROLE = {"therapist": "client", "client": "therapist", "parent": "child", "child": "parent"}


def _checked(value: str | None) -> bool:
    return value in ("on", "true", "1")


def _options() -> dict[str, object]:
    return {"type_options": _TYPE_OPTIONS, "role_options": _ROLE_OPTIONS}


@router.get("/relationships", response_class=HTMLResponse)
def list_page(request: Request, db: ReadSession, me: CurrentUser) -> HTMLResponse:
    summaries = my_relationships(db, me, include_former=True)
    flash = request.session.pop("flash", None)
    return render(
        request,
        "relationships/list.html",
        {
            "title": "Relationships",
            "current": [s for s in summaries if s.left_at is None],
            "former": [s for s in summaries if s.left_at is not None],
            "flash": flash,
            "role_labels": ROLE_LABELS,
        },
    )


@router.get("/relationships/new", response_class=HTMLResponse)
def new_page(request: Request, me: CurrentUser) -> HTMLResponse:
    form = {"type": "romantic_partner", "role": "partner", "mutual_reveal": "on"}
    form["share_interactions_default"] = "on"
    return render(
        request,
        "relationships/new.html",
        {"title": "New relationship", "form": form, **_options()},
    )


@router.post("/relationships", response_class=HTMLResponse)
def create(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    type: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    mutual_reveal: Annotated[str | None, Form()] = None,
    share_measurements_default: Annotated[str | None, Form()] = None,
    share_interactions_default: Annotated[str | None, Form()] = None,
) -> Response:
    form = {
        "type": type,
        "role": role or _DEFAULT_ROLE.get(type, "other"),
        "name": name,
        "mutual_reveal": mutual_reveal or "",
        "share_measurements_default": share_measurements_default or "",
        "share_interactions_default": share_interactions_default or "",
    }
    try:
        relationship = records.create_relationship(
            db,
            me.id,
            type,
            form["role"],
            name=name.strip() or None,
            mutual_reveal=_checked(mutual_reveal),
            share_measurements_default=_checked(share_measurements_default),
            share_interactions_default=_checked(share_interactions_default),
        )
        db.commit()
    except AttunementError as error:
        db.rollback()
        return render(
            request,
            "relationships/new.html",
            {
                "title": "New relationship",
                "form": form,
                "errors": field_errors(error),
                **_options(),
            },
            status_code=422,
        )
    return RedirectResponse(f"/relationships/{relationship.id}", status_code=303)


def _detail(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    relationship_id: int,
    *,
    extra: dict[str, object] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    summary = relationship_summary(db, me, relationship_id)
    invite_role = _INVITED_ROLE.get(summary.my_role, summary.my_role)
    context: dict[str, object] = {
        "title": summary.title,
        "rel": summary,
        "role_labels": ROLE_LABELS,
        "role_options": _ROLE_OPTIONS,
        "invite_form": {"role": invite_role},
        "invitation": None,
        "invite_errors": {},
        "sharing_errors": {},
        "flash": request.session.pop("flash", None),
        "form": {
            "mutual_reveal": "on" if summary.mutual_reveal else "",
            "share_measurements_default": "on" if summary.share_measurements_default else "",
            "share_interactions_default": "on" if summary.share_interactions_default else "",
        },
    }
    context.update(extra or {})
    return render(request, "relationships/detail.html", context, status_code=status_code)


@router.get("/relationships/{relationship_id}", response_class=HTMLResponse)
def detail_page(
    request: Request, db: ReadSession, me: CurrentUser, relationship_id: IdPath
) -> HTMLResponse:
    return _detail(request, db, me, relationship_id)


@router.post("/relationships/{relationship_id}/invitations", response_class=HTMLResponse)
def invite(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    settings: AppSettings,
    relationship_id: IdPath,
    role: Annotated[str, Form()] = "partner",
) -> HTMLResponse:
    """A new single-use invitation link, shown once, with its QR code."""
    try:
        invitation, token = records.create_invitation(db, me.id, relationship_id, role)
        db.commit()
    except AttunementError as error:
        db.rollback()
        if error.code in ("not_found", "permission_denied"):
            raise
        return _detail(
            request,
            db,
            me,
            relationship_id,
            extra={"invite_errors": field_errors(error), "invite_form": {"role": role}},
            status_code=422,
        )
    link = f"{settings.base_url.rstrip('/')}/join/{token}"
    shown = {
        "link": link,
        "qr": qr_svg(link),
        "expires_at": invitation.expires_at,
        "role_label": ROLE_LABELS.get(invitation.role, str(invitation.role)),
    }
    return _detail(request, db, me, relationship_id, extra={"invitation": shown})


@router.post("/relationships/{relationship_id}/sharing", response_class=HTMLResponse)
def sharing(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    relationship_id: IdPath,
    mutual_reveal: Annotated[str | None, Form()] = None,
    share_measurements_default: Annotated[str | None, Form()] = None,
    share_interactions_default: Annotated[str | None, Form()] = None,
) -> Response:
    try:
        update_sharing(
            db,
            me,
            relationship_id,
            mutual_reveal=_checked(mutual_reveal),
            share_measurements_default=_checked(share_measurements_default),
            share_interactions_default=_checked(share_interactions_default),
        )
    except AttunementError as error:
        db.rollback()
        if error.code in ("not_found", "permission_denied"):
            raise
        return _detail(
            request,
            db,
            me,
            relationship_id,
            extra={"sharing_errors": field_errors(error)},
            status_code=409,
        )
    request.session["flash"] = "Sharing settings saved."
    return RedirectResponse(f"/relationships/{relationship_id}", status_code=303)


@router.post("/relationships/{relationship_id}/leave")
def leave(request: Request, db: DbSession, me: CurrentUser, relationship_id: IdPath) -> Response:
    """Leave at once; one's own records stay one's own."""
    records.leave_relationship(db, me.id, relationship_id)
    db.commit()
    request.session["flash"] = (
        "You have left the relationship. Your own records are still yours, under Account."
    )
    return RedirectResponse("/relationships", status_code=303)


@router.get("/join/{token}", response_class=HTMLResponse)
def join_page(request: Request, db: ReadSession, me: OptionalUser, token: str) -> HTMLResponse:
    """What the invitation is, and a button to accept it (after signing up or in)."""
    preview = invitation_preview(db, token)
    return render(
        request,
        "relationships/join.html",
        {"title": "An invitation", "preview": preview, "token": token, "me": me},
    )


@router.post("/join/{token}")
def accept(request: Request, db: DbSession, me: CurrentUser, token: str) -> Response:
    membership = records.accept_invitation(db, me.id, token)
    db.commit()
    request.session["flash"] = "Welcome! You are now part of this relationship."
    return RedirectResponse(f"/relationships/{membership.relationship_id}", status_code=303)
