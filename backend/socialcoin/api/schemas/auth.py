"""Signing in (with a PIN or the code from the letter), who a token is for, and changing the PIN."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ...domain.access import Role
from ..deps import MAX_ID
from .common import Create

DEVICE_TOKEN_EXAMPLE = "kX3v9QmT2bLw8Rz1.Yp4s0aN3dEw7Qh2Lk9Vt5Rc1"
DeviceToken = Field(
    default=None,
    max_length=100,
    description="The device_token this device got at its last sign-in: its attempts then count on their own, "
    "so nobody elsewhere can lock it out (README: the front door)",
    examples=[DEVICE_TOKEN_EXAMPLE],
)


class ResidentLogin(BaseModel):
    case_number: str = Field(min_length=1, max_length=60, examples=["2026-0042"])
    pin: str = Field(min_length=5, max_length=8, examples=["24680"])
    device_token: str | None = DeviceToken


class Activation(BaseModel):
    case_number: str = Field(min_length=1, max_length=60, examples=["2026-0042"])
    activation_code: str = Field(
        min_length=1,
        max_length=40,
        description="From the letter; spaces, dashes and case do not matter",
        examples=["HGUU-ZLS5-5JRE"],
    )
    pin: str = Field(
        min_length=1,
        max_length=8,
        description="The PIN the resident chooses: 5 to 8 digits, not easy to guess",
        examples=["24680"],
    )
    device_token: str | None = DeviceToken


class TokenOut(BaseModel):
    token: str = Field(examples=["sc_3q2..."])
    role: Role = Field(examples=[Role.RESIDENT])
    subject_id: int | None = Field(ge=1, le=MAX_ID, examples=[1])
    expires_in: int = Field(description="Seconds", examples=[28800])
    device_token: str | None = Field(
        default=None,
        description="After a sign-in with case number and PIN (or activation code): keep it on this device "
        "and send it with the next sign-in",
        examples=[DEVICE_TOKEN_EXAMPLE],
    )


class SessionInfo(BaseModel):
    role: Role = Field(examples=[Role.RESIDENT])
    subject_id: int | None = Field(
        ge=1,
        le=MAX_ID,
        description="The resident, merchant or organisation the token speaks for",
        examples=[1],
    )
    label: str = Field(examples=["login"])
    expires_at: datetime = Field(examples=["2026-03-02T17:30:00Z"])


class PinChange(Create):
    current_pin: str = Field(min_length=1, max_length=8, examples=["24680"])
    new_pin: str = Field(
        min_length=1, max_length=8, description="5 to 8 digits, not easy to guess", examples=["86420"]
    )
