"""Routes of the organisations group (organisations)."""

from __future__ import annotations

from fastapi import APIRouter

from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/organisations", tags=["organisations"], responses=PROBLEM_RESPONSES)
