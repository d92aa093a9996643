"""Merchant payouts: coins redeemed for euros (burned), paid in the municipality's SEPA batches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self

from fastapi import Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.enums import SpendStatus
from ...db.models import Payout, PayoutBatch
from ...domain import payouts
from ...domain.spending import failure_codes
from ..deps import MAX_ID
from .common import COIN, PAID_TX_HASH, WHEN, Create
from .spending import SpendRequest

BatchId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])]
PayoutAmountQuery = Annotated[int, Query(gt=0, le=10**10, examples=[2000])]
# The municipality filters every merchant's payouts, a merchant its own.
PayoutStatusFilter = Annotated[
    str | None, Query(pattern="^(pending|burned|batched|paid|failed)$", examples=["burned"])
]
MerchantFilter = Annotated[int | None, Query(ge=0, le=MAX_ID, examples=[3])]
MyPayoutStatusFilter = Annotated[
    Literal["pending", "burned", "batched", "paid", "failed"] | None, Query(examples=["burned"])
]


class PayoutCreate(SpendRequest):
    coin: str = Field(description="The coin to redeem: symbol or address", examples=["GKW"])
    amount_cents: int = Field(gt=0, le=10**10, examples=[2000])


class PayoutPublic(BaseModel):
    id: int = Field(examples=[5])
    merchant_id: int = Field(ge=1, le=MAX_ID, examples=[3])
    coin: str = Field(examples=[COIN])
    amount_cents: int = Field(examples=[2000])
    status: str = Field(
        description="pending, burned (waits for the next SEPA batch), batched, paid or failed",
        examples=["burned"],
    )
    chain_reference: str = Field(examples=["0x51c0" + "0" * 60])
    tx_hash: str | None = Field(examples=[PAID_TX_HASH])
    burned_at: datetime | None = Field(examples=[WHEN])
    batch_id: int | None = Field(ge=1, le=MAX_ID, examples=[None])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])
    error_code: str | None = Field(default=None, examples=[None])

    @classmethod
    def of(cls, session: Session, payout: Payout) -> PayoutPublic:
        return cls.many(session, [payout])[0]

    @classmethod
    def _with(cls, payout: Payout, errors: dict[str, str]) -> PayoutPublic:
        return cls(
            id=payout.id,
            merchant_id=payout.merchant_id,
            coin=payout.coin,
            amount_cents=payout.amount_cents,
            status=str(payout.status),
            chain_reference=payout.chain_reference,
            tx_hash=payout.tx_hash,
            burned_at=payout.confirmed_at,
            batch_id=payout.batch_id,
            created_at=payout.created_at,
            error_code=errors.get(payout.outbox_key),
        )

    @classmethod
    def many(cls, session: Session, found: list[Payout]) -> list[PayoutPublic]:
        errors = failure_codes(session, [p.outbox_key for p in found if p.status == SpendStatus.FAILED])
        return [cls._with(p, errors) for p in found]


class PayoutBatchCreate(Create):
    debtor_name: str = Field(
        min_length=1,
        max_length=70,
        description="The municipality's account holder name",
        examples=["Gemeente Arnhem"],
    )
    debtor_iban: str = Field(
        min_length=15,
        max_length=42,
        description="The account the euros are paid from",
        examples=["NL91ABNA0417164300"],
    )
    debtor_bic: str | None = Field(default=None, min_length=8, max_length=11, examples=["ABNANL2A"])
    execution_date: date | None = Field(
        default=None, description="Today when left out", examples=["2026-03-06"]
    )


class PayoutBatchPublic(BaseModel):
    id: int = Field(examples=[1])
    message_id: str = Field(description="The pain.001 MsgId", examples=["20260306093000-1a2b3c4d5e6f"])
    total_cents: int = Field(examples=[4250])
    payout_count: int = Field(examples=[3])
    created_at: datetime = Field(examples=["2026-03-06T09:30:00Z"])
    paid_at: datetime | None = Field(examples=[None])

    @classmethod
    def many(cls, session: Session, batches: list[PayoutBatch]) -> list[Self]:
        """The batches with how many payouts each carries, counted in one query."""
        counts = payouts.batch_counts(session, [b.id for b in batches])
        return [
            cls(
                id=batch.id,
                message_id=batch.message_id,
                total_cents=batch.total_cents,
                payout_count=counts.get(batch.id, 0),
                created_at=batch.created_at,
                paid_at=batch.paid_at,
            )
            for batch in batches
        ]

    @classmethod
    def of(cls, session: Session, batch: PayoutBatch) -> Self:
        return cls.many(session, [batch])[0]
