"""activation codes on record: shown once, reissued explicitly, each issue with its token

A resident still awaiting activation at this migration has a code derived from the service's secret on
their letter: it is recorded as issued at admission (by no token: nobody recorded it then), written down
then (acknowledged), and keeps working until a code is reissued (domain.activation_codes).

Revision ID: 0004_activation_codes
Revises: 0003_tokens_by_issuer
Create Date: 2026-12-05 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialcoin.db.types

revision = "0004_activation_codes"
down_revision = "0003_tokens_by_issuer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    codes = op.create_table(
        "activation_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("issued_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("replaced_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("used_at", socialcoin.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["issued_by"], ["api_tokens.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activation_codes_resident_id"), ["resident_id"], unique=False)

    residents = sa.table(
        "residents",
        sa.column("id", sa.Integer()),
        sa.column("created_at", socialcoin.db.types.UtcDateTime(timezone=True)),
        sa.column("activation_pending", sa.Boolean()),
    )
    waiting = sa.select(residents.c.id, residents.c.created_at).where(
        residents.c.activation_pending.is_(True)
    )
    connection = op.get_bind()
    rows = [
        {
            "resident_id": resident_id,
            "code_hash": None,
            "reason": "admission",
            "issued_at": admitted_at,
            "acknowledged_at": admitted_at,
        }
        for resident_id, admitted_at in connection.execute(waiting)
    ]
    if rows:
        op.bulk_insert(codes, rows)


def downgrade() -> None:
    with op.batch_alter_table("activation_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activation_codes_resident_id"))

    op.drop_table("activation_codes")
