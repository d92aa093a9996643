"""A merchant's refunds: all or part of a resident's payment given back, against the payment's
reference."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.enums import SpendStatus
from ...db.models import Refund
from ...domain.spending import failure_codes
from ..deps import MAX_ID
from .common import COIN, PAID_TX_HASH, WHEN
from .spending import SpendRequest

TX_HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
PaymentTxHashQuery = Annotated[
    str, Query(pattern=TX_HASH_PATTERN, description="The payment's transaction", examples=[PAID_TX_HASH])
]


class RefundCreate(SpendRequest):
    payment_tx_hash: str = Field(
        pattern=TX_HASH_PATTERN,
        description="The transaction of the payment to refund, as the till saw it arrive (`tx_hash` in "
        "/merchants/me/payments)",
        examples=[PAID_TX_HASH],
    )
    amount_cents: int = Field(gt=0, le=10**10, description="All or part of what is left", examples=[250])


class RefundPublic(BaseModel):
    id: int = Field(examples=[4])
    payment_id: int = Field(ge=1, le=MAX_ID, examples=[12])
    coin: str = Field(examples=[COIN])
    amount_cents: int = Field(examples=[250])
    status: str = Field(description="pending, confirmed or failed", examples=["confirmed"])
    tx_hash: str | None = Field(examples=[PAID_TX_HASH])
    confirmed_at: datetime | None = Field(examples=[WHEN])
    created_at: datetime = Field(examples=[WHEN])
    error_code: str | None = Field(default=None, examples=[None])

    @classmethod
    def many(cls, session: Session, found: list[Refund]) -> list[RefundPublic]:
        errors = failure_codes(session, [r.outbox_key for r in found if r.status == SpendStatus.FAILED])
        return [
            cls(
                id=r.id,
                payment_id=r.payment_id,
                coin=r.coin,
                amount_cents=r.amount_cents,
                status=str(r.status),
                tx_hash=r.tx_hash,
                confirmed_at=r.confirmed_at,
                created_at=r.created_at,
                error_code=errors.get(r.outbox_key),
            )
            for r in found
        ]

    @classmethod
    def of(cls, session: Session, refund: Refund) -> RefundPublic:
        return cls.many(session, [refund])[0]
