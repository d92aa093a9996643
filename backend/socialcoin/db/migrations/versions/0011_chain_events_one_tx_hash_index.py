"""chain_events: the index on tx_hash alone goes; the unique (tx_hash, log_index) index already finds a
transaction's events, and every stored event paid for both

Revision ID: 0011_chain_events_tx_hash
Revises: 0010_pin_resets
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0011_chain_events_tx_hash"
down_revision = "0010_pin_resets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_chain_events_tx_hash", table_name="chain_events")


def downgrade() -> None:
    op.create_index("ix_chain_events_tx_hash", "chain_events", ["tx_hash"], unique=False)
