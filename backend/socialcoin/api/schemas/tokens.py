"""Bearer tokens the municipality hands out and revokes (the token itself is only in the answer that
issues it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ...db.models import ApiToken
from ...domain import people
from ...domain.access import Role
from ..deps import MAX_ID
from .common import WHEN, Create


class TokenCreate(Create):
    role: Role = Field(description="Whom the token is for", examples=[Role.DEBT_COUNSELLOR])
    subject_id: int | None = Field(
        ge=1,
        le=MAX_ID,
        default=None,
        description="The resident's, merchant's or (for a verifier) organisation's id; none for staff",
        examples=[None],
    )
    label: str = Field(
        min_length=1,
        max_length=200,
        description="Who holds it, for the record",
        examples=["J. Jansen, schuldhulp"],
    )
    ttl_seconds: int | None = Field(
        default=None,
        description="How long it stays valid (60 s to 90 days); the service's default when left out",
        examples=[28800],
    )


class TokenPublic(BaseModel):
    id: int = Field(examples=[7])
    role: Role = Field(examples=[Role.DEBT_COUNSELLOR])
    subject_id: int | None = Field(ge=1, le=MAX_ID, examples=[None])
    label: str = Field(examples=["J. Jansen, schuldhulp"])
    created_at: datetime = Field(examples=[WHEN])
    expires_at: datetime = Field(examples=["2026-03-02T17:30:00Z"])
    revoked_at: datetime | None = Field(examples=[None])
    issued_by: int | None = Field(description="The token that issued this one", examples=[1])
    status: Literal["active", "expired", "revoked"] = Field(examples=["active"])

    @classmethod
    def of(cls, token: ApiToken) -> TokenPublic:
        return cls(
            id=token.id,
            role=Role(token.role),
            subject_id=token.subject_id,
            label=token.label,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            issued_by=token.issued_by,
            status=people.token_status(token),
        )


class TokenIssued(TokenPublic):
    token: str = Field(
        description="The bearer token. Shown this once: only its SHA-256 is kept.",
        examples=["sc_Jx8m2Q0V3k1n6bq4dH7sXwP9yE5tLrUaZcGfNvKoBiM"],
    )


class TokenRevoked(TokenPublic):
    revoked_count: int = Field(
        ge=0,
        description="How many tokens this request revoked: the token itself (unless it was revoked already) "
        "and every token issued by it, directly or through tokens it issued, that was not revoked yet",
        examples=[3],
    )
