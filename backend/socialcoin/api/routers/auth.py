"""Signing in."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from ...db.models import Resident
from ...domain.access import Role, issue_token
from ...domain.errors import NotAuthenticated
from ...domain.wallets import pin_matches
from ..deps import RuntimeDep, SessionDep
from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/auth", tags=["auth"], responses={401: PROBLEM_RESPONSES[401], 422: PROBLEM_RESPONSES[422]})


class ResidentLogin(BaseModel):
    case_number: str = Field(min_length=1, max_length=60, examples=["2026-0042"])
    pin: str = Field(min_length=5, max_length=8, examples=["24680"])


class TokenOut(BaseModel):
    token: str = Field(examples=["sc_3q2..."])
    role: Role
    subject_id: int | None = Field(examples=[1])
    expires_in: int = Field(examples=[28800])


@router.post("/login", response_model=TokenOut, summary="Sign in as a resident with case number and PIN")
def resident_login(body: ResidentLogin, session: SessionDep, runtime: RuntimeDep) -> TokenOut:
    resident = session.scalar(select(Resident).where(Resident.case_number == body.case_number))
    secret = runtime.settings.secret_key.get_secret_value()
    if resident is None or resident.pin_hash is None or not pin_matches(body.pin, resident.pin_hash, secret):
        raise NotAuthenticated("login_failed", "Dossiernummer of pincode klopt niet.",
                               "Case number or PIN is not correct.")
    ttl = runtime.settings.token_ttl_seconds
    token = issue_token(session, Role.RESIDENT, resident.id, ttl, label="login")
    return TokenOut(token=token, role=Role.RESIDENT, subject_id=resident.id, expires_in=ttl)
