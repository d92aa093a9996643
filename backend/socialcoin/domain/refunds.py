"""A merchant gives all or part of a resident's payment back: the merchant's signed refund (its key kept
by the service, opened with its PIN, or its own wallet's signature), relayed as refundWithAuthorization
against the payment's chain reference. The coin never lets the refunds under a reference exceed what was
paid under it; the service refuses that before anything is signed, counting the refunds on their way
too, under the merchant's wallet lock (every refund of a payment is its merchant's).

    pending -> confirmed;  pending -> failed (nothing moved)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.enums import Origin, SpendStatus
from ..db.models import Merchant, Payment, Refund, Resident
from ..formats import euro, euro_en
from .coins import catalogue
from .errors import Conflict, NotFound
from .notifications import notify
from .spending import Flow, Holder, Intent

# Refunds that count against a payment: done, or on their way.
COUNTED = (SpendStatus.PENDING, SpendStatus.CONFIRMED)


@dataclass(frozen=True)
class RefundRequest:
    payment_id: int
    amount_cents: int


def refunded_cents(session: Session, payment_id: int) -> int:
    """What the refunds of a payment take back, confirmed or on their way."""
    total = session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.payment_id == payment_id, Refund.status.in_(COUNTED)
        )
    )
    return int(total or 0)


def request_for(session: Session, payment_tx_hash: str, amount_cents: int) -> RefundRequest:
    """A refund of the payment in the transaction `payment_tx_hash` (as the till saw it arrive); the flow
    checks that it is a confirmed payment to this merchant."""
    payment_id = session.scalar(select(Payment.id).where(Payment.tx_hash == payment_tx_hash.lower()))
    if payment_id is None:
        raise _payment_not_found()
    return RefundRequest(payment_id, amount_cents)


def _merchants_payment(session: Session, merchant_id: int, payment_id: int | None) -> Payment:
    """The confirmed payment `payment_id` to this merchant."""
    payment = session.get(Payment, payment_id) if payment_id is not None else None
    if payment is None or payment.merchant_id != merchant_id or payment.status != SpendStatus.CONFIRMED:
        raise _payment_not_found()
    return payment


def _payment_not_found() -> NotFound:
    return NotFound(
        "payment_not_found",
        "Er is geen bevestigde betaling aan u in deze transactie. Kies een betaling uit uw lijst van "
        "ontvangen betalingen.",
        "There is no confirmed payment to you in this transaction. Choose a payment from your list of "
        "payments received.",
        field="payment_tx_hash",
    )


def _refund_too_large(payment: Payment, refunded: int, wanted: int) -> Conflict:
    left = payment.amount_cents - refunded
    return Conflict(
        "refund_exceeds_payment",
        f"Van deze betaling kunt u nog {euro(left)} terugbetalen, niet {euro(wanted)}.",
        f"You can refund {euro_en(left)} more of this payment, not {euro_en(wanted)}.",
        field="amount_cents",
        refundable_cents=left,
    )


def list_refunds(session: Session, merchant_id: int, *, limit: int = 100) -> list[Refund]:
    return list(
        session.scalars(
            select(Refund).where(Refund.merchant_id == merchant_id).order_by(Refund.id.desc()).limit(limit)
        )
    )


class RefundFlow(Flow[RefundRequest, Refund]):
    origin = Origin.REFUND
    model = Refund
    confirmed = SpendStatus.CONFIRMED

    def intent(self, session: Session, holder: Holder, request: RefundRequest, key: str) -> Intent:
        payment = _merchants_payment(session, holder.id, request.payment_id)
        refunded = refunded_cents(session, payment.id)
        if request.amount_cents > payment.amount_cents - refunded:
            raise _refund_too_large(payment, refunded, request.amount_cents)
        coin = catalogue(session).resolve(payment.coin)
        payer = session.scalar(select(Resident.wallet_address).where(Resident.id == payment.resident_id))
        return Intent(
            coin, holder.address, request.amount_cents, payment.chain_reference, to=payer, refund=True
        )

    def same_request(self, session: Session, earlier: Refund, request: RefundRequest) -> bool:
        return (earlier.payment_id, earlier.amount_cents) == (request.payment_id, request.amount_cents)

    def check_locked(self, session: Session, intent: Intent, request: RefundRequest) -> None:
        # Under the merchant's wallet lock: a refund of the same payment asked meanwhile is counted now.
        payment = session.get(Payment, request.payment_id)  # checked by `intent`; a payment's amount stays
        assert payment is not None
        refunded = refunded_cents(session, payment.id)
        if intent.value > payment.amount_cents - refunded:
            raise _refund_too_large(payment, refunded, intent.value)

    def row(self, holder: Holder, intent: Intent, request: RefundRequest) -> Refund:
        return Refund(payment_id=request.payment_id, merchant_id=holder.id)

    def confirmed_row(self, session: Session, row: Refund) -> None:
        name = session.scalar(select(Merchant.name).where(Merchant.id == row.merchant_id))
        payment = session.get(Payment, row.payment_id)
        assert payment is not None  # a refund's payment is never deleted
        notify(
            session,
            payment.resident_id,
            "payment_refunded",
            f"{name or 'Een winkel'} heeft u {euro(row.amount_cents)} teruggegeven.",
            f"{name or 'A merchant'} gave you back {euro_en(row.amount_cents)}.",
        )
