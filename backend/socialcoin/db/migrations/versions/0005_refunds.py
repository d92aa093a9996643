"""refunds: a merchant gives all or part of a payment back, through the one spend path

The origin `refund` of outbox items needs no change here: enums are stored as strings without a
constraint.

Revision ID: 0005_refunds
Revises: 0004_activation_codes
Create Date: 2026-12-05 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialcoin.db.types

revision = "0005_refunds"
down_revision = "0004_activation_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
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
        sa.Column("confirmed_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbox_key"),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_status"))
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_merchant_id"))

    op.drop_table("refunds")
