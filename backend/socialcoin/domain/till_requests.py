"""What a till asks to be paid: a payment request behind a short code, which the till shows as a QR code
(an https link to the wallet's pay page) and as text to type. A request with an amount is paid once, under
its own payment reference; the standing request on the counter has no amount and is paid any number of
times, each payment under a reference of its own.

The rule "a request is paid once" reads and then writes: the payment flow checks it inside its write
transaction, under a lock on the request (`check_locked`), so two residents who pay the same request at
the same moment cannot both pay it. Withdrawing a request (`cancel`) takes the same lock: a request is
either withdrawn before anyone pays it, or paid and no longer withdrawn.

A till waits for its request to be paid: every write transaction that writes or ends a payment to a
merchant names the merchant's till (`topic`) as changed, and the tills of that merchant that wait in this
process are woken when it commits (wakeups.py).

The till also shows the day's payments (`payments_since`), each with what its refunds took back, and the
coins a merchant can receive (`accepted_coins`): those the coin's transfer rule lets it receive.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..areas import is_within
from ..db.base import lock
from ..db.enums import SpendStatus
from ..db.models import Merchant, Payment, Refund, TillRequest
from ..db.types import utcnow
from ..wakeups import after_commit
from .coins import CoinInfo, catalogue
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
        raise _unknown_code()
    return found


def merchants_request(session: Session, merchant_id: int, code: str) -> TillRequest:
    """One of this merchant's requests by its code (another merchant's is unknown here)."""
    found = by_code(session, code)
    if found.merchant_id != merchant_id:
        raise _unknown_code()
    return found


def _unknown_code() -> NotFound:
    return NotFound(
        "till_request_not_found",
        "Deze betaalcode kennen we niet. Kijk of u de code goed heeft overgenomen, of vraag de winkel om "
        "een nieuwe.",
        "We do not know this payment code. Check that you typed it correctly, or ask the shop for a new one.",
        field="code",
    )


def link(public_url: str, code: str) -> str:
    """What the QR code holds: the wallet's pay page for this request (a phone's camera opens it)."""
    return f"{public_url.rstrip('/')}/betalen/{code}"


def topic(merchant_id: int) -> str:
    """The name under which a merchant's tills are woken (wakeups.py)."""
    return f"till:{merchant_id}"


def payment_changed(session: Session, merchant_id: int) -> None:
    """A payment to this merchant was written or ended in this transaction: its tills look again when it
    commits."""
    after_commit(session, topic(merchant_id))


def cancel(session: Session, request: TillRequest) -> None:
    """Withdraws a request with an amount (in the caller's write transaction), unless it is paid or being
    paid; under the request's lock, as a payment checks it."""
    if request.amount_cents is None:
        raise Conflict(
            "till_request_standing",
            "De vaste QR-code van de toonbank kunt u niet intrekken.",
            "The standing QR code of the counter cannot be withdrawn.",
            field="code",
        )
    lock(session, "till_request", request.id)
    session.refresh(request)  # as it is now that no payment of it is being written
    current = state(session, request)
    if current.status in ("paid", "pending"):
        raise Conflict(
            "till_request_paid",
            "Dit betaalverzoek is al betaald, of de betaling is onderweg. Intrekken kan niet meer.",
            "This payment request has been paid, or its payment is on its way. It can no longer be "
            "withdrawn.",
            field="code",
        )
    if request.cancelled_at is None:
        request.cancelled_at = utcnow()
        after_commit(session, topic(request.merchant_id))


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


def _refuse_unless_open(session: Session, request: TillRequest, amount_cents: int) -> None:
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


def _request_of(session: Session, merchant_id: int, reference: str) -> TillRequest | None:
    return session.scalar(
        select(TillRequest).where(TillRequest.merchant_id == merchant_id, TillRequest.reference == reference)
    )


def check_open(session: Session, merchant_id: int, reference: str | None, amount_cents: int) -> None:
    """`check_locked`'s refusals without the lock: what the payment flow says before anything is signed or
    a PIN is tried (a request already paid or withdrawn, another amount). The rule itself holds under the
    lock."""
    if not reference or not reference.startswith(REFERENCE_PREFIX):
        return
    request = _request_of(session, merchant_id, reference)
    if request is not None and request.amount_cents is not None:
        _refuse_unless_open(session, request, amount_cents)


def check_locked(session: Session, merchant_id: int, reference: str | None, amount_cents: int) -> None:
    """A payment under a request's reference pays that request: the request is the merchant's, open (not
    cancelled, not paid nor being paid) and asks this amount. Called by the payment flow in its write
    transaction; the lock makes a second payer wait for the first one's row, then see it."""
    if not reference or not reference.startswith(REFERENCE_PREFIX):
        return
    request = _request_of(session, merchant_id, reference)
    payment_changed(session, merchant_id)
    if request is None or request.amount_cents is None:
        return
    lock(session, "till_request", request.id)
    session.refresh(request)  # a withdrawal committed while we waited for the lock is seen
    _refuse_unless_open(session, request, amount_cents)


def payment_reference(request: TillRequest, key: str) -> str:
    """The reference a payment of this request goes under: the request's own for a request with an amount
    (paid once); for the standing request, one of each payment's own, fixed by the payment's idempotency
    key (so that a resend is the same payment) and never naming the payer."""
    if request.amount_cents is not None:
        return request.reference
    digest = hashlib.sha256(f"{request.reference}|{key}".encode()).digest()
    suffix = "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:6])
    return f"{request.reference}-{suffix}"


# --------------------------------------------------------------------------------------------------
# What the till shows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    """A request as a till (or an API client) shows it: where to pay, what, with which coins, and how far
    it is."""

    request: TillRequest
    merchant_name: str
    link: str
    coins: list[CoinInfo]
    state: RequestState


def describe(
    session: Session, request: TillRequest, merchant: Merchant, public_url: str, now: int
) -> RequestView:
    return RequestView(
        request=request,
        merchant_name=merchant.name,
        link=link(public_url, request.code),
        coins=accepted_coins(session, merchant, now),
        state=state(session, request),
    )


def accepted_coins(session: Session, merchant: Merchant, now: int) -> list[CoinInfo]:
    """The coins the merchant can receive at `now` (unix time): the coin's transfer rule lets a merchant
    receive a coin whose purpose it accepts and whose area it lies within, until the coin expires."""
    return [
        coin
        for coin in catalogue(session)
        if merchant.purposes >> coin.purpose & 1 and is_within(merchant.area, coin.area) and coin.live(now)
    ]


@dataclass(frozen=True)
class TillPayment:
    """A payment to the merchant as its till shows it: what came in, and what its refunds took back
    (confirmed or on their way)."""

    id: int
    status: str  # pending | confirmed
    amount_cents: int
    refunded_cents: int
    coin: str
    symbol: str
    reference: str | None
    tx_hash: str | None
    created_at: datetime

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents if self.status == SpendStatus.CONFIRMED else 0


# Refunds that count against a payment: done, or on their way (as refunds.py counts them).
_REFUNDS_COUNTED = (SpendStatus.PENDING, SpendStatus.CONFIRMED)


def _till_payments(session: Session, payments: list[Payment]) -> list[TillPayment]:
    refunded = dict(
        session.execute(
            select(Refund.payment_id, func.sum(Refund.amount_cents))
            .where(Refund.payment_id.in_([p.id for p in payments]), Refund.status.in_(_REFUNDS_COUNTED))
            .group_by(Refund.payment_id)
        ).all()
        if payments
        else []
    )
    coins = catalogue(session) if payments else None
    return [
        TillPayment(
            id=p.id,
            status=str(p.status),
            amount_cents=p.amount_cents,
            refunded_cents=int(refunded.get(p.id) or 0),
            coin=p.coin,
            symbol=coins.symbol(p.coin) if coins else "",
            reference=p.reference,
            tx_hash=p.tx_hash,
            created_at=p.created_at,
        )
        for p in payments
    ]


def payments_since(
    session: Session, merchant_id: int, since: datetime, *, limit: int = 500
) -> list[TillPayment]:
    """The merchant's payments made since `since`, confirmed or on their way, newest first."""
    found = session.scalars(
        select(Payment)
        .where(
            Payment.merchant_id == merchant_id,
            Payment.created_at >= since,
            Payment.status.in_((SpendStatus.PENDING, SpendStatus.CONFIRMED)),
        )
        .order_by(Payment.id.desc())
        .limit(limit)
    ).all()
    return _till_payments(session, list(found))


def merchants_payment(session: Session, merchant_id: int, payment_id: int) -> TillPayment:
    """One payment to this merchant (any other is unknown here)."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.merchant_id != merchant_id:
        raise NotFound(
            "payment_not_found",
            "Deze betaling aan u bestaat niet. Kies een betaling uit uw lijst.",
            "This payment to you does not exist. Choose a payment from your list.",
            field="payment_id",
        )
    return _till_payments(session, [payment])[0]
