"""The live 36 Questions state document and the person's calendar feed token.

``closeness_session.live_state`` holds the whole session (attunement.closeness.SessionState)
so a reload resumes exactly where it was; ``person.calendar_token_hash`` is the SHA-256 of the
secret token in the person's private iCalendar feed URL (revoked by replacing or clearing it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "closeness_session",
        sa.Column(
            "live_state",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column("person", sa.Column("calendar_token_hash", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_person_calendar_token_hash"), "person", ["calendar_token_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_person_calendar_token_hash"), table_name="person")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("calendar_token_hash")
    with op.batch_alter_table("closeness_session") as batch:
        batch.drop_column("live_state")
