"""Routes of the merchants group (merchants)."""

from __future__ import annotations

from fastapi import APIRouter

from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/merchants/me", tags=["merchants"], responses=PROBLEM_RESPONSES)
