"""Audit events for a renewed consent (a participant agreeing to a study's new consent text).

The ``audit_event.action`` check gains ``consent_renewed``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__ = ["downgrade", "upgrade"]

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = (
    "export",
    "researcher_read",
    "import",
    "erasure",
    "backup",
    "restore",
    "consent_withdrawn",
)
_AFTER = (*_BEFORE, "consent_renewed")
_CHECK = "ck_audit_event_audit_action"


def _in(values: Sequence[str]) -> str:
    return "action IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _replace_check(values: Sequence[str]) -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint("audit_action", sa.text(_in(values)))


def upgrade() -> None:
    _replace_check(_AFTER)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM audit_event WHERE action = 'consent_renewed'"))
    _replace_check(_BEFORE)
