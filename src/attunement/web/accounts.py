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

import re
from functools import cache
from urllib.parse import quote

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from attunement.errors import ConflictError, InvalidInputError, Problem
from attunement.settings import Settings
from attunement.store.engine import StoreSession
from attunement.store.models import Person
from attunement.store.passwords import hash_password, needs_rehash, verify_password
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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_RESET_SALT = "attunement.password-reset"


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-just-for-timing")


def _normalize_email(email: str) -> str:
    return email.strip()


def find_by_email(db: StoreSession, email: str) -> Person | None:
    """The account with this email (case ignored), if any."""
    statement = sa.select(Person).where(sa.func.lower(Person.email) == email.strip().lower())
    return db.execute(statement).scalar_one_or_none()


def create_person(db: StoreSession, *, email: str, display_name: str, password: str) -> Person:
    """A new account (committed). Raises :class:`InvalidInputError` listing every bad field,
    :class:`ConflictError` (field ``email``) when the email is taken."""
    email = _normalize_email(email)
    display_name = display_name.strip()
    problems = []
    if not _EMAIL.match(email) or len(email) > 320:
        problems.append(Problem("not an email address", column="email", allowed="name@example.org"))
    if not 1 <= len(display_name) <= 100:
        problems.append(
            Problem(
                "enter the name others will see", column="display_name", allowed="1-100 characters"
            )
        )
    password_hash = None
    try:
        password_hash = hash_password(password)
    except InvalidInputError as error:
        problems.extend(error.problems)
    if problems or password_hash is None:
        raise InvalidInputError(
            "Some fields need another look.",
            hint="Correct the fields marked and send the form again.",
            problems=problems,
        )
    if find_by_email(db, email) is not None:
        raise ConflictError(
            "An account with this email already exists.",
            hint="Sign in instead, or reset the password if you forgot it.",
            problems=[Problem("already used by an account", column="email")],
        )
    person = Person(email=email, display_name=display_name, password_hash=password_hash)
    db.add(person)
    db.commit()
    return person


def authenticate(
    db: StoreSession, limiter: SignInLimiter, *, email: str, password: str, address: str
) -> Person:
    """The person with this email and password; raises :class:`RateLimitedError` when too many
    attempts failed recently and :class:`InvalidInputError` when the pair is wrong."""
    wait = limiter.retry_after(email, address)
    if wait:
        raise RateLimitedError("Too many sign-in attempts.", retry_after=wait)
    person = find_by_email(db, email)
    # Verify against a dummy hash when there is no account, so timing says nothing.
    stored = person.password_hash if person is not None else _dummy_hash()
    if not verify_password(stored, password) or person is None:
        limiter.failed(email, address)
        raise InvalidInputError(
            "The email or the password is not right.",
            hint="Check both and try again, or reset your password.",
            problems=[Problem("email or password not right", column="password")],
        )
    limiter.succeeded(email)
    if person.password_hash and needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
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
    person = find_by_email(db, email)
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
    person = db.get(Person, payload.get("pid")) if isinstance(payload, dict) else None
    secret = settings.secret_key.get_secret_value()
    if person is None or payload.get("fp") != session_fingerprint(person, secret):
        raise _invalid_token("This reset link has already been used.")
    person.password_hash = hash_password(password)
    db.commit()
    return person


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
