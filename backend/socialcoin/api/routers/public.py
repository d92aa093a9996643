"""Open to everyone: service status and the coins."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ...areas import from_bytes8
from ...chain.constants import Purpose
from ...db.models import ChainEvent, OutboxItem
from ..deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/public", tags=["public"])


class Status(BaseModel):
    chain_head: int = Field(examples=[1234])
    indexed_block: int = Field(examples=[1232])
    indexer_lag_blocks: int = Field(examples=[2])
    pending_writes: int = Field(examples=[0])


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
    head = runtime.gateway.web3.eth.block_number
    indexed = runtime.indexer.last_block(session)
    pending = session.scalar(
        select(func.count()).select_from(OutboxItem).where(OutboxItem.status.in_(("pending", "submitted")))
    )
    return Status(
        chain_head=head,
        indexed_block=indexed,
        indexer_lag_blocks=max(0, head - indexed),
        pending_writes=pending or 0,
    )


@router.get("/coins", response_model=list[CoinOut], summary="Every coin the municipality created")
def coins(session: SessionDep) -> list[CoinOut]:
    events = session.scalars(
        select(ChainEvent)
        .where(ChainEvent.event == "CoinCreated")
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    ).all()
    result = []
    for event in events:
        args = event.args
        purpose = int(args["purposeId"])
        result.append(
            CoinOut(
                address=args["coin"],
                name=args["name"],
                symbol=args["symbol"],
                purpose=Purpose(purpose).name if purpose in Purpose._value2member_map_ else str(purpose),
                area=from_bytes8(bytes.fromhex(args["area"][2:])),
                expiry=int(args["expiry"]),
                person_to_person=bool(args["personToPerson"]),
            )
        )
    return result
