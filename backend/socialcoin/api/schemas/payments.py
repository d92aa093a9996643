"""A holder's money: balances per coin, the history of what came in and went out, and payments from a
resident to a merchant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Payment
from ...domain import payments
from ..deps import MAX_ID
from .common import COIN, COIN_NAME, PAID_TX_HASH, WHEN
from .spending import SpendRequest

PaymentId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[41])]
MerchantQuery = Annotated[int, Query(ge=1, le=MAX_ID, examples=[3])]
ReferenceQuery = Annotated[str | None, Query(max_length=32, examples=["bon 1234"])]
# Cursors: a history pages back from the last id seen, a till polls forward from it.
BeforeId = Annotated[int | None, Query(ge=0, le=MAX_ID, description="For the next page", examples=[812])]
AfterId = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="The last id already seen", examples=[812])
]

MERCHANT_ADDRESS = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


class BalanceOut(BaseModel):
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    name: str = Field(examples=[COIN_NAME])
    purpose: str = Field(examples=["LOCAL_SPENDING"])
    purpose_nl: str = Field(description="What the coin is for, in Dutch", examples=["uitgeven in de wijk"])
    area: str = Field(examples=["WK020201"])
    amount_cents: int = Field(description="Confirmed balance, from the index", examples=[1750])
    pending_out_cents: int = Field(description="Sent but not yet in a block", examples=[0])
    expiry: int = Field(
        description="Unix time after which the coin no longer moves; 0 for never", examples=[0]
    )
    redeemable_until: int = Field(
        description="Unix time until which merchants may still redeem the coin for euros (expiry plus the "
        "coin's redemption grace); 0 for always",
        examples=[0],
    )
    holding_cap_cents: int | None = Field(
        description="The most a resident may hold of the coin; null for no cap", examples=[300_000]
    )
    may_still_receive_cents: int | None = Field(
        description="For a resident: how much more of the coin may arrive before the holding cap is reached "
        "(the cap less the confirmed balance); null when there is no cap or for a merchant",
        examples=[298_250],
    )

    @classmethod
    def of(cls, view: payments.BalanceView, *, resident: bool = False) -> BalanceOut:
        c = view.coin
        return cls(
            coin=c.address,
            symbol=c.symbol,
            name=c.name,
            purpose=c.purpose_name,
            purpose_nl=c.purpose_nl,
            area=c.area,
            amount_cents=view.amount_cents,
            pending_out_cents=view.pending_out_cents,
            expiry=c.expiry,
            redeemable_until=c.redeemable_until,
            holding_cap_cents=c.holding_cap or None,
            may_still_receive_cents=c.room_for(view.amount_cents) if resident else None,
        )


class HistoryEntryOut(BaseModel):
    id: int = Field(
        description="Cursor: pass as before_id (history) or after_id (incoming payments)", examples=[812]
    )
    time: datetime = Field(examples=[WHEN])
    block_number: int = Field(examples=[1234])
    tx_hash: str = Field(examples=[PAID_TX_HASH])
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    kind: str = Field(
        description="payment, refund, reward, grant, debt_settlement, service, payout, expired, recovered "
        "or transfer",
        examples=["payment"],
    )
    amount_cents: int = Field(description="Positive: received; negative: spent", examples=[-750])
    counterparty: str | None = Field(examples=[MERCHANT_ADDRESS])
    counterparty_name: str | None = Field(
        description="A merchant's name (residents only)", examples=["Bakkerij De Geit"]
    )
    reference: str | None = Field(
        description="The till's reference, or a burn's reference", examples=["bon 1234"]
    )
    description_nl: str = Field(examples=["Betaald aan Bakkerij De Geit"])
    description_en: str = Field(examples=["Paid to Bakkerij De Geit"])

    @classmethod
    def of(cls, entry: payments.HistoryEntry) -> HistoryEntryOut:
        return cls(**entry.__dict__)


class PaymentCreate(SpendRequest):
    merchant_id: int = Field(ge=1, le=MAX_ID, examples=[3])
    coin: str = Field(description="The coin: its symbol or its address", examples=["GKW"])
    amount_cents: int = Field(gt=0, le=10**10, examples=[750])
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="The till's reference (from its QR code); written on chain, so never a name",
        examples=["bon 1234"],
    )


class PaymentPublic(BaseModel):
    id: int = Field(examples=[41])
    status: str = Field(description="pending, confirmed or failed", examples=["confirmed"])
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    merchant_id: int | None = Field(ge=1, le=MAX_ID, examples=[3])
    merchant_name: str | None = Field(examples=["Bakkerij De Geit"])
    amount_cents: int = Field(examples=[750])
    reference: str | None = Field(examples=["bon 1234"])
    tx_hash: str | None = Field(examples=[PAID_TX_HASH])
    error_code: str | None = Field(examples=[None])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])

    @classmethod
    def many(cls, session: Session, found: list[Payment]) -> list[Self]:
        """The payments with their coins' symbols, merchants' names and failures (read once for all)."""
        return [cls(**view.__dict__) for view in payments.payment_views(session, found)]

    @classmethod
    def of(cls, session: Session, payment: Payment) -> Self:
        return cls.many(session, [payment])[0]
