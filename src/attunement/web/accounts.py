"""Accounts for the web app: sign-up, sign-in with limits, password reset tokens.

The pages and the JSON API both call these functions, so the rules are the same everywhere:

- Sign-up checks the email's shape and that no account uses it (ignoring case), the display
  name's length, and hashes the password with argon2id (:mod:`attunement.store.passwords`,
  which also enforces the minimum length).
- Sign-in answers the same "email or password is not right" whether the account exists or
  not, and counts failures per account and per address (:mod:`attunement.web.ratelimit`).
- A password-reset token is signed, expires after :data:`RESET_TOKEN_MAX_AGE_SECONDS`, and is
  bound to the password hash at the time it was made: once the password has changed, the
  token (and every older one) stops working, so each link works at most once.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from attunement.errors import InvalidInputError, Problem
from attunement.settings import Settings
from attunement.store import records
from attunement.store.engine import StoreSession
from attunement.store.models import Person
from attunement.store.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from attunement.store.types import utcnow
from attunement.web.deps import session_fingerprint
from attunement.web.failures import RateLimitedError
from attunement.web.mail import Mailer, OutgoingMail
from attunement.web.ratelimit import SignInLimiter

__all__ = [
    "RESET_TOKEN_MAX_AGE_SECONDS",
    "authenticate",
    "create_person",
    "make_reset_token",
    "reset_password",
    "safe_next",
    "send_reset_mail",
]

RESET_TOKEN_MAX_AGE_SECONDS = 60 * 60
_RESET_SALT = "attunement.password-reset"


def create_person(db: StoreSession, *, email: str, display_name: str, password: str) -> Person:
    """A new account (committed), through :func:`attunement.store.records.create_person`.

    Raises :class:`InvalidInputError` listing every bad field (the password's length
    included), :class:`ConflictError` (field ``email``) when the email is taken. The password
    is hashed before the database transaction starts: argon2id takes a noticeable fraction of
    a second, and on SQLite a transaction holds the database's only write lock.
    """
    password_problems = []
    password_hash = None
    if MIN_PASSWORD_LENGTH <= len(password) <= 1024:
        password_hash = hash_password(password)
    else:
        password_problems.append(
            Problem(
                "too short" if len(password) < MIN_PASSWORD_LENGTH else "too long",
                column="password",
                allowed=f"{MIN_PASSWORD_LENGTH} to 1024 characters",
            )
        )
    try:
        person = records.create_person(db, email, display_name, None)
    except InvalidInputError as error:
        raise InvalidInputError(
            "Some fields need another look.",
            hint="Correct the fields marked and send the form again.",
            problems=error.problems + password_problems,
        ) from error
    if password_hash is None:
        db.rollback()
        raise InvalidInputError(
            "Some fields need another look.",
            hint="Correct the fields marked and send the form again.",
            problems=password_problems,
        )
    person.password_hash = password_hash
    db.commit()
    return person


def authenticate(
    db: StoreSession, limiter: SignInLimiter, *, email: str, password: str, address: str
) -> Person:
    """The person with this email and password; raises :class:`RateLimitedError` when too many
    attempts failed recently and :class:`InvalidInputError` when the pair is wrong (the same
    answer for an unknown email). The slow password check runs outside any transaction."""
    wait = limiter.retry_after(email, address)
    if wait:
        raise RateLimitedError("Too many sign-in attempts.", retry_after=wait)
    person = records.find_person_by_email(db, email)
    db.commit()  # end the read before the slow argon2id check
    if person is None or not verify_password(person.password_hash, password):
        limiter.failed(email, address)
        raise InvalidInputError(
            "The email or the password is not right.",
            hint="Check both and try again, or reset your password.",
            problems=[Problem("email or password not right", column="password")],
        )
    limiter.succeeded(email)
    new_hash = hash_password(password) if needs_rehash(person.password_hash or "") else None
    if new_hash is not None:
        person.password_hash = new_hash
    person.last_sign_in_at = utcnow()
    db.commit()
    return person


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=_RESET_SALT)


def make_reset_token(person: Person, settings: Settings) -> str:
    """A signed password-reset token for ``person``, valid until the password changes."""
    secret = settings.secret_key.get_secret_value()
    payload = {"pid": person.id, "fp": session_fingerprint(person, secret)}
    return str(_serializer(settings).dumps(payload))


def send_reset_mail(db: StoreSession, settings: Settings, mailer: Mailer, email: str) -> None:
    """Mail a reset link if an account uses ``email``; says nothing either way."""
    person = records.find_person_by_email(db, email)
    if person is None:
        return
    token = quote(make_reset_token(person, settings))
    link = f"{settings.base_url.rstrip('/')}/password/reset?token={token}"
    minutes = RESET_TOKEN_MAX_AGE_SECONDS // 60
    mailer.send(
        OutgoingMail(
            to=person.email,
            subject="Reset your attunement password",
            body=f"Hello {person.display_name},\n\n"
            f"Someone (hopefully you) asked to reset the password of your attunement account.\n"
            f"Open this link within {minutes} minutes to choose a new password:\n\n{link}\n\n"
            "The link works once. If you did not ask for it, ignore this message: your "
            "password stays as it is.\n",
        )
    )


def _invalid_token(message: str) -> InvalidInputError:
    return InvalidInputError(
        message,
        hint="Ask for a new link on the 'Forgot your password?' page.",
        problems=[Problem(message, column="token")],
    )


def reset_password(db: StoreSession, settings: Settings, token: str, password: str) -> Person:
    """Set a new password with a reset token (committed); the token then stops working."""
    try:
        payload = _serializer(settings).loads(token, max_age=RESET_TOKEN_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise _invalid_token("This reset link has expired.") from None
    except BadSignature:
        raise _invalid_token("This reset link is not valid.") from None
    new_hash = hash_password(password)  # before the transaction: argon2id is slow
    person = db.get(Person, payload.get("pid")) if isinstance(payload, dict) else None
    secret = settings.secret_key.get_secret_value()
    if person is None or payload.get("fp") != session_fingerprint(person, secret):
        raise _invalid_token("This reset link has already been used.")
    person.password_hash = new_hash
    db.commit()
    return person


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
