"""Column types shared by the models: UTC timestamps, JSON documents and text enums.

Every timestamp is stored in UTC and comes back timezone-aware (``tzinfo=UTC``) on both SQLite
(which has no timezone type) and PostgreSQL. Naive datetimes are refused when written: a time
without a zone is ambiguous, and ambiguity in a diary is lost data.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

__all__ = ["JSONDocument", "UTCDateTime", "text_enum", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and returned timezone-aware (UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: give a timezone-aware datetime"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")
"""A JSON document (JSONB on PostgreSQL)."""


def text_enum(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column: stored as its string values, guarded by a CHECK constraint
    (no native PostgreSQL enum type, so adding a value later is a plain migration)."""

    def values(members: Any) -> list[str]:
        return [str(member.value) for member in members]

    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=values,
        validate_strings=True,
    )
