"""Municipal services paid with coins: leges, a sport pass, an event. The municipality sets a price and
the purposes it accepts; a resident orders with a coin of one of those purposes, which is burned
(reason ServiceRedemption) against the order's reference; the order is paid when the burn is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..chain.constants import BurnReason, Purpose
from ..chain.gateway import Chain
from ..db.base import writing
from ..db.enums import Origin, SpendStatus
from ..db.models import Order, OutboxItem, Service
from ..formats import euro, euro_en
from .coins import PURPOSE_EN, PURPOSE_NL, catalogue, purpose_bits, purpose_names
from .errors import Conflict, InvalidInput, NotFound
from .notifications import notify
from .spending import Flow, Holder, Intent, Refused, derived_reference


def _purpose_bits(chain: Chain, names: list[str]) -> int:
    """Purposes a service accepts: known ones whose coins residents may redeem for services (P3). The
    registry is asked: call it before the write transaction."""
    bits = purpose_bits(names)
    for purpose in Purpose:
        if bits & (1 << purpose.value) and not chain.purpose_redemptions(purpose) & (
            1 << BurnReason.SERVICE_REDEMPTION
        ):
            raise InvalidInput(
                "purpose_not_for_services",
                f"Munten voor {PURPOSE_NL[purpose]} kunnen niet voor diensten gebruikt worden.",
                f"Coins for {PURPOSE_EN[purpose]} cannot be used for services.",
                field="purposes",
                purpose=purpose.name,
            )
    if not bits:
        raise InvalidInput(
            "purposes_empty",
            "Kies minstens één soort munt waarmee men kan betalen.",
            "Choose at least one purpose the service accepts.",
            field="purposes",
        )
    return bits


def _checked(name: str, price_cents: int) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput(
            "name_invalid",
            "Geef de dienst een naam (hoogstens 200 tekens).",
            "Give the service a name (at most 200 characters).",
            field="name",
        )
    if price_cents <= 0:
        raise InvalidInput(
            "price_invalid",
            "De prijs moet meer dan € 0,00 zijn.",
            "The price must be more than EUR 0.00.",
            field="price_cents",
        )
    return name


def _name_free(session: Session, name: str, service_id: int | None = None) -> None:
    other = session.scalar(select(Service).where(Service.name == name))
    if other is not None and other.id != service_id:
        raise Conflict(
            "service_exists",
            f"Er is al een dienst '{name}'.",
            f"A service '{name}' already exists.",
            field="name",
            service_id=other.id,
        )


def create_service(
    session: Session,
    chain: Chain,
    *,
    name: str,
    price_cents: int,
    purposes: list[str],
    description: str = "",
    active: bool = True,
) -> Service:
    """Offers a service. Asks the registry about the purposes first, then writes in a transaction of its
    own."""
    name = _checked(name, price_cents)
    bits = _purpose_bits(chain, purposes)
    with writing(session):
        _name_free(session, name)
        service = Service(
            name=name,
            description=(description or "").strip()[:500],
            price_cents=price_cents,
            purposes=bits,
            active=active,
        )
        session.add(service)
        session.flush()
    return service


def get_service(session: Session, service_id: int, *, active_only: bool = False) -> Service:
    service = session.get(Service, service_id)
    if service is None or (active_only and not service.active):
        raise NotFound(
            "service_not_found",
            f"Dienst {service_id} bestaat niet (meer).",
            f"Service {service_id} does not exist (any more).",
            field="service_id",
            id=service_id,
        )
    return service


def update_service(
    session: Session,
    chain: Chain,
    service_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    price_cents: int | None = None,
    purposes: list[str] | None = None,
    active: bool | None = None,
) -> Service:
    """Changes a service; orders already placed keep the price they were placed at. Asks the registry about
    new purposes first, then writes in a transaction of its own."""
    bits = None if purposes is None else _purpose_bits(chain, purposes)
    with writing(session):
        service = get_service(session, service_id)
        new_name = _checked(
            service.name if name is None else name,
            service.price_cents if price_cents is None else price_cents,
        )
        _name_free(session, new_name, service.id)
        service.name = new_name
        if price_cents is not None:
            service.price_cents = price_cents
        if description is not None:
            service.description = description.strip()[:500]
        if bits is not None:
            service.purposes = bits
        if active is not None:
            service.active = active
        session.flush()
    return service


def list_services(session: Session, *, active_only: bool = False) -> list[Service]:
    query = select(Service)
    if active_only:
        query = query.where(Service.active.is_(True))
    return list(session.scalars(query.order_by(Service.name)))


# --------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRequest:
    service_id: int
    coin: str


class OrderFlow(Flow[OrderRequest, Order]):
    """A resident pays a service at its current price: the price burned (reason ServiceRedemption) against
    the order's reference; the order is paid when the burn is confirmed."""

    origin = Origin.SERVICE_ORDER
    model = Order
    confirmed = SpendStatus.PAID

    def intent(self, session: Session, holder: Holder, request: OrderRequest, key: str) -> Intent:
        service = get_service(session, request.service_id, active_only=True)
        coin = catalogue(session).resolve(request.coin)
        if not service.purposes & (1 << coin.purpose):
            accepted = [PURPOSE_NL[Purpose[name]] for name in purpose_names(service.purposes)]
            accepted_en = [PURPOSE_EN[Purpose[name]] for name in purpose_names(service.purposes)]
            raise Refused(
                "coin_not_accepted_for_service",
                f"'{service.name}' kunt u niet met {coin.symbol} betalen. Dat kan met munten voor "
                f"{' of '.join(accepted)}.",
                f"'{service.name}' cannot be paid with {coin.symbol}; it takes coins for "
                f"{' or '.join(accepted_en)}.",
                field="coin",
                coin=coin.symbol,
            )
        reference = derived_reference(self.secret, self.origin.value, holder.id, key)
        return Intent(
            coin, holder.address, service.price_cents, reference, reason=BurnReason.SERVICE_REDEMPTION
        )

    def same_request(self, session: Session, earlier: Order, request: OrderRequest) -> bool:
        coin = catalogue(session).resolve(request.coin)
        return (earlier.service_id, earlier.coin) == (request.service_id, coin.address)

    def row(self, holder: Holder, intent: Intent, request: OrderRequest) -> Order:
        return Order(service_id=request.service_id, resident_id=holder.id, chain_reference=intent.reference)

    def confirmed_row(self, session: Session, row: Order) -> None:
        name = session.get_one(Service, row.service_id).name
        notify(
            session,
            row.resident_id,
            "order_paid",
            f"U heeft '{name}' betaald ({euro(row.amount_cents)}).",
            f"You paid for '{name}' ({euro_en(row.amount_cents)}).",
        )

    def failed_row(self, session: Session, row: Order, item: OutboxItem) -> None:
        name = session.get_one(Service, row.service_id).name
        notify(
            session,
            row.resident_id,
            "order_failed",
            f"Uw betaling voor '{name}' is niet gelukt. Er is niets van uw saldo afgegaan.",
            f"Your payment for '{name}' did not go through. Nothing was taken from your balance.",
        )


def list_orders(
    session: Session,
    *,
    resident_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Order]:
    query = select(Order)
    if resident_id is not None:
        query = query.where(Order.resident_id == resident_id)
    if status:
        query = query.where(Order.status == status)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit).offset(offset)))


def get_order(session: Session, order_id: int, *, resident_id: int | None = None) -> Order:
    order = session.get(Order, order_id)
    if order is None or (resident_id is not None and order.resident_id != resident_id):
        raise NotFound(
            "order_not_found",
            f"Bestelling {order_id} bestaat niet.",
            f"Order {order_id} does not exist.",
            field="order_id",
            id=order_id,
        )
    return order
