"""Open to everyone: service status and the coins."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ...chain.errors import ChainUnavailable
from ...chain.indexer import last_indexed_block
from ...db.enums import OPEN_ITEM, TxStatus
from ...db.models import ChainTx, OutboxItem
from ...domain.coins import catalogue
from ..deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/public", tags=["public"])

# /public/status answers within a second, also when the node hangs: it asks the node this long at most.
STATUS_PROBE_SECONDS = 0.5


class Status(BaseModel):
    chain_available: bool = Field(
        description="Whether the node answered just now; when false, payments and other writes to the "
        "chain are refused (503 chain_unavailable) until it does",
        examples=[True],
    )
    chain_head: int | None = Field(
        description="The newest block (None: the chain does not answer)", examples=[1234]
    )
    indexed_block: int = Field(examples=[1232])
    indexer_lag_blocks: int | None = Field(examples=[2])
    pending_writes: int = Field(description="Writes to the chain on their way", examples=[0])
    stuck_transactions: int = Field(
        description="Transactions the node kept refusing or did not mine in time: they wait for the "
        "municipality to retry or cancel them (GET /municipality/outbox/stuck)",
        examples=[0],
    )
    stuck_writes: int = Field(description="Writes in those transactions", examples=[0])


class CoinOut(BaseModel):
    address: str = Field(examples=["0x5FbDB2315678afecb367f032d93F642f64180aa3"])
    name: str = Field(examples=["Socialcoin Geitenkamp - Wijkmunt"])
    symbol: str = Field(examples=["GKW"])
    purpose: str = Field(examples=["LOCAL_SPENDING"])
    area: str = Field(examples=["WK020201"])
    expiry: int = Field(description="Unix time; 0 for none", examples=[0])
    person_to_person: bool


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
    return [
        CoinOut(
            address=coin.address,
            name=coin.name,
            symbol=coin.symbol,
            purpose=coin.purpose_name,
            area=coin.area,
            expiry=coin.expiry,
            person_to_person=coin.person_to_person,
        )
        for coin in catalogue(session)
    ]
