"""Password hashing with argon2id (RFC 9106), through argon2-cffi.

The parameters are argon2-cffi's defaults (RFC 9106 "low memory" profile: time cost 3,
64 MiB, parallelism 4). :func:`needs_rehash` says when a stored hash was made with older
parameters, so sign-in can upgrade it transparently.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from attunement.errors import InvalidInputError, Problem

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "needs_rehash", "verify_password"]

MIN_PASSWORD_LENGTH = 10

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (an encoded string with salt and parameters).

    Raises :class:`InvalidInputError` naming the ``password`` field when it is shorter than
    :data:`MIN_PASSWORD_LENGTH` characters or longer than 1024.
    """
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 1024:
        raise InvalidInputError(
            "The password is too short."
            if len(password) < MIN_PASSWORD_LENGTH
            else "The password is too long.",
            hint=f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters; "
            "a few unrelated words are easy to remember and hard to guess.",
            problems=[
                Problem(
                    "wrong length",
                    column="password",
                    allowed=f"{MIN_PASSWORD_LENGTH} to 1024 characters",
                )
            ],
        )
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a missing or malformed hash."""
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with parameters other than the current ones."""
    return _HASHER.check_needs_rehash(password_hash)
