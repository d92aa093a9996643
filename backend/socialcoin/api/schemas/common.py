"""What several entities share: example values, the base of what requests send, a rejection's reason,
paging, the Idempotency-Key header, the answer to too many wrong PINs, and loading related rows for a
whole list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

from fastapi import Header, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ...db.base import Base
from ...domain.batch import chunks
from ..deps import MAX_ID
from ..problems import PROBLEM, Problem

# Examples in the OpenAPI document: the demo municipality's first coin, its residents and verifier.
COIN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
COIN_NAME = "Socialcoin Geitenkamp - Wijkmunt"
RESIDENT_ADDRESS = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
VERIFIER_ADDRESS = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
HASH = "0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
TX_HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
PAID_TX_HASH = "0x9c1e" + "0" * 60
WHEN = "2026-03-02T09:30:00Z"


class Create(BaseModel):
    """A request body, or a part of one: unknown fields (a BSN, say) are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")


# Declining a resident's suggestion or claim. (A docstring here would change the OpenAPI document.)
class Rejection(Create):
    reason: str = Field(
        min_length=3,
        max_length=2000,
        description="Told to the resident as written",
        examples=["Dit valt al onder de activiteit 'Boodschappen voor buren'."],
    )


# Paging, at most 500 at a time: a history, payments and messages give 50 as their example, other lists 100.
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many", examples=[100])]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Skip this many first", examples=[0])]
HistoryLimit = Annotated[int, Query(ge=1, le=500, description="At most this many", examples=[50])]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        description="Chosen by the client once per intended payment (a UUID will do). Repeating a request "
        "with the same key returns the first answer and never pays twice; an own wallet uses the same "
        "key to fetch the typed data and to post the signature.",
        examples=["3f1c9a1e-7b7e-4f7a-9d55-0a4b5f1e2c77"],
    ),
]

TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "model": Problem,
        "content": {PROBLEM: {}},
        "description": "pin_locked (too many wrong PINs) or too_many_requests (a rate limit): wait for "
        "Retry-After",
    }
}

RowT = TypeVar("RowT", bound=Base)
KeyT = TypeVar("KeyT")


def rows_by(
    session: Session, model: type[RowT], column: InstrumentedAttribute[KeyT], keys: Iterable[KeyT | None]
) -> dict[KeyT, RowT]:
    """The rows of `model` whose `column` (unique) holds one of `keys`, by that value: one query per
    thousand keys, none for no keys. What a list's `many` uses to load a relation for all its rows."""
    wanted = list({key for key in keys if key is not None})
    found: dict[KeyT, RowT] = {}
    for chunk in chunks(wanted):
        for row in session.scalars(select(model).where(column.in_(chunk))):
            found[getattr(row, column.key)] = row
    return found
