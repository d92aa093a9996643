"""A resident's PIN reset as the municipality sees it (domain.pin_resets)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ...domain import pin_resets
from .activation_codes import ActivationCodeIssued
from .common import WHEN, Create


class PinResetCreate(Create):
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Why, for the municipality's records (never on chain)",
        examples=["Pincode vergeten; langs geweest op het wijkkantoor"],
    )


class PinResetPublic(BaseModel):
    id: int = Field(examples=[3])
    resident_id: int = Field(examples=[1])
    status: pin_resets.Status = Field(
        description="requesting: the old wallet is being frozen and its recovery requested; waiting: for "
        "the registry's recovery delay (`executable_at`); moving: the coins are moving to the new key; done: "
        "the new key is the resident's wallet; failed: see `error_code`, and start a new reset",
        examples=["waiting"],
    )
    old_wallet: str = Field(examples=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"])
    new_wallet: str = Field(examples=["0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"])
    requested_at: datetime = Field(examples=[WHEN])
    executable_at: int | None = Field(
        description="From when (unix time, the chain's clock) the coins can move; None when not known now",
        examples=[1765230000],
    )
    ended_at: datetime | None = Field(examples=[None])
    error_code: str | None = Field(description="Why it failed (the chain's refusal)", examples=[None])
    operation_id: int = Field(
        description="The chain operation that freezes and requests (GET /municipality/chain/operations/{id})",
        examples=[21],
    )

    @classmethod
    def of(cls, view: pin_resets.ResetView) -> PinResetPublic:
        reset = view.reset
        return cls(
            id=reset.id,
            resident_id=reset.resident_id,
            status=view.status,
            old_wallet=reset.old_address,
            new_wallet=reset.new_address,
            requested_at=reset.requested_at,
            executable_at=view.executable_at,
            ended_at=reset.ended_at,
            error_code=reset.error_code,
            operation_id=reset.request_operation_id,
        )


class PinResetStarted(BaseModel):
    pin_reset: PinResetPublic
    activation_code: ActivationCodeIssued = Field(
        description="For the new letter: the resident chooses a new PIN with it (POST /auth/activate)"
    )
