"""Routes of the municipality group (municipality_money)."""

from __future__ import annotations

from fastapi import APIRouter

from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)
