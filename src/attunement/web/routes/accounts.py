"""Account pages: sign up, sign in, sign out, password reset, the account page.

The account page keeps "export my data" and "delete my account" one step away: export is a
link that downloads everything the person recorded; deletion is one form on the same page
(confirmed with the password, so a borrowed unlocked phone cannot do it).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from attunement.errors import AttunementError, InvalidInputError, Problem
from attunement.store.passwords import MIN_PASSWORD_LENGTH, verify_password
from attunement.web.accounts import (
    authenticate,
    create_person,
    reset_password,
    safe_next,
    send_reset_mail,
)
from attunement.web.deps import (
    AppSettings,
    CurrentUser,
    DbSession,
    OptionalUser,
    ReadSession,
    client_address,
    field_errors,
    render,
    sign_in,
    sign_out,
)
from attunement.web.failures import RateLimitedError
from attunement.web.personal_data import delete_account, personal_data

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_SIGNUP_FIELDS = {"email", "display_name", "password"}
_STATUS = {"conflict": 409, "invalid_input": 422}


def _form_error(
    request: Request, template: str, error: AttunementError, form: dict[str, str], **extra: object
) -> HTMLResponse:
    status = 429 if isinstance(error, RateLimitedError) else _STATUS.get(error.code, 400)
    context = {"errors": field_errors(error, _SIGNUP_FIELDS), "form": form, **extra}
    response = render(request, template, context, status_code=status)
    if isinstance(error, RateLimitedError):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("/signup", response_class=HTMLResponse)
def sign_up_page(request: Request, me: OptionalUser, next: str = "/") -> Response:
    if me is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        "accounts/signup.html",
        {"title": "Create an account", "next": safe_next(next), "min_length": MIN_PASSWORD_LENGTH},
    )


@router.post("/signup", response_class=HTMLResponse)
def sign_up(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    form = {"email": email, "display_name": display_name}
    try:
        person = create_person(db, email=email, display_name=display_name, password=password)
    except AttunementError as error:
        return _form_error(
            request,
            "accounts/signup.html",
            error,
            form,
            title="Create an account",
            next=safe_next(next),
            min_length=MIN_PASSWORD_LENGTH,
        )
    sign_in(request, person)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(request: Request, me: OptionalUser, next: str = "/") -> Response:
    if me is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/signin.html", {"title": "Sign in", "next": safe_next(next)})


@router.post("/signin", response_class=HTMLResponse)
def sign_in_submit(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        person = authenticate(
            db,
            request.app.state.sign_in_limiter,
            email=email,
            password=password,
            address=client_address(request),
        )
    except AttunementError as error:
        return _form_error(
            request,
            "accounts/signin.html",
            error,
            {"email": email},
            title="Sign in",
            next=safe_next(next),
        )
    sign_in(request, person)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/signout")
def sign_out_page(request: Request) -> RedirectResponse:
    """End the session and go to the home page."""
    sign_out(request)
    return RedirectResponse("/", status_code=303)


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_page(request: Request) -> HTMLResponse:
    return render(request, "accounts/forgot.html", {"title": "Forgot your password?"})


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot_submit(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Mail a reset link when an account uses the email; the answer is the same either way."""
    limiter = request.app.state.sign_in_limiter
    wait = limiter.retry_after(email, client_address(request))
    if wait:
        raise RateLimitedError("Too many attempts.", retry_after=wait)
    # A reset request counts as an attempt, so the form cannot be used to flood an inbox.
    limiter.failed(email, client_address(request))
    send_reset_mail(db, settings, request.app.state.mailer, email)
    return render(
        request, "accounts/forgot_sent.html", {"title": "Check your email", "email": email}
    )


@router.get("/password/reset", response_class=HTMLResponse)
def reset_page(request: Request, token: Annotated[str, Query()] = "") -> HTMLResponse:
    return render(
        request,
        "accounts/reset.html",
        {"title": "Choose a new password", "token": token, "min_length": MIN_PASSWORD_LENGTH},
    )


@router.post("/password/reset", response_class=HTMLResponse)
def reset_submit(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        person = reset_password(db, settings, token, password)
    except AttunementError as error:
        return render(
            request,
            "accounts/reset.html",
            {
                "title": "Choose a new password",
                "token": token,
                "min_length": MIN_PASSWORD_LENGTH,
                "errors": field_errors(error, {"password", "token"}),
            },
            status_code=422,
        )
    sign_in(request, person)
    request.session["flash"] = "Your password has been changed."
    return RedirectResponse("/account", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, me: CurrentUser) -> HTMLResponse:
    flash = request.session.pop("flash", None)
    return render(
        request, "accounts/account.html", {"title": "Your account", "me": me, "flash": flash}
    )


@router.get("/account/export")
def export_my_data(db: ReadSession, me: CurrentUser) -> Response:
    """Everything the person recorded, as one JSON file to download."""
    data = personal_data(db, me)
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="attunement-my-data.json"'},
    )


@router.post("/account/delete", response_class=HTMLResponse)
def delete_my_account(
    request: Request,
    db: DbSession,
    me: CurrentUser,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Delete the account and everything the person recorded, after the password is confirmed."""
    if not verify_password(me.password_hash, password):
        error = InvalidInputError(
            "The password is not right, so nothing was deleted.",
            problems=[Problem("password not right", column="password")],
        )
        return render(
            request,
            "accounts/account.html",
            {"title": "Your account", "me": me, "flash": None, "errors": field_errors(error)},
            status_code=422,
        )
    delete_account(db, me)
    sign_out(request)
    return render(request, "accounts/deleted.html", {"title": "Account deleted"})
