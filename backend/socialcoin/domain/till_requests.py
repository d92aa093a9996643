"""What a till asks to be paid: a payment request behind a short code, which the till shows as a QR code
(an https link to the wallet's pay page) and as text to type. A request with an amount is paid once, under
its own payment reference; the standing request on the counter has no amount and is paid any number of
times, each payment under a reference of its own.

The rule "a request is paid once" reads and then writes: the payment flow checks it inside its write
transaction, under a lock on the request (`check_locked`), so two residents who pay the same request at
the same moment cannot both pay it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.base import lock
from ..db.enums import SpendStatus
from ..db.models import Merchant, Payment, TillRequest
from ..db.types import utcnow
from .errors import Conflict, InvalidInput, NotFound

# Letters and digits that cannot be mistaken for one another when typed from a screen (no 0/O, 1/I/L).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
REFERENCE_PREFIX = "SC-"
# The largest amount a till may ask at once (the same bound as a payment's amount field).
MAX_AMOUNT_CENTS = 1_000_000_00


def normalised_code(text: str) -> str:
    """What a resident typed ("abc 234", "ABC-234") as the code it names."""
    return re.sub(r"[\s-]", "", text or "").upper()


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(TillRequest.id).where(TillRequest.code == code)) is None:
            return code


def checked_amount(amount_cents: int | None) -> int | None:
    if amount_cents is None:
        return None
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise InvalidInput(
            "amount_invalid",
            "Het bedrag moet meer dan € 0,00 zijn en hoogstens € 1.000.000,00.",
            "The amount must be more than EUR 0.00 and at most EUR 1,000,000.00.",
            field="amount_cents",
        )
    return amount_cents


def create(session: Session, merchant: Merchant, amount_cents: int | None) -> TillRequest:
    """A new request of this merchant (in the caller's write transaction). No amount: a standing request
    for the counter, where the resident types the amount."""
    code = _new_code(session)
    request = TillRequest(
        code=code,
        merchant_id=merchant.id,
        amount_cents=checked_amount(amount_cents),
        reference=REFERENCE_PREFIX + code,
    )
    session.add(request)
    session.flush()
    return request


def standing(session: Session, merchant: Merchant) -> TillRequest:
    """The merchant's standing request (the printable QR code on the counter), made the first time."""
    found = session.scalar(
        select(TillRequest)
        .where(TillRequest.merchant_id == merchant.id, TillRequest.amount_cents.is_(None))
        .order_by(TillRequest.id)
        .limit(1)
    )
    return found if found is not None else create(session, merchant, None)


def by_code(session: Session, code: str) -> TillRequest:
    found = session.scalar(select(TillRequest).where(TillRequest.code == normalised_code(code)))
    if found is None:
        raise NotFound(
            "till_request_not_found",
            "Deze betaalcode kennen we niet. Kijk of u de code goed heeft overgenomen, of vraag de winkel om "
            "een nieuwe.",
            "We do not know this payment code. Check that you typed it correctly, or ask the shop for a "
            "new one.",
            field="code",
        )
    return found


def cancel(session: Session, request: TillRequest) -> None:
    if request.cancelled_at is None:
        request.cancelled_at = utcnow()


@dataclass(frozen=True)
class RequestState:
    status: str  # open | pending | paid | failed | cancelled
    payment: Payment | None


def payment_of(session: Session, request: TillRequest) -> Payment | None:
    """The payment made for a request with an amount: the one on its way or confirmed, else the last that
    failed (None for a standing request: its payments have references of their own)."""
    if request.amount_cents is None:
        return None
    return session.scalar(
        select(Payment)
        .where(Payment.merchant_id == request.merchant_id, Payment.reference == request.reference)
        .order_by((Payment.status == SpendStatus.FAILED).asc(), Payment.id.desc())
        .limit(1)
    )


def state(session: Session, request: TillRequest) -> RequestState:
    payment = payment_of(session, request)
    if payment is not None and payment.status != SpendStatus.FAILED:
        return RequestState("paid" if payment.status == SpendStatus.CONFIRMED else "pending", payment)
    if request.cancelled_at is not None:
        return RequestState("cancelled", payment)
    return RequestState("failed" if payment is not None else "open", payment)


def check_locked(session: Session, merchant_id: int, reference: str | None, amount_cents: int) -> None:
    """A payment under a request's reference pays that request: the request is the merchant's, open (not
    cancelled, not paid nor being paid) and asks this amount. Called by the payment flow in its write
    transaction; the lock makes a second payer wait for the first one's row, then see it."""
    if not reference or not reference.startswith(REFERENCE_PREFIX):
        return
    request = session.scalar(
        select(TillRequest).where(TillRequest.merchant_id == merchant_id, TillRequest.reference == reference)
    )
    if request is None or request.amount_cents is None:
        return
    lock(session, "till_request", request.id)
    current = state(session, request)
    if current.status in ("paid", "pending"):
        raise Conflict(
            "till_request_paid",
            "Dit betaalverzoek is al betaald. Vraag de winkel om een nieuw verzoek als u nog iets wilt "
            "betalen.",
            "This payment request has been paid already. Ask the shop for a new request if you want to pay "
            "for something else.",
            field="code",
        )
    if current.status == "cancelled":
        raise Conflict(
            "till_request_cancelled",
            "De winkel heeft dit betaalverzoek ingetrokken. Vraag om een nieuw verzoek.",
            "The shop withdrew this payment request. Ask for a new one.",
            field="code",
        )
    if amount_cents != request.amount_cents:
        raise InvalidInput(
            "till_request_amount",
            "Het bedrag is niet wat de winkel vraagt.",
            "The amount is not what the shop asks.",
            field="amount_cents",
            asked_cents=request.amount_cents,
        )
