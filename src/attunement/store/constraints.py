"""Constraint violations as domain errors that name the field.

SQLite and PostgreSQL report a violated constraint differently (SQLite in the message text,
PostgreSQL in the error's diagnostics). :func:`integrity_error_to_domain` reads both and
returns a :class:`~attunement.errors.ConflictError` (a duplicate) or an
:class:`~attunement.errors.InvalidInputError` (a missing, out-of-range or dangling value) whose
problem names the table and column, in plain words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from attunement.errors import AttunementError, ConflictError, InvalidInputError, Problem

__all__ = ["CONSTRAINT_MESSAGES", "check_lengths", "integrity_error_to_domain"]

# Named constraints and what they mean: name -> (field, message, allowed).
CONSTRAINT_MESSAGES: dict[str, tuple[str, str, str | None]] = {
    "uq_person_email_lower": ("email", "an account with this email address exists", None),
    "ck_person_email_not_empty": ("email", "the email address is empty", None),
    "ck_person_display_name_not_empty": ("display_name", "the display name is empty", None),
    "uq_membership_current": (
        "person_id",
        "this person is already a current member of the relationship",
        None,
    ),
    "ck_membership_left_after_joined": ("left_at", "leaving comes before joining", None),
    "uq_consent_in_force": (
        "person_id",
        "this person already has a consent in force for the study",
        None,
    ),
    "uq_consent_study_id_participant_code": (
        "participant_code",
        "this participant code is taken in the study",
        None,
    ),
    "ck_consent_withdrawn_after_given": ("withdrawn_at", "withdrawal comes before consent", None),
    "ck_invitation_expires_after_created": ("expires_at", "the invitation expires at once", None),
    "uq_invitation_token_hash": ("token_hash", "this invitation token exists", None),
    "uq_study_enrollment_code": ("enrollment_code", "this enrollment code is taken", None),
    "ck_interaction_duration_minutes_range": (
        "duration_minutes",
        "the duration is out of range",
        "0 to 1440 minutes",
    ),
    "ck_interaction_not_linked_to_itself": (
        "partner_record_id",
        "a record cannot be its own partner record",
        None,
    ),
    "uq_interaction_partner_record_id": (
        "partner_record_id",
        "the partner's record is already linked to another record",
        None,
    ),
    "uq_closeness_session_join_code": ("join_code", "this join code is taken", None),
    "ck_closeness_session_current_set_range": ("current_set", "no such set", "1 to 3"),
    "ck_closeness_session_current_question_range": (
        "current_question",
        "no such question",
        "1 to 12",
    ),
    "ck_closeness_session_two_people": (
        "person_b_id",
        "a session needs two different people",
        None,
    ),
    "uq_closeness_set_session_id_set_number": ("set_number", "this set already started", None),
    "uq_closeness_question_session_id_set_number_question_number": (
        "question_number",
        "this question was already shown",
        None,
    ),
    "ck_reminder_schedule_weekly_needs_weekdays": (
        "weekdays",
        "a weekly reminder needs its weekdays",
        "iCalendar day codes such as MO,TH",
    ),
    "uq_reminder_schedule_feed_token_hash": ("feed_token_hash", "this feed token exists", None),
    "ix_person_calendar_token_hash": ("calendar_token_hash", "this calendar token exists", None),
}
for _column in ("ios_before_a", "ios_before_b", "ios_after_a", "ios_after_b"):
    CONSTRAINT_MESSAGES[f"ck_closeness_session_{_column}"] = (
        _column,
        "the IOS rating is out of range",
        "1 to 7",
    )

_SQLITE_COLUMNS = re.compile(r"(UNIQUE|NOT NULL) constraint failed: ([\w.]+(?:, [\w.]+)*)")
_SQLITE_NAMED = re.compile(r"(?:CHECK constraint failed: |UNIQUE constraint failed: index ')(\w+)")


def check_lengths(records: Iterable[object]) -> None:
    """Raise InvalidInputError listing every text value longer than its column allows.

    PostgreSQL refuses such values with a message that names no column; SQLite stores them
    silently. Checking before the write makes both behave the same and name the field.
    """
    problems = []
    for record in records:
        mapper = sa.inspect(record.__class__, raiseerr=False)
        if mapper is None:
            continue
        for column in mapper.columns:
            length = getattr(column.type, "length", None)
            value = getattr(record, column.key, None)
            if length and isinstance(value, str) and len(value) > length:
                problems.append(
                    Problem(
                        f"too long ({len(value)} characters)",
                        column=f"{column.table.name}.{column.name}",
                        allowed=f"up to {length} characters",
                    )
                )
    if problems:
        raise InvalidInputError(
            "Cannot save: a value is too long.", hint="Shorten the value.", problems=problems
        )


def integrity_error_to_domain(error: exc.IntegrityError) -> AttunementError:
    """The domain error for a database integrity error (see the module docs)."""
    original: Any = error.orig
    diag = getattr(original, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg)
        return _from_postgres(original, diag)
    return _from_sqlite(str(original))


def _named(name: str, kind: str) -> AttunementError:
    field, message, allowed = CONSTRAINT_MESSAGES.get(
        name, (name, f"the value breaks the rule {name!r}", None)
    )
    problem = Problem(message, column=field, allowed=allowed)
    if kind == "unique":
        return ConflictError(
            f"Cannot save: {message}.", hint="Use a different value.", problems=[problem]
        )
    return InvalidInputError(
        f"Cannot save: {message}.", hint="Correct the value and try again.", problems=[problem]
    )


def _not_null(field: str) -> AttunementError:
    return InvalidInputError(
        f"Cannot save: {field} is required.",
        hint=f"Give a value for {field}.",
        problems=[Problem("missing value", column=field)],
    )


def _dangling(field: str | None) -> AttunementError:
    return InvalidInputError(
        "Cannot save: a referenced record does not exist (it may have been deleted).",
        hint="Reload and try again.",
        problems=[Problem("no such record", column=field)],
    )


def _from_sqlite(text: str) -> AttunementError:
    named = _SQLITE_NAMED.search(text)
    if named:
        return _named(named.group(1), "unique" if text.startswith("UNIQUE") else "check")
    columns = _SQLITE_COLUMNS.search(text)
    if columns:
        kind, names = columns.groups()
        fields = [name.strip() for name in names.split(",")]
        if kind == "NOT NULL":
            return _not_null(fields[0])
        constraint = _unique_names().get(tuple(fields))
        if constraint:
            return _named(constraint, "unique")
        return ConflictError(
            f"Cannot save: a record with this {', '.join(fields)} exists.",
            hint="Use a different value.",
            problems=[Problem("duplicate value", column=fields[-1])],
        )
    if "FOREIGN KEY" in text:
        return _dangling(None)
    return InvalidInputError(f"Cannot save: {text}.")


@cache
def _unique_names() -> dict[tuple[str, ...], str]:
    """``("table.column", ...)`` -> name, for every unique constraint and unique index (SQLite
    names only the columns of a violated one)."""
    from attunement.store.models import Base

    names: dict[tuple[str, ...], str] = {}
    for table in Base.metadata.tables.values():
        uniques: list[sa.UniqueConstraint | sa.Index] = [
            c for c in table.constraints if isinstance(c, sa.UniqueConstraint)
        ]
        uniques.extend(index for index in table.indexes if index.unique)
        for unique in uniques:
            columns = tuple(f"{table.name}.{column.name}" for column in unique.columns)
            if columns and isinstance(unique.name, str):
                names[columns] = unique.name
    return names


def _from_postgres(original: Any, diag: Any) -> AttunementError:
    sqlstate = getattr(original, "sqlstate", None)
    table = diag.table_name
    if sqlstate == "23502":  # not_null_violation
        return _not_null(f"{table}.{diag.column_name}")
    if sqlstate == "23503":  # foreign_key_violation
        return _dangling(diag.constraint_name)
    name = diag.constraint_name or ""
    if sqlstate == "23505":
        return _named(name, "unique")
    return _named(name, "check")
