"""Chain administration by the municipality: the requests for each operation (pause, freeze, the steps of a
recovery, reclaim, create a coin, the minter's allowance) and the operation as it goes through the
outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Header, Path
from pydantic import BaseModel, Field

from ...domain import operations
from ...domain.chain_refusals import explain
from ...domain.programmes import MAX_BUDGET_CENTS
from ..deps import MAX_ID
from ..problems import PROBLEM, Problem
from .common import TX_HASH, WHEN, Create

OperationId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[7])]
OperationKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        description="Chosen by the client once per intended operation (a UUID will do). Repeating the "
        "request with the same key returns the same operation and never does it twice.",
        examples=["3f1c9a1e-7b7e-4f7a-9d55-0a4b5f1e2c77"],
    ),
]

NO_OPERATOR: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Problem,
        "content": {PROBLEM: {}},
        "description": "operator_key_missing: the service has no operator key; use the brownie scripts",
    }
}
ADDRESS = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
NEW_ADDRESS = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
LAST_EXPIRY = 253_402_300_799  # 9999-12-31 23:59:59 UTC: dates beyond it cannot be written
Address = Annotated[str, Field(max_length=42)]


# Why a corrective operation is done: asked of each.
REASON = Field(
    min_length=1,
    max_length=500,
    description="Why, for the municipality's records (kept in the database, never on chain)",
    examples=["Telefoon gestolen, melding 2026-0315"],
)


class PauseRequest(Create):
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why (kept in the database)",
        examples=["Storing bij de bank"],
    )


class FreezeRequest(Create):
    wallet_addresses: list[Address] = Field(
        min_length=1, max_length=operations.MAX_WALLETS, examples=[[ADDRESS]]
    )
    reason: str = REASON


LOST_WALLET = Field(max_length=42, description="The registered wallet that was lost", examples=[ADDRESS])
NEW_WALLET = Field(
    max_length=42, description="A fresh address of the same person's own wallet", examples=[NEW_ADDRESS]
)


class RecoveryRequestBody(Create):
    lost_wallet: str = LOST_WALLET
    new_wallet: str = NEW_WALLET
    case_number: str = Field(
        min_length=1,
        max_length=100,
        description="The municipality's case number for this recovery: only a keyed hash of it goes on chain",
        examples=["Z-2026-0315"],
    )
    reason: str = REASON


class RecoveryExecuteBody(Create):
    lost_wallet: str = LOST_WALLET
    new_wallet: str = Field(
        max_length=42,
        description="The new wallet the pending request names (checked, so that the right one moves)",
        examples=[NEW_ADDRESS],
    )
    reason: str | None = Field(
        default=None, max_length=500, description="Kept in the database", examples=[None]
    )


class RecoveryCancelBody(Create):
    lost_wallet: str = LOST_WALLET
    reason: str = REASON


class ReclaimRequest(Create):
    coin: str = Field(max_length=42, description="The expired coin: its symbol or address", examples=["GKW"])
    holders: list[Address] | None = Field(
        default=None,
        max_length=operations.MAX_HOLDERS,
        description="Whose coins to reclaim; null: every holder with a balance in the index",
        examples=[None],
    )
    credit_minter: bool = Field(
        default=True,
        description="Return the reclaimed amount to the backend minter's allowance (false: only burn)",
        examples=[True],
    )


class CoinCreate(Create):
    name: str = Field(min_length=1, max_length=100, examples=["Socialcoin Arnhem - Vervoer"])
    symbol: str = Field(
        min_length=2, max_length=11, description="2 to 11 letters and digits", examples=["AVV"]
    )
    purpose: str = Field(
        min_length=1, max_length=32, description="A purpose code of the registry", examples=["MOBILITY"]
    )
    area: str = Field(
        max_length=10, description="A gemeente (GM…) or wijk (WK…) CBS code", examples=["GM0202"]
    )
    expiry: int | None = Field(
        default=None,
        ge=0,
        le=LAST_EXPIRY,
        description="Unix time; null or 0: never expires",
        examples=[1830297600],
    )
    person_to_person: bool = Field(
        description="Whether residents in the area may pay each other with it", examples=[False]
    )
    redemption_grace_days: int = Field(
        default=0,
        ge=0,
        le=operations.MAX_REDEMPTION_GRACE_DAYS,
        description="Days after expiry during which merchants may still redeem the coin for euros (only "
        "with an expiry; what a merchant still holds after them becomes a payout at reclaim)",
        examples=[30],
    )
    holding_cap_cents: int = Field(
        default=0,
        ge=0,
        le=operations.MAX_HOLDING_CAP_CENTS,
        description="The most a resident may hold of the coin, in cents; 0: no cap",
        examples=[300_000],
    )


class MinterAllowanceChange(Create):
    amount_cents: int = Field(
        ge=1,
        le=MAX_BUDGET_CENTS,
        description="How much to add to (or take from) the backend minter's allowance, in cents",
        examples=[5_000_000],
    )


class OperationPublic(BaseModel):
    id: int = Field(examples=[7])
    kind: Literal[
        "pause",
        "unpause",
        "freeze",
        "unfreeze",
        "recovery_request",
        "recovery_execute",
        "recovery_cancel",
        "reclaim_expired",
        "create_coin",
        "minter_allowance_increase",
        "minter_allowance_decrease",
        # A resident's PIN reset: freezes the wallet and requests its recovery to the new key in one
        # (POST /municipality/residents/{id}/pin-reset); its second step is a recovery_execute.
        "pin_reset",
        # Kinds of operations recorded before recovery took two steps and allowances changed relatively.
        "recover",
        "minter_allowance",
    ] = Field(examples=["freeze"])
    status: Literal["pending", "done", "failed"] = Field(
        description="pending: queued or sent; done: confirmed on chain; failed: refused (see error_code)",
        examples=["done"],
    )
    tx_hash: str | None = Field(description="The (first) transaction, once signed", examples=[TX_HASH])
    tx_hashes: list[str] = Field(
        description="Every transaction (a large reclaim takes several)", examples=[[TX_HASH]]
    )
    error_code: str | None = Field(description="The contract's error when failed", examples=[None])
    error_message: str | None = Field(description="Dutch", examples=[None])
    error_message_en: str | None = Field(examples=[None])
    error_detail: str | None = Field(description="The error with its arguments", examples=[None])
    request: dict[str, Any] = Field(
        description="The request as checked (addresses checksummed, the reason)",
        examples=[{"kind": "freeze", "wallet_addresses": [ADDRESS], "reason": "Verdachte betalingen"}],
    )
    result: dict[str, Any] | None = Field(
        description="Once done: create_coin the new coin's address (`coin`); recovery_request when it can "
        "be executed (`executable_at`, unix time)",
        examples=[None],
    )
    created_at: datetime = Field(examples=[WHEN])

    @classmethod
    def of(cls, view: operations.OperationView) -> OperationPublic:
        operation = view.operation
        message, message_en = explain(view.error_code, view.error_detail)
        return cls(
            id=operation.id,
            kind=operation.kind,
            status=view.status,
            tx_hash=view.tx_hashes[0] if view.tx_hashes else None,
            tx_hashes=view.tx_hashes,
            error_code=view.error_code,
            error_message=message,
            error_message_en=message_en,
            error_detail=view.error_detail,
            request=operation.request,
            result=view.result,
            created_at=operation.created_at,
        )
