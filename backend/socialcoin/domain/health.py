"""How the service is doing: whether the chain answers, how far the indexer is behind, what the outbox
has on its way and what is stuck. The public status (GET /public/status) and the municipality's dashboard
show the same figures."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..chain.errors import ChainUnavailable
from ..chain.gateway import Chain
from ..chain.indexer import last_indexed_block
from ..db.enums import OPEN_ITEM, TxStatus
from ..db.models import ChainTx, OutboxItem

# The status answers within a second, also when the node hangs: it asks the node this long at most.
PROBE_SECONDS = 0.5


@dataclass(frozen=True)
class Health:
    chain_head: int | None  # None: the node did not answer
    indexed_block: int
    pending_writes: int
    stuck_transactions: int
    stuck_writes: int

    @property
    def chain_available(self) -> bool:
        return self.chain_head is not None

    @property
    def indexer_lag_blocks(self) -> int | None:
        return None if self.chain_head is None else max(0, self.chain_head - self.indexed_block)


def health(session: Session, chain: Chain, probe_seconds: float = PROBE_SECONDS) -> Health:
    try:
        head: int | None = chain.head(timeout=probe_seconds).number
    except ChainUnavailable:
        head = None
    indexed = last_indexed_block(session, chain.deployment.start_block)
    pending = session.scalar(
        select(func.count()).select_from(OutboxItem).where(OutboxItem.status.in_(OPEN_ITEM))
    )
    stuck_txs, stuck_items = session.execute(
        select(func.count(func.distinct(ChainTx.id)), func.count(OutboxItem.id))
        .select_from(ChainTx)
        .outerjoin(OutboxItem, OutboxItem.tx_id == ChainTx.id)
        .where(ChainTx.status == TxStatus.STUCK)
    ).one()
    return Health(head, indexed, pending or 0, stuck_txs or 0, stuck_items or 0)
