"""Municipal services residents pay with coins, and the orders that pay them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Order, Service
from ...domain.coins import purpose_names
from ...domain.spending import failure_codes
from ..deps import MAX_ID
from .common import PAID_TX_HASH, WHEN, Create, rows_by
from .spending import SpendRequest

ServiceId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])]
ServiceQuery = Annotated[int, Query(ge=1, le=MAX_ID, examples=[1])]
OrderId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[7])]
OrderStatusFilter = Annotated[str | None, Query(pattern="^(pending|paid|failed)$", examples=["paid"])]

SPORT_PASS = "Sportpas 2026"
SPORT_PASS_DESCRIPTION = "Een jaar lang sporten bij de clubs in Arnhem."


class ServiceCreate(Create):
    name: str = Field(min_length=1, max_length=200, examples=[SPORT_PASS])
    description: str = Field(default="", max_length=500, examples=[SPORT_PASS_DESCRIPTION])
    price_cents: int = Field(gt=0, le=10**9, examples=[2500])
    purposes: list[str] = Field(
        min_length=1,
        description="Purposes of the coins it accepts (which residents may use for services)",
        examples=[["SPORT_CULTURE", "MUNICIPAL_SERVICES"]],
    )
    active: bool = Field(default=True, examples=[True])


class ServiceUpdate(Create):
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Sportpas 2027"])
    description: str | None = Field(default=None, max_length=500, examples=["Nu ook zwemmen."])
    price_cents: int | None = Field(default=None, gt=0, le=10**9, examples=[2750])
    purposes: list[str] | None = Field(default=None, min_length=1, examples=[["SPORT_CULTURE"]])
    active: bool | None = Field(default=None, examples=[False])


class ServicePublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=[SPORT_PASS])
    description: str = Field(examples=[SPORT_PASS_DESCRIPTION])
    price_cents: int = Field(examples=[2500])
    purposes: list[str] = Field(
        description="Coins of these purposes pay for it", examples=[["SPORT_CULTURE", "MUNICIPAL_SERVICES"]]
    )
    active: bool = Field(examples=[True])

    @classmethod
    def of(cls, service: Service) -> ServicePublic:
        return cls(
            id=service.id,
            name=service.name,
            description=service.description or "",
            price_cents=service.price_cents,
            purposes=purpose_names(service.purposes),
            active=service.active,
        )


class OrderCreate(SpendRequest):
    service_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    coin: str = Field(
        description="A coin whose purpose the service accepts: symbol or address", examples=["ASC"]
    )


class OrderPublic(BaseModel):
    id: int = Field(examples=[7])
    service_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    service_name: str = Field(examples=[SPORT_PASS])
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    coin: str = Field(examples=["0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"])
    amount_cents: int = Field(examples=[2500])
    status: str = Field(description="pending, paid or failed", examples=["paid"])
    chain_reference: str = Field(examples=["0x77ab" + "0" * 60])
    tx_hash: str | None = Field(examples=[PAID_TX_HASH])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])
    paid_at: datetime | None = Field(examples=[WHEN])
    error_code: str | None = Field(default=None, examples=[None])

    @classmethod
    def many(cls, session: Session, orders: list[Order]) -> list[Self]:
        """The orders with their services' names and failures, in two queries."""
        services = rows_by(session, Service, Service.id, (o.service_id for o in orders))
        errors = failure_codes(session, [o.outbox_key for o in orders if o.status == "failed"])
        return [
            cls(
                id=order.id,
                service_id=order.service_id,
                service_name=services[order.service_id].name,
                resident_id=order.resident_id,
                coin=order.coin,
                amount_cents=order.amount_cents,
                status=str(order.status),
                chain_reference=order.chain_reference,
                tx_hash=order.tx_hash,
                created_at=order.created_at,
                paid_at=order.confirmed_at,
                error_code=errors.get(order.outbox_key),
            )
            for order in orders
        ]

    @classmethod
    def of(cls, session: Session, order: Order) -> Self:
        return cls.many(session, [order])[0]
