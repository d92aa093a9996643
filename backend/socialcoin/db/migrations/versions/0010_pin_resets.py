"""PIN resets: a resident's forgotten PIN reset by staff, through a recovery to a new key the service keeps

Revision ID: 0010_pin_resets
Revises: 0009_staff_actions
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcoin.db.types import UtcDateTime

revision = "0010_pin_resets"
down_revision = "0009_staff_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pin_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("old_address", sa.String(length=42), nullable=False),
        sa.Column("new_address", sa.String(length=42), nullable=False),
        sa.Column("new_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("request_operation_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["api_tokens.id"]),
        sa.ForeignKeyConstraint(["request_operation_id"], ["chain_operations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("new_address"),
    )
    op.create_index("ix_pin_resets_resident_id", "pin_resets", ["resident_id"])
    op.create_index(
        "ux_pin_resets_open",
        "pin_resets",
        ["resident_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ux_pin_resets_open", table_name="pin_resets")
    op.drop_index("ix_pin_resets_resident_id", table_name="pin_resets")
    op.drop_table("pin_resets")
