"""receive codes and transfers: a resident pays another resident, named by the code the receiver shows

The origin `transfer` of outbox items needs no change here: enums are stored as strings without a
constraint.

Revision ID: 0008_receive_codes
Revises: 0007_till_requests
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcoin.db.types import UtcDateTime

revision = "0008_receive_codes"
down_revision = "0007_till_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receive_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("resident_id"),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("chain_reference", sa.String(length=66), nullable=False),
        sa.Column("coin", sa.String(length=42), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "confirmed",
                "settled",
                "paid",
                "burned",
                "batched",
                "failed",
                name="spendstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("confirmed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recipient_id"], ["residents.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbox_key"),
    )
    op.create_index("ix_transfers_resident", "transfers", ["resident_id", "id"])
    op.create_index("ix_transfers_recipient", "transfers", ["recipient_id", "id"])
    op.create_index("ix_transfers_status", "transfers", ["status"])


def downgrade() -> None:
    op.drop_index("ix_transfers_status", table_name="transfers")
    op.drop_index("ix_transfers_recipient", table_name="transfers")
    op.drop_index("ix_transfers_resident", table_name="transfers")
    op.drop_table("transfers")
    op.drop_table("receive_codes")
