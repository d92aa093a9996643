"""A merchant's money: balances, payments arriving (a till polls with the last id it saw), history, and
payouts in euros (the coins are burned, the municipality transfers the euros in its next SEPA batch).
Every route reads the merchant from the token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Payout
from ...domain import payments, payouts, spending
from ...domain.payouts import PayoutFlow, PayoutRequest
from ...domain.spending import Holder, failure_codes
from ..deps import MAX_ID, CurrentMerchant, RuntimeDep, SessionDep
from ..problems import PROBLEM_RESPONSES
from .residents_money import (
    BalanceOut,
    BeforeId,
    HistoryEntryOut,
    HistoryLimit,
    IdempotencyKey,
    SpendRequest,
    TypedDataOut,
    signed_of,
)

router = APIRouter(prefix="/merchants/me", tags=["merchants"], responses=PROBLEM_RESPONSES)


class PayoutCreate(SpendRequest):
    coin: str = Field(description="The coin to redeem: symbol or address", examples=["GKW"])
    amount_cents: int = Field(gt=0, le=10**10, examples=[2000])


class PayoutPublic(BaseModel):
    id: int = Field(examples=[5])
    merchant_id: int = Field(ge=1, le=MAX_ID, examples=[3])
    coin: str = Field(examples=["0x5FbDB2315678afecb367f032d93F642f64180aa3"])
    amount_cents: int = Field(examples=[2000])
    status: str = Field(
        description="pending, burned (waits for the next SEPA batch), batched, paid or failed",
        examples=["burned"],
    )
    chain_reference: str = Field(examples=["0x51c0" + "0" * 60])
    tx_hash: str | None = Field(examples=["0x9c1e" + "0" * 60])
    burned_at: datetime | None = Field(examples=["2026-03-02T09:30:00Z"])
    batch_id: int | None = Field(ge=1, le=MAX_ID, examples=[None])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])
    error_code: str | None = Field(default=None, examples=[None])

    @classmethod
    def of(cls, payout: Payout, errors: dict[str, str] | None = None) -> PayoutPublic:
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
            error_code=(errors or {}).get(payout.outbox_key),
        )

    @classmethod
    def many(cls, session: Session, found: list[Payout]) -> list[PayoutPublic]:
        errors = failure_codes(session, [p.outbox_key for p in found if p.status == "failed"])
        return [cls.of(p, errors) for p in found]


@router.get("/balances", response_model=list[BalanceOut], summary="My balance per coin")
def my_balances(merchant: CurrentMerchant, session: SessionDep) -> list[BalanceOut]:
    return [BalanceOut.of(v) for v in payments.balances(session, merchant.wallet_address)]


@router.get(
    "/payments",
    response_model=list[HistoryEntryOut],
    summary="Payments that arrived, oldest first",
    description="For the till: poll with `after_id` set to the last id seen to get only new payments.",
)
def incoming_payments(
    merchant: CurrentMerchant,
    session: SessionDep,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="The last id already seen", examples=[812])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
) -> list[HistoryEntryOut]:
    found = payments.incoming_payments(session, merchant.wallet_address, after_id=after_id, limit=limit)
    return [HistoryEntryOut.of(e) for e in found]


@router.get("/history", response_model=list[HistoryEntryOut], summary="Everything in and out, newest first")
def my_history(
    merchant: CurrentMerchant,
    session: SessionDep,
    limit: HistoryLimit = 50,
    before_id: BeforeId = None,
) -> list[HistoryEntryOut]:
    return [
        HistoryEntryOut.of(e)
        for e in payments.history(
            session, merchant.wallet_address, viewer="merchant", limit=limit, before_id=before_id
        )
    ]


@router.get(
    "/payouts/typed-data", response_model=TypedDataOut, summary="Own wallet: what to sign for a payout"
)
def payout_typed_data(
    merchant: CurrentMerchant,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
    coin: Annotated[str, Query(description="Symbol or address", examples=["GKW"])],
    amount_cents: Annotated[int, Query(gt=0, le=10**10, examples=[2000])],
) -> TypedDataOut:
    flow, request = PayoutFlow(runtime.settings), PayoutRequest(coin, amount_cents)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(merchant), request, key))


@router.post(
    "/payouts",
    response_model=PayoutPublic,
    status_code=202,
    summary="Redeem coins for euros",
    description="Burns the coins against the payout's reference. Once confirmed (`burned`), the amount "
    "goes into the municipality's next SEPA credit-transfer batch to the merchant's IBAN.",
)
def request_payout(
    body: PayoutCreate,
    merchant: CurrentMerchant,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
) -> PayoutPublic:
    payout = spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        PayoutFlow(runtime.settings),
        Holder.of(merchant),
        PayoutRequest(body.coin, body.amount_cents),
        key,
        pin=body.pin,
        signed=signed_of(body.authorization),
    )
    return PayoutPublic.of(payout)


@router.get("/payouts", response_model=list[PayoutPublic], summary="My payouts, newest first")
def my_payouts(
    merchant: CurrentMerchant,
    session: SessionDep,
    status: Annotated[
        Literal["pending", "burned", "batched", "paid", "failed"] | None, Query(examples=["burned"])
    ] = None,
) -> list[PayoutPublic]:
    return PayoutPublic.many(session, payouts.list_payouts(session, merchant_id=merchant.id, status=status))
