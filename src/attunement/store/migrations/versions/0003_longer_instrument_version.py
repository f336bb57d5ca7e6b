"""Room for the instrument bank's version labels ("attunement adaptation 1 (after ...)").

``measurement.instrument_version`` and ``interaction.instrument_version`` grow from 20 to 120
characters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("measurement", "interaction")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "instrument_version",
                existing_type=sa.String(length=20),
                type_=sa.String(length=120),
                existing_nullable=False,
            )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "instrument_version",
                existing_type=sa.String(length=120),
                type_=sa.String(length=20),
                existing_nullable=False,
            )
