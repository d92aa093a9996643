"""till requests: what a till asks to be paid, behind a short code and a QR code

Revision ID: 0007_till_requests
Revises: 0006_wallet_signatures
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcoin.db.types import UtcDateTime

revision = "0007_till_requests"
down_revision = "0006_wallet_signatures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "till_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index("ix_till_requests_merchant_id", "till_requests", ["merchant_id"])


def downgrade() -> None:
    op.drop_index("ix_till_requests_merchant_id", table_name="till_requests")
    op.drop_table("till_requests")
