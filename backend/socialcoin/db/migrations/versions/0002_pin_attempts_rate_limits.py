"""PIN attempts per holder and client, and rate-limit counters; the residents' own PIN counters go

Revision ID: 0002_front_door
Revises: 0001
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialcoin.db.types

revision = "0002_front_door"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pin_attempts",
        sa.Column("holder", sa.String(length=40), nullable=False),
        sa.Column("client", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.Column("locked_until", socialcoin.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder", "client"),
    )
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        op.f("ix_rate_limit_counters_expires_at"), "rate_limit_counters", ["expires_at"], unique=False
    )
    # A lock-out in progress is not carried over: the new counters start empty.
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("pin_failures")
        batch.drop_column("pin_locked_until")


def downgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.add_column(
            sa.Column("pin_locked_until", socialcoin.db.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("pin_failures", sa.Integer(), server_default="0", nullable=False))
    op.drop_index(op.f("ix_rate_limit_counters_expires_at"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
    op.drop_table("pin_attempts")
