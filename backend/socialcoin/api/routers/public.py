"""Open to everyone: service status and the coins."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from ...chain.errors import ChainUnavailable
from ...chain.indexer import last_indexed_block
from ...db.enums import OPEN_ITEM, TxStatus
from ...db.models import ChainTx, OutboxItem
from ...domain.coins import catalogue
from ..deps import RuntimeDep, SessionDep
from ..schemas.coins import CoinOut
from ..schemas.status import Status

router = APIRouter(prefix="/public", tags=["public"])

# /public/status answers within a second, also when the node hangs: it asks the node this long at most.
STATUS_PROBE_SECONDS = 0.5


@router.get("/status", response_model=Status, summary="Chain, indexer and outbox status")
def status(session: SessionDep, runtime: RuntimeDep) -> Status:
    try:
        head: int | None = runtime.chain.head(timeout=STATUS_PROBE_SECONDS).number
    except ChainUnavailable:
        head = None
    indexed = last_indexed_block(session, runtime.chain.deployment.start_block)
    pending = session.scalar(
        select(func.count()).select_from(OutboxItem).where(OutboxItem.status.in_(OPEN_ITEM))
    )
    stuck_txs, stuck_items = session.execute(
        select(func.count(func.distinct(ChainTx.id)), func.count(OutboxItem.id))
        .select_from(ChainTx)
        .outerjoin(OutboxItem, OutboxItem.tx_id == ChainTx.id)
        .where(ChainTx.status == TxStatus.STUCK)
    ).one()
    return Status(
        chain_available=head is not None,
        chain_head=head,
        indexed_block=indexed,
        indexer_lag_blocks=None if head is None else max(0, head - indexed),
        pending_writes=pending or 0,
        stuck_transactions=stuck_txs or 0,
        stuck_writes=stuck_items or 0,
    )


@router.get("/coins", response_model=list[CoinOut], summary="Every coin the municipality created")
def coins(session: SessionDep) -> list[CoinOut]:
    return [CoinOut.of(coin) for coin in catalogue(session)]
