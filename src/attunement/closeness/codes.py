"""Short join codes that two people can read to each other across a table.

Codes use an alphabet without look-alikes (no 0/O, 1/I/L, no U) and are compared after
normalising what a person typed: case, spaces and dashes do not matter, and the look-alike
letters are read as the digit or letter they are usually mistaken for.
"""

from __future__ import annotations

import secrets

from attunement.errors import InvalidInputError, Problem

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "new_join_code", "normalise_join_code"]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 6
_LOOKALIKES = str.maketrans({"0": "D", "O": "D", "1": "J", "I": "J", "L": "J", "U": "V"})


def new_join_code(length: int = CODE_LENGTH) -> str:
    """A random code of ``length`` characters (30**6, about 7e8, possibilities by default)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_join_code(typed: str, length: int = CODE_LENGTH) -> str:
    """The canonical form of a code as typed: upper case, no spaces or dashes.

    Raises :class:`InvalidInputError` when the result cannot be a code.
    """
    code = "".join(ch for ch in typed.upper() if ch not in " -\t").translate(_LOOKALIKES)
    bad = sorted({ch for ch in code if ch not in CODE_ALPHABET})
    if len(code) != length or bad:
        problems = [Problem("character not used in codes", column="code", value=ch) for ch in bad]
        raise InvalidInputError(
            f"{typed.strip()!r} is not a session code",
            hint=f"A session code has {length} letters and digits, like 'K7QX2M'; "
            "ask the person who started the session to read it out again.",
            problems=problems,
        )
    return code
