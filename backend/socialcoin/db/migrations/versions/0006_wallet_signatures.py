"""claims keep a contract wallet's attestation signature (ERC-1271), which is longer than 65 bytes

Revision ID: 0006_wallet_signatures
Revises: 0005_refunds
Create Date: 2026-12-05 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_wallet_signatures"
down_revision = "0005_refunds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.alter_column("signature", existing_type=sa.String(length=140), type_=sa.Text())


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.alter_column("signature", existing_type=sa.Text(), type_=sa.String(length=140))
