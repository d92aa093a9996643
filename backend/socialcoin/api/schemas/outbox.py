"""The outbox as the municipality sees it: stuck transactions, their writes, and what was done to one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from ...db.models import ChainTx
from ...domain import stuck
from ..deps import MAX_ID
from .common import TX_HASH, WHEN

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
    since: datetime = Field(examples=[WHEN])
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

    @classmethod
    def of(cls, tx: ChainTx) -> ActionTaken:
        return cls(id=tx.id, status=str(tx.status))
