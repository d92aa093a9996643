"""A resident pays another resident: named by the receiver's receive code, never by anything personal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Transfer
from ...domain import person_to_person
from ..deps import MAX_ID
from .common import COIN, PAID_TX_HASH
from .spending import SpendRequest

TransferId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[12])]
RECEIVE_CODE = r"^[A-Za-z0-9 -]{8,12}$"
ReceiveCodeQuery = Annotated[
    str, Query(pattern=RECEIVE_CODE, description="The receiver's receive code", examples=["KQ7M-X3PA"])
]


class TransferCreate(SpendRequest):
    receive_code: str = Field(
        pattern=RECEIVE_CODE,
        description="The receiver's receive code (on the receiver's own pay page; GET "
        "/residents/me/receive-code gives one's own)",
        examples=["KQ7M-X3PA"],
    )
    coin: str = Field(description="The coin: its symbol or its address", examples=["GKW"])
    amount_cents: int = Field(gt=0, le=10**10, examples=[500])


class TransferPublic(BaseModel):
    id: int = Field(examples=[12])
    direction: str = Field(description="sent or received", examples=["sent"])
    status: str = Field(description="pending, confirmed or failed", examples=["confirmed"])
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    amount_cents: int = Field(examples=[500])
    tx_hash: str | None = Field(examples=[PAID_TX_HASH])
    error_code: str | None = Field(description="Why it failed (sent transfers only)", examples=[None])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])

    @classmethod
    def many(cls, session: Session, resident_id: int, found: list[Transfer]) -> list[Self]:
        return [cls(**view.__dict__) for view in person_to_person.transfer_views(session, resident_id, found)]

    @classmethod
    def of(cls, session: Session, resident_id: int, transfer: Transfer) -> Self:
        return cls.many(session, resident_id, [transfer])[0]


class ReceiveCodeOut(BaseModel):
    code: str = Field(description="Give it to whoever wants to pay you", examples=["KQ7M-X3PA"])
