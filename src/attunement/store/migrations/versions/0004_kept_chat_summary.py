"""Weekly chat signals a person chose to keep (``kept_chat_summary``; never message text).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 01:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

__all__ = ["downgrade", "upgrade"]

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "kept_chat_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("first_week", sa.Date(), nullable=False),
        sa.Column("last_week", sa.Date(), nullable=False),
        sa.Column("participants", _JSON, nullable=False),
        sa.Column("weekly", _JSON, nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_kept_chat_summary_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["relationship.id"],
            name=op.f("fk_kept_chat_summary_relationship_id_relationship"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_chat_summary")),
    )
    with op.batch_alter_table("kept_chat_summary", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kept_chat_summary_person_time", ["person_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kept_chat_summary_relationship_id"), ["relationship_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kept_chat_summary", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_chat_summary_relationship_id"))
        batch_op.drop_index("ix_kept_chat_summary_person_time")
    op.drop_table("kept_chat_summary")
