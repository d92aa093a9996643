"""Transactions the outbox could not get mined (the node kept refusing them, or did not mine them in
time), and the municipality's two actions on one: retry it (signed anew with the node's fees) or cancel
it (a no-op under its nonce, so that later transactions of its key flow; its writes end cancelled)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..chain.outbox import Outbox
from ..db.enums import TxStatus
from ..db.models import ChainTx, OutboxItem
from .errors import Conflict, NotFound


@dataclass(frozen=True)
class StuckItem:
    id: int
    idempotency_key: str
    origin: str
    subject_id: int | None
    kind: str


@dataclass(frozen=True)
class StuckTransaction:
    id: int
    sender: str
    nonce: int
    tx_hash: str
    status: str
    send_failures: int
    last_error: str | None
    since: datetime
    items: list[StuckItem]


def stuck_transactions(session: Session) -> list[StuckTransaction]:
    """Every stuck (or cancelling) transaction with its items, oldest first, in two queries."""
    txs = session.scalars(
        select(ChainTx).where(ChainTx.status.in_((TxStatus.STUCK, TxStatus.CANCELLING))).order_by(ChainTx.id)
    ).all()
    items: dict[int, list[StuckItem]] = defaultdict(list)
    for item in session.scalars(
        select(OutboxItem).where(OutboxItem.tx_id.in_([tx.id for tx in txs])).order_by(OutboxItem.id)
    ):
        items[item.tx_id or 0].append(
            StuckItem(item.id, item.idempotency_key, str(item.origin), item.subject_id, item.kind)
        )
    return [
        StuckTransaction(
            tx.id,
            tx.sender,
            tx.nonce,
            tx.tx_hash,
            str(tx.status),
            tx.send_failures,
            tx.last_error,
            tx.updated_at,
            items[tx.id],
        )
        for tx in txs
    ]


def _stuck(session: Session, tx_id: int) -> ChainTx:
    tx = session.get(ChainTx, tx_id, with_for_update=True)
    if tx is None:
        raise NotFound(
            "transaction_not_found",
            f"Transactie {tx_id} bestaat niet.",
            f"Transaction {tx_id} does not exist.",
            field="tx_id",
        )
    if tx.status != TxStatus.STUCK:
        raise Conflict(
            "transaction_not_stuck",
            f"Transactie {tx_id} zit niet vast (status: {tx.status}); er valt niets opnieuw te proberen of "
            "te annuleren.",
            f"Transaction {tx_id} is not stuck (status: {tx.status}); there is nothing to retry or cancel.",
            field="tx_id",
            status_now=str(tx.status),
        )
    return tx


def retry(session: Session, tx_id: int) -> ChainTx:
    """Tries a stuck transaction again (in the caller's write transaction; the outbox sends it)."""
    tx = _stuck(session, tx_id)
    Outbox.retry(tx)
    return tx


def cancel(session: Session, tx_id: int) -> ChainTx:
    """Cancels a stuck transaction: a no-op under its nonce (in the caller's write transaction)."""
    tx = _stuck(session, tx_id)
    Outbox.cancel(tx)
    return tx
