"""Activation codes as the municipality sees them: a code issued (shown in that answer only), its
acknowledgement once written down, and every issue of a resident's codes with the token that made it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ...db.models import ActivationCode, ApiToken, Resident
from ...domain import activation_codes
from ...domain.access import Role
from ...domain.batch import MAX_ROWS
from ..deps import MAX_ID
from .common import WHEN, Create

Reason = Literal["admission", "reissue", "pin_reset"]


class ActivationCodeIssued(BaseModel):
    resident_id: int = Field(examples=[1])
    case_number: str = Field(examples=["2026-0042"])
    activation_code_id: int = Field(
        description="Acknowledge it once the code is written down (POST .../activation-codes/acknowledge)",
        examples=[13],
    )
    activation_code: str = Field(
        description="For the letter to the resident (POST /auth/activate). Shown this once: only a keyed "
        "hash is kept. The code before it stopped working.",
        examples=["HGUU-ZLS5-5JRE"],
    )
    reason: Reason = Field(examples=["reissue"])
    issued_at: datetime = Field(examples=[WHEN])

    @classmethod
    def of(cls, resident: Resident, issued: activation_codes.Issued) -> ActivationCodeIssued:
        return cls(
            resident_id=resident.id,
            case_number=resident.case_number,
            activation_code_id=issued.id,
            activation_code=issued.code,
            reason=issued.reason,
            issued_at=issued.issued_at,
        )


class ActivationCodeAcknowledgement(Create):
    activation_code_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1,
        max_length=MAX_ROWS,
        description="Codes this token was given (by a batch or a reissue) and has written down",
        examples=[[12, 13]],
    )


class ActivationCodesAcknowledged(BaseModel):
    acknowledged: int = Field(
        description="How many were marked now (codes issued to another token, or marked before, are left)",
        examples=[2],
    )


class IssuedBy(BaseModel):
    token_id: int = Field(examples=[7])
    label: str = Field(
        description="Who held the token, as recorded when it was issued", examples=["J. Jansen"]
    )
    role: Role = Field(examples=[Role.ADMIN])


class ActivationCodePublic(BaseModel):
    """One issue of a code (never the code)."""

    id: int = Field(examples=[12])
    reason: Reason = Field(examples=["admission"])
    status: Literal["current", "replaced", "used"] = Field(
        description="current: the code that works now; replaced: a newer one replaced it; used: the resident "
        "activated with it",
        examples=["current"],
    )
    issued_at: datetime = Field(examples=[WHEN])
    issued_by: IssuedBy | None = Field(
        description="The token whose request issued it; None for a code from before these records",
    )
    acknowledged_at: datetime | None = Field(
        description="When its receiver said it was written down (the letters file)", examples=[WHEN]
    )
    replaced_at: datetime | None = Field(examples=[None])
    used_at: datetime | None = Field(examples=[None])

    @classmethod
    def of(cls, code: ActivationCode, token: ApiToken | None) -> ActivationCodePublic:
        return cls(
            id=code.id,
            reason=code.reason,
            status=activation_codes.status(code),
            issued_at=code.issued_at,
            issued_by=None
            if token is None
            else IssuedBy(token_id=token.id, label=token.label, role=token.role),
            acknowledged_at=code.acknowledged_at,
            replaced_at=code.replaced_at,
            used_at=code.used_at,
        )
