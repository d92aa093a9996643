"""staff actions: who did what, through the API or a page

Every request of an admin or a debt counsellor that changes something is recorded with the token (its
label and role as they were), the route, the ids it named and the answer's status (api/staff_log.py).

Revision ID: 0009_staff_actions
Revises: 0008_receive_codes
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcoin.db.types import UtcDateTime

revision = "0009_staff_actions"
down_revision = "0008_receive_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_actions_at", "staff_actions", ["at"])
    op.create_index("ix_staff_actions_token_id", "staff_actions", ["token_id"])
    op.create_index("ix_staff_actions_label_at", "staff_actions", ["label", "at"])


def downgrade() -> None:
    op.drop_index("ix_staff_actions_label_at", table_name="staff_actions")
    op.drop_index("ix_staff_actions_token_id", table_name="staff_actions")
    op.drop_index("ix_staff_actions_at", table_name="staff_actions")
    op.drop_table("staff_actions")
