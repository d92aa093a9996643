"""The page routers, one per part of the site (each part has its own templates/<part>/ and catalogue)."""

from __future__ import annotations

from fastapi import APIRouter

from . import effect, front, municipality, openbaar, organisation, pay, programme, till, wallet

ROUTERS: list[APIRouter] = [
    front.router,
    wallet.router,
    pay.router,
    till.router,
    organisation.router,
    municipality.router,
    programme.router,
    effect.router,
    openbaar.router,
]
