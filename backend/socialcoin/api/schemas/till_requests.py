"""A till's payment requests: a short code and a link (shown as a QR code) that a resident pays once, and
the merchant's standing request for the counter, where the resident types the amount."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field

from ...domain import till_requests
from .common import COIN, COIN_NAME, PAID_TX_HASH, WHEN, Create

TillRequestCode = Annotated[
    str, Path(min_length=1, max_length=20, description="The request's short code", examples=["K7M2QX"])
]


class TillRequestCreate(Create):
    amount_cents: int = Field(
        gt=0,
        le=till_requests.MAX_AMOUNT_CENTS,
        description="What the resident is asked to pay (paid once, exactly this amount)",
        examples=[1250],
    )


class AcceptedCoinOut(BaseModel):
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    name: str = Field(examples=[COIN_NAME])


class TillRequestPublic(BaseModel):
    code: str = Field(description="To type on the pay page; in the link", examples=["K7M2QX"])
    link: str = Field(
        description="The wallet's pay page for this request: what the QR code holds",
        examples=["https://socialcoin.arnhem.nl/betalen/K7M2QX"],
    )
    reference: str = Field(
        description="The payment reference a payment of this request carries", examples=["SC-K7M2QX"]
    )
    amount_cents: int | None = Field(
        description="null for the standing request, where the resident types the amount", examples=[1250]
    )
    merchant_id: int = Field(examples=[1])
    merchant_name: str = Field(examples=["Bakkerij De Geitenkamp"])
    coins: list[AcceptedCoinOut] = Field(description="The coins the merchant can receive now")
    status: Literal["open", "pending", "paid", "failed", "cancelled"] = Field(
        description="open; pending (a payment is on its way); paid; failed (the payment failed: it may be "
        "paid again); cancelled (withdrawn). A standing request stays open.",
        examples=["paid"],
    )
    payment_id: int | None = Field(description="The payment of a request with an amount", examples=[41])
    payment_tx_hash: str | None = Field(examples=[PAID_TX_HASH])
    created_at: datetime = Field(examples=[WHEN])
    cancelled_at: datetime | None = Field(examples=[None])

    @classmethod
    def of(cls, view: till_requests.RequestView) -> TillRequestPublic:
        request, payment = view.request, view.state.payment
        return cls(
            code=request.code,
            link=view.link,
            reference=request.reference,
            amount_cents=request.amount_cents,
            merchant_id=request.merchant_id,
            merchant_name=view.merchant_name,
            coins=[AcceptedCoinOut(coin=c.address, symbol=c.symbol, name=c.name) for c in view.coins],
            status=view.state.status,
            payment_id=payment.id if payment else None,
            payment_tx_hash=payment.tx_hash if payment else None,
            created_at=request.created_at,
            cancelled_at=request.cancelled_at,
        )
