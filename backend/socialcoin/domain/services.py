"""Municipal services paid with coins: leges, a sport pass, an event. The municipality sets a price and
the purposes it accepts; a resident orders with a coin of one of those purposes, which is burned
(reason ServiceRedemption) against the order's reference; the order is paid when the burn is confirmed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..chain.constants import BurnReason, Purpose
from ..chain.gateway import Gateway
from ..db.models import Order, OutboxItem, Resident, Service
from ..db.types import utcnow
from .errors import Conflict, InvalidInput, NotFound
from .signing import (
    PURPOSE_EN,
    PURPOSE_NL,
    Holder,
    Intent,
    Refused,
    SignedAuthorization,
    derived_reference,
    earlier_request,
    euro,
    euro_en,
    notify,
    prepare,
    purpose_allows,
    relay,
    resolve_coin,
    tx_hash_of,
)

if TYPE_CHECKING:
    from ..runtime import Runtime

KEY_PREFIX = "service-order"


def purpose_names(bits: int) -> list[str]:
    return [p.name for p in Purpose if bits & (1 << p.value)]


def _purpose_bits(gateway: Gateway, names: list[str]) -> int:
    """Purposes a service accepts: known ones whose coins residents may redeem for services (P3)."""
    bits = 0
    for name in names:
        try:
            purpose = Purpose[name.strip().upper()]
        except KeyError:
            raise InvalidInput(
                "purpose_unknown",
                f"Doel '{name}' bestaat niet.",
                f"Purpose '{name}' does not exist.",
                field="purposes",
                known=[p.name for p in Purpose],
            ) from None
        if not purpose_allows(gateway, purpose, BurnReason.SERVICE_REDEMPTION):
            raise InvalidInput(
                "purpose_not_for_services",
                f"Munten voor {PURPOSE_NL[purpose]} kunnen niet voor diensten gebruikt worden.",
                f"Coins for {PURPOSE_EN[purpose]} cannot be used for services.",
                field="purposes",
                purpose=purpose.name,
            )
        bits |= 1 << purpose.value
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
    gateway: Gateway,
    *,
    name: str,
    price_cents: int,
    purposes: list[str],
    description: str = "",
    active: bool = True,
) -> Service:
    name = _checked(name, price_cents)
    _name_free(session, name)
    service = Service(
        name=name,
        description=(description or "").strip()[:500],
        price_cents=price_cents,
        purposes=_purpose_bits(gateway, purposes),
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
    gateway: Gateway,
    service_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    price_cents: int | None = None,
    purposes: list[str] | None = None,
    active: bool | None = None,
) -> Service:
    """Changes a service; orders already placed keep the price they were placed at."""
    service = get_service(session, service_id)
    new_name = _checked(
        service.name if name is None else name, service.price_cents if price_cents is None else price_cents
    )
    _name_free(session, new_name, service.id)
    service.name = new_name
    if price_cents is not None:
        service.price_cents = price_cents
    if description is not None:
        service.description = description.strip()[:500]
    if purposes is not None:
        service.purposes = _purpose_bits(gateway, purposes)
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


def _intent(
    runtime: Runtime, session: Session, resident: Resident, service: Service, coin_ref: str, key: str
) -> Intent:
    coin = resolve_coin(session, coin_ref)
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
    reference = derived_reference(
        runtime.settings.secret_key.get_secret_value(), KEY_PREFIX, resident.id, key
    )
    return Intent(
        coin=coin,
        sender=resident.wallet_address,
        value=service.price_cents,
        reference=reference,
        reason=BurnReason.SERVICE_REDEMPTION,
    )


def order_typed_data(
    runtime: Runtime, session: Session, resident: Resident, service_id: int, coin: str, key: str
) -> dict[str, Any]:
    """For an own wallet: what to sign to order the service (the reference follows from `key`)."""
    service = get_service(session, service_id, active_only=True)
    return prepare(
        runtime, session, Holder.of(resident), _intent(runtime, session, resident, service, coin, key)
    )


def place_order(
    runtime: Runtime,
    session: Session,
    resident: Resident,
    service_id: int,
    *,
    coin: str,
    key: str,
    pin: str | None = None,
    signed: SignedAuthorization | None = None,
) -> Order:
    """Orders a service at its current price. The same idempotency key returns the same order."""
    outbox_key = f"{KEY_PREFIX}:{resident.id}:{key}"
    existing = earlier_request(
        session,
        Order,
        outbox_key,
        lambda earlier: (
            (earlier.service_id, earlier.coin) == (service_id, resolve_coin(session, coin).address)
        ),
    )
    if existing is not None:
        return existing
    service = get_service(session, service_id, active_only=True)
    intent = _intent(runtime, session, resident, service, coin, key)
    relay(runtime, session, Holder.of(resident), intent, outbox_key, pin=pin, signed=signed)
    order = Order(
        service_id=service.id,
        resident_id=resident.id,
        coin=intent.coin.address,
        amount_cents=service.price_cents,
        chain_reference=intent.reference,
        status="pending",
        outbox_key=outbox_key,
    )
    session.add(order)
    session.flush()
    return order


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


def on_burn_finished(session: Session, item: OutboxItem) -> None:
    order = session.scalar(select(Order).where(Order.outbox_key == item.idempotency_key))
    if order is None or order.status != "pending":
        return
    service = session.get(Service, order.service_id)
    if item.status == "failed":
        order.status = "failed"
        notify(
            session,
            order.resident_id,
            "order_failed",
            f"Uw betaling voor '{service.name}' is niet gelukt. Er is niets van uw saldo afgegaan.",
            f"Your payment for '{service.name}' did not go through. Nothing was taken from your balance.",
        )
        return
    order.status = "paid"
    order.tx_hash = tx_hash_of(session, item)
    order.paid_at = utcnow()
    notify(
        session,
        order.resident_id,
        "order_paid",
        f"U heeft '{service.name}' betaald ({euro(order.amount_cents)}).",
        f"You paid for '{service.name}' ({euro_en(order.amount_cents)}).",
    )
