"""The outbox as the municipality sees it: transactions that are stuck (the node kept refusing them, or
did not mine them in time), and the two actions on one. Only a municipal admin may."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from ...domain import stuck
from ..deps import MAX_ID, Admin, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/municipality/outbox", tags=["municipality"], responses=PROBLEM_RESPONSES)

TX_HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
TxId = Annotated[int, Path(ge=1, le=MAX_ID, description="The transaction's id in the outbox", examples=[12])]


class StuckItemPublic(BaseModel):
    id: int = Field(examples=[41])
    idempotency_key: str = Field(examples=["payment:3:3f1c9a1e-7b7e-4f7a-9d55-0a4b5f1e2c77"])
    origin: str = Field(description="Which part of the service asked for it", examples=["payment"])
    subject_id: int | None = Field(description="The payment, claim, reward ... it belongs to", examples=[7])
    kind: str = Field(examples=["relay"])


class StuckTransactionPublic(BaseModel):
    id: int = Field(examples=[12])
    sender: str = Field(
        description="The service's key that signs it", examples=["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]
    )
    nonce: int = Field(examples=[57])
    tx_hash: str = Field(examples=[TX_HASH])
    status: str = Field(description="stuck, or cancelling (a no-op is on its way)", examples=["stuck"])
    send_failures: int = Field(description="Times in a row the node refused it", examples=[5])
    last_error: str | None = Field(
        description="What the node said last", examples=["max fee per gas less than block base fee"]
    )
    since: datetime = Field(examples=["2026-03-02T09:30:00Z"])
    items: list[StuckItemPublic]

    @classmethod
    def of(cls, found: stuck.StuckTransaction) -> StuckTransactionPublic:
        return cls(
            id=found.id,
            sender=found.sender,
            nonce=found.nonce,
            tx_hash=found.tx_hash,
            status=found.status,
            send_failures=found.send_failures,
            last_error=found.last_error,
            since=found.since,
            items=[StuckItemPublic(**vars(item)) for item in found.items],
        )


class ActionTaken(BaseModel):
    id: int = Field(examples=[12])
    status: str = Field(
        description="signed: it is sent again; cancelling: a no-op is on its way", examples=["signed"]
    )


@router.get(
    "/stuck",
    response_model=list[StuckTransactionPublic],
    summary="Transactions the outbox could not get mined, with their writes",
    description="Later writes of the same key wait behind them. Retry one once its cause is fixed (the "
    "node's fee, the key's ether), or cancel it.",
)
def list_stuck(_: Admin, session: SessionDep) -> list[StuckTransactionPublic]:
    return [StuckTransactionPublic.of(found) for found in stuck.stuck_transactions(session)]


@router.post(
    "/transactions/{tx_id}/retry",
    status_code=202,
    response_model=ActionTaken,
    summary="Try a stuck transaction again (signed anew with the node's fees)",
)
def retry(tx_id: TxId, _: Admin, session: WriteSessionDep) -> ActionTaken:
    tx = stuck.retry(session, tx_id)
    return ActionTaken(id=tx.id, status=str(tx.status))


@router.post(
    "/transactions/{tx_id}/cancel",
    status_code=202,
    response_model=ActionTaken,
    summary="Cancel a stuck transaction: a no-op under its nonce, so later writes flow",
    description="Its writes end cancelled (a payment failed, nothing moved), unless the original is mined "
    "first. Then it counts as done.",
)
def cancel(tx_id: TxId, _: Admin, session: WriteSessionDep) -> ActionTaken:
    tx = stuck.cancel(session, tx_id)
    return ActionTaken(id=tx.id, status=str(tx.status))
