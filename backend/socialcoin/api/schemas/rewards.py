"""Rewards: a month's rewards from a spreadsheet, minted in batches, and where each mint stands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Reward
from ...domain import rewards
from ...domain.batch import MAX_ROWS
from ...domain.chain_refusals import explain
from ...domain.spending import failures
from ...formats import CLAIM_REFERENCE
from ..batches import BatchAnswer, BatchRequest, Line
from ..deps import MAX_ID
from .common import COIN, TX_HASH, Create

CLAIM_ID = "0x6b1a3f7c0d9e4a25b8c4f0e2d7a9136c5e8f4b2a1d0c9e7f6a5b4c3d2e1f0a9b"
REFERENCE = "2026-03/moestuin/0042"
MONTH_END = "2026-03-31T16:00:00Z"

Mint = Literal["pending", "minted", "failed"]
Reference = Annotated[str, Field(pattern=f"^{CLAIM_REFERENCE.pattern}$", examples=[REFERENCE])]
RewardLimit = Annotated[int, Query(ge=1, le=500, description="At most this many", examples=[100])]
BeforeReward = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only rewards before this one (the next page)")
]


class RewardRow(Create):
    """One line of the spreadsheet. A missing or wrong field comes back as a fault of its line."""

    line: Line
    case_number: str | None = Field(
        default=None, max_length=1000, description="The resident's case number", examples=["2026-0042"]
    )
    activity_id: int | None = Field(
        default=None, le=MAX_ID, description="The activity's number in the catalogue", examples=[4]
    )
    units: int | None = Field(
        default=None, description="Hours or tasks done: a whole number, at least 1", examples=[3]
    )
    claim_reference: str | None = Field(
        default=None,
        max_length=1000,
        description="The municipality's own reference for this reward: 1 to 64 of A-Z a-z 0-9 . _ : / -, "
        "unique. It stays off chain (the chain gets a keyed hash of it).",
        examples=[REFERENCE],
    )


class RewardBatch(BatchRequest[RewardRow]):
    """The spreadsheet's rows, for minting."""


class RewardBatchResult(BaseModel):
    line: int = Field(examples=[2])
    status: Literal["queued", "exists"] = Field(
        description="queued for minting now, or recorded before with the same data (nothing changed)",
        examples=["queued"],
    )
    claim_reference: str = Field(examples=[REFERENCE])
    reward_id: int | None = Field(description="The reward; None in a dry run for a new one", examples=[17])
    amount_cents: int = Field(description="units x the activity's value per unit", examples=[2400])
    coin: str = Field(description="The coin of the activity's programme", examples=[COIN])
    mint: Mint = Field(description="Where the mint stands", examples=["pending"])


class RewardBatchOut(BatchAnswer[RewardBatchResult]):
    """One result per row, and how many rows are queued and exist."""


class RewardLookup(Create):
    claim_references: list[Reference] = Field(min_length=1, max_length=MAX_ROWS, examples=[[REFERENCE]])


class RewardMintState(BaseModel):
    claim_reference: str = Field(examples=[REFERENCE])
    reward_id: int | None = Field(description="None: no reward has this reference", examples=[17])
    amount_cents: int | None = Field(examples=[2400])
    mint: Mint | None = Field(description="None for an unknown reference", examples=["minted"])
    tx_hash: str | None = Field(description="The grantBatch transaction, once it ended", examples=[TX_HASH])
    attempt: int | None = Field(
        description="Which attempt the mint is (a failed one is tried again when its row is sent again)",
        examples=[1],
    )
    error_code: str | None = Field(description="Why the mint failed (the chain's refusal)", examples=[None])
    error: str | None = Field(description="Why it failed, in Dutch", examples=[None])
    error_en: str | None = Field(examples=[None])

    @classmethod
    def many(cls, session: Session, references: list[str]) -> list[RewardMintState]:
        """Where the mint of the reward under each reference stands, in the order given; an unknown
        reference has no reward and no mint."""
        found = rewards.by_reference(session, references)
        errors = failures(session, [r.outbox_key for r in found.values() if r.status == "failed"])
        states = []
        for reference in references:
            reward = found.get(reference)
            code, detail = errors.get(reward.outbox_key, (None, None)) if reward else (None, None)
            nl, en = explain(code, detail)
            states.append(
                cls(
                    claim_reference=reference,
                    reward_id=reward.id if reward else None,
                    amount_cents=reward.amount_cents if reward else None,
                    mint=reward.status if reward else None,
                    tx_hash=reward.tx_hash if reward else None,
                    attempt=reward.attempt if reward else None,
                    error_code=code,
                    error=nl,
                    error_en=en,
                )
            )
        return states


class RewardPublic(BaseModel):
    id: int = Field(examples=[17])
    claim_reference: str = Field(examples=[REFERENCE])
    claim_id: str = Field(
        description="The claim id on chain: a keyed hash of the reference", examples=[CLAIM_ID]
    )
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[12])
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    programme_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    coin: str = Field(examples=[COIN])
    units: int = Field(examples=[3])
    amount_cents: int = Field(examples=[2400])
    mint: Mint = Field(examples=["minted"])
    tx_hash: str | None = Field(examples=[TX_HASH])
    created_at: datetime = Field(description="Counts against the cap of this month", examples=[MONTH_END])
    minted_at: datetime | None = Field(examples=["2026-03-31T16:00:05Z"])

    @classmethod
    def of(cls, reward: Reward) -> RewardPublic:
        return cls(
            id=reward.id,
            claim_reference=reward.claim_reference,
            claim_id=reward.claim_id,
            resident_id=reward.resident_id,
            activity_id=reward.activity_id,
            programme_id=reward.programme_id,
            coin=reward.coin,
            units=reward.units,
            amount_cents=reward.amount_cents,
            mint=reward.status,
            tx_hash=reward.tx_hash,
            created_at=reward.created_at,
            minted_at=reward.minted_at,
        )
