"""Routes of the residents group (residents_profile)."""

from __future__ import annotations

from fastapi import APIRouter

from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/residents/me", tags=["residents"], responses=PROBLEM_RESPONSES)
