"""Secret tokens and short codes: invitation links, calendar feeds, join and enrollment codes.

A secret token is shown once (in a link) and stored only as its SHA-256 hex digest, so a copy
of the database does not hand out working links. Tokens carry 256 bits of randomness, so a
plain (unsalted) hash is enough: nothing can be guessed from it.

Short codes (a 36 Questions join code, a study enrollment code) are typed by people: upper-case
letters and digits without look-alikes (no 0/O, 1/I/L).
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["CODE_ALPHABET", "hash_token", "new_code", "new_token", "normalize_code"]

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_token() -> tuple[str, str]:
    """A fresh secret token and its hash: ``(token, token_hash)``. Store only the hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_code(length: int = 6) -> str:
    """A random code of ``length`` characters from :data:`CODE_ALPHABET` (31^6 ~ 8.9e8)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(code: str) -> str:
    """A code as typed (any case, spaces or dashes) in its stored form."""
    return "".join(ch for ch in code.upper() if ch.isalnum())
