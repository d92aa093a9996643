"""tokens found by the token that issued them

Revoking a token revokes every token it issued, level by level down the tree (domain.access.
revoke_with_issued): each level is one query by issued_by.

Revision ID: 0003_tokens_by_issuer
Revises: 0002_front_door
Create Date: 2026-12-05 15:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0003_tokens_by_issuer"
down_revision = "0002_front_door"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_issued_by"), ["issued_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_issued_by"))
