"""Reminders that repeat every few days (a study's instrument due every 3 or 14 days).

``reminder_schedule.every_days`` (1 for every existing reminder) makes a daily reminder fire
every that many days, counted from the local day it was created; a check keeps it between 1
and 366 and to daily reminders.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminder_schedule") as batch:
        batch.add_column(
            sa.Column("every_days", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch.create_check_constraint(
            "every_days_of_daily",
            sa.text("every_days BETWEEN 1 AND 366 AND (every_days = 1 OR frequency = 'daily')"),
        )


def downgrade() -> None:
    # A reminder every few days becomes a daily one: the nearest the old schema can say.
    with op.batch_alter_table("reminder_schedule") as batch:
        batch.drop_constraint(op.f("ck_reminder_schedule_every_days_of_daily"), type_="check")
        batch.drop_column("every_days")
