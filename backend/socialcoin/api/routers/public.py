"""Open to everyone: service status and the coins."""

from __future__ import annotations

from fastapi import APIRouter

from ...domain.coins import catalogue
from ...domain.health import health
from ..deps import RuntimeDep, SessionDep
from ..schemas.coins import CoinOut
from ..schemas.status import Status

router = APIRouter(prefix="/public", tags=["public"])


@router.get("/status", response_model=Status, summary="Chain, indexer and outbox status")
def status(session: SessionDep, runtime: RuntimeDep) -> Status:
    found = health(session, runtime.chain)
    return Status(
        chain_available=found.chain_available,
        chain_head=found.chain_head,
        indexed_block=found.indexed_block,
        indexer_lag_blocks=found.indexer_lag_blocks,
        pending_writes=found.pending_writes,
        stuck_transactions=found.stuck_transactions,
        stuck_writes=found.stuck_writes,
    )


@router.get("/coins", response_model=list[CoinOut], summary="Every coin the municipality created")
def coins(session: SessionDep) -> list[CoinOut]:
    return [CoinOut.of(coin) for coin in catalogue(session)]
