"""The one error shape of attunement.

Every failure a person can cause (a bad file, an answer out of range, a forbidden read) is an
:class:`AttunementError`. The CLI prints it and exits with status 2; the web app turns it into one
JSON shape (``{"error": {"code", "message", "hint", "problems"}}``) or a friendly page. Anything
else that escapes is a bug in attunement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AttunementError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One offending place in some input: where it is, what was found, what is allowed.

    ``line`` is the 1-based line of the file (the header is line 1 of a CSV), or the 1-based
    row for formats without lines. ``column`` names the column or field.
    """

    message: str
    line: int | None = None
    column: str | None = None
    value: Any = None
    allowed: str | None = None

    def describe(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        head = ", ".join(where)
        text = f"{head}: {self.message}" if head else self.message
        if self.value is not None:
            text += f" (got {self.value!r})"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        return {
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "value": value,
            "allowed": self.allowed,
        }


@dataclass
class AttunementError(Exception):
    """A failure caused by input or by a request, explained in plain words.

    ``message`` says what is wrong, ``hint`` how to fix it, ``problems`` lists every offending
    place when there are several (all of them, not just the first).
    """

    message: str
    hint: str | None = None
    problems: list[Problem] = field(default_factory=list)
    code: str = "invalid"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        lines = [self.message]
        shown = self.problems[:50]
        lines.extend(f"  - {p.describe()}" for p in shown)
        if len(self.problems) > len(shown):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "hint": self.hint,
                "problems": [p.to_dict() for p in self.problems],
            }
        }


@dataclass
class InvalidInputError(AttunementError):
    """Input that cannot be used as it is: a wrong column, a value out of range, a bad file."""

    code: str = "invalid_input"


@dataclass
class NotFoundError(AttunementError):
    """Something asked for does not exist (or the asker may not know that it does)."""

    code: str = "not_found"


@dataclass
class PermissionDeniedError(AttunementError):
    """The actor may not read or change the resource."""

    code: str = "permission_denied"


@dataclass
class ConflictError(AttunementError):
    """The request clashes with what is stored (a duplicate, a used invitation, a stale edit)."""

    code: str = "conflict"
