"""A merchant's till (tablet): payment requests with a QR code, paid live (Server-Sent Events), today's
payments, refunds, payouts, the standing QR code for the counter.

- `/kassa`: type an amount, and the till shows a payment request (`/kassa/verzoek/{code}`): a QR code
  holding the wallet's pay page for it, the code to type, the amount and the coins the shop can receive.
  The request's page follows it over `/kassa/verzoek/{code}/events`: a stream of its state (open, pending,
  paid, failed, cancelled), sent the moment a payment of it is written or ends in this process (the
  runtime's wake-ups), and looked up every second otherwise (a payment that ended in another process).
- Refunds and payouts go the one spend path with the merchant's PIN, as POST /merchants/me/refunds and
  /merchants/me/payouts do, under the same rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import datetime
from datetime import time as day_time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import segno
from fastapi import Form, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...api.deps import RuntimeDep, SessionDep
from ...api.throttle import hit, spend_limits
from ...db.base import writing
from ...db.enums import SpendStatus
from ...db.models import Merchant, TillRequest
from ...domain import payments, payouts, spending, till_requests
from ...domain.access import Principal
from ...domain.coins import catalogue
from ...domain.errors import DomainError, NotFound
from ...domain.payouts import PayoutFlow, PayoutRequest
from ...domain.refunds import RefundFlow, RefundRequest
from ...domain.spending import Holder
from ...runtime import Runtime
from .. import pages
from ..i18n import TIME_ZONE, Formats, parse_euro

router = pages.page_router()

# A stream ends after this long and the browser opens it again (EventSource does so by itself): no stream
# outlives a shutdown by more, and the sign-in is checked again.
STREAM_SECONDS = 300.0
# How often a stream looks at the database itself: a payment that ended in another process is seen
# within this (one in this process wakes it at once).
LOOK_SECONDS = 1.0
# A comment line now and then keeps proxies from closing a quiet stream.
KEEP_ALIVE_SECONDS = 15.0
# What a browser waits before opening a stream again that ended.
RETRY_MILLISECONDS = 500
FINAL = ("paid", "cancelled")
WAITING = ("open", "pending", "failed")


# --------------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------------


def _merchant(session: Session, principal: Principal) -> Merchant:
    merchant = session.get(Merchant, principal.subject_id) if principal.subject_id is not None else None
    if merchant is None:
        raise NotFound("merchant_not_found", "Deze ondernemer bestaat niet.", "This merchant does not exist.")
    return merchant


def _new_key() -> str:
    """An idempotency key for a form: a double click or a form sent again spends once."""
    return secrets.token_urlsafe(18)


def _qr(link: str) -> str:
    """The QR code of `link` as an SVG data URL (made here: no script, no request of its own)."""
    return str(segno.make_qr(link, error="m").svg_data_uri(scale=8, border=4))


def _spaced(code: str) -> str:
    """A code as it is easiest to read out and type: in groups of three."""
    return " ".join(code[i : i + 3] for i in range(0, len(code), 3))


def _start_of_today() -> datetime:
    zone = ZoneInfo(TIME_ZONE)
    return datetime.combine(datetime.now(zone).date(), day_time(0), tzinfo=zone)


def _throttled(session: Session, request: Request, runtime: Runtime, principal: Principal) -> None:
    """The spend routes' rate limits (api/throttle.py), counted with the API's for the same merchant."""
    hit(session, spend_limits(runtime.settings, request, principal))


def _field_of(error: DomainError, fields: dict[str, str]) -> str | None:
    """The form field a domain refusal names (its API field, translated to the form's)."""
    return fields.get(error.field or "")


# The template's own text for a form sent without an amount (or with one that is not an amount, or 0).
AMOUNT_MISSING = "amount_missing"
# What the page after a form says was done (?klaar=...).
DONE_NOTICES = ("ingetrokken", "terugbetaald", "uitbetaling")


def _done(value: str | None) -> str | None:
    return value if value in DONE_NOTICES else None


# --------------------------------------------------------------------------------------------------
# The till: an amount, and today's payments
# --------------------------------------------------------------------------------------------------


def _till_page(
    request: Request,
    session: Session,
    merchant: Merchant,
    *,
    status_code: int = 200,
    amount: str = "",
    error: str | None = None,
    done: str | None = None,
) -> Response:
    today = till_requests.payments_since(session, merchant.id, _start_of_today())
    confirmed = [p for p in today if p.status == SpendStatus.CONFIRMED]
    return pages.render(
        request,
        "till/index.html",
        status_code=status_code,
        merchant=merchant,
        amount=amount,
        error=error,
        done=done,
        payments=today,
        total=sum(p.amount_cents for p in confirmed),
        refunded=sum(p.refunded_cents for p in confirmed),
    )


@router.get("/kassa")
def till(
    request: Request, principal: pages.MerchantPage, session: SessionDep, klaar: str | None = None
) -> Response:
    return _till_page(request, session, _merchant(session, principal), done=_done(klaar))


@router.post("/kassa")
def ask_payment(
    request: Request,
    principal: pages.MerchantPage,
    session: SessionDep,
    amount: Annotated[str, Form()] = "",
) -> Response:
    merchant = _merchant(session, principal)
    cents = parse_euro(amount)
    if not cents:
        return _till_page(request, session, merchant, status_code=422, amount=amount, error=AMOUNT_MISSING)
    try:
        with writing(session):
            till_request = till_requests.create(session, merchant, cents)
            code = till_request.code
    except DomainError as refusal:
        return _till_page(
            request,
            session,
            merchant,
            status_code=refusal.status,
            amount=amount,
            error=pages.message(refusal, pages.language_of(request)),
        )
    return pages.redirect(request, f"/kassa/verzoek/{code}")


# --------------------------------------------------------------------------------------------------
# A payment request: its QR code, followed live
# --------------------------------------------------------------------------------------------------


def _request_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    merchant: Merchant,
    till_request: TillRequest,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    view = till_requests.describe(
        session, till_request, merchant, runtime.settings.public_url, int(time.time())
    )
    return pages.render(
        request,
        "till/request.html",
        status_code=status_code,
        view=view,
        code=till_request.code,
        spaced_code=_spaced(till_request.code),
        status=view.state.status,
        qr=_qr(view.link),
        error=error,
    )


@router.get("/kassa/verzoek/{code}")
def payment_request(
    code: str, request: Request, principal: pages.MerchantPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    merchant = _merchant(session, principal)
    till_request = till_requests.merchants_request(session, merchant.id, code)
    return _request_page(request, session, runtime, merchant, till_request)


@router.post("/kassa/verzoek/{code}/intrekken")
def withdraw_request(
    code: str, request: Request, principal: pages.MerchantPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    merchant = _merchant(session, principal)
    try:
        with writing(session):
            till_request = till_requests.merchants_request(session, merchant.id, code)
            till_requests.cancel(session, till_request)
    except DomainError as refusal:
        till_request = till_requests.merchants_request(session, merchant.id, code)
        message = pages.message(refusal, pages.language_of(request))
        return _request_page(
            request, session, runtime, merchant, till_request, status_code=refusal.status, error=message
        )
    return pages.redirect(request, "/kassa?klaar=ingetrokken")


def _read_status(runtime: Runtime, request_id: int) -> str:
    with runtime.sessions() as session:
        till_request = session.get_one(TillRequest, request_id)
        return till_requests.state(session, till_request).status


async def _status(request: Request, runtime: Runtime, request_id: int) -> str:
    """The request's state, read in a worker thread with one of the database slots (api/deps.py)."""
    slots: asyncio.Semaphore = request.app.state.database_slots
    async with slots:
        return await run_in_threadpool(_read_status, runtime, request_id)


def _event(status: str) -> str:
    return f"event: state\ndata: {json.dumps({'status': status})}\n\n"


async def _states(
    request: Request, runtime: Runtime, merchant_id: int, request_id: int
) -> AsyncIterator[str]:
    """The request's state now, and again each time it changes, until it is paid or withdrawn."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_SECONDS
    quiet_since = loop.time()
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    with runtime.wakeups.subscribe(till_requests.topic(merchant_id)) as woken:
        last = None
        while True:
            woken.clear()  # before reading: a change committed while we read wakes us again
            status = await _status(request, runtime, request_id)
            if status != last:
                last, quiet_since = status, loop.time()
                yield _event(status)
            if status in FINAL or loop.time() >= ends or await request.is_disconnected():
                return
            if loop.time() - quiet_since >= KEEP_ALIVE_SECONDS:
                quiet_since = loop.time()
                yield ": still waiting\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), LOOK_SECONDS)


@router.get("/kassa/verzoek/{code}/events")
async def payment_request_events(
    code: str, request: Request, principal: pages.MerchantPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Server-Sent Events: `state` events with {"status": ...} (the session and its database slot are let
    go before the stream starts: it reads with slots of its own, briefly)."""
    till_request = till_requests.merchants_request(session, principal.subject_id or 0, code)
    stream = _states(request, runtime, till_request.merchant_id, till_request.id)
    response = StreamingResponse(stream, media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})
    return pages.with_page_headers(request, response)


# --------------------------------------------------------------------------------------------------
# Refunds
# --------------------------------------------------------------------------------------------------

REFUND_FIELDS = {"amount_cents": "amount", "pin": "pin"}


def _refund_page(
    request: Request,
    merchant: Merchant,
    payment: till_requests.TillPayment,
    *,
    status_code: int = 200,
    amount: str | None = None,
    key: str | None = None,
    error: str | None = None,
    error_field: str | None = None,
) -> Response:
    return pages.render(
        request,
        "till/refund.html",
        status_code=status_code,
        merchant=merchant,
        payment=payment,
        amount=amount if amount is not None else _typed_amount(request, payment.refundable_cents),
        key=key or _new_key(),
        error=error,
        error_field=error_field,
    )


@router.get("/kassa/betalingen/{payment_id}/terugbetalen")
def refund_form(
    payment_id: int, request: Request, principal: pages.MerchantPage, session: SessionDep
) -> Response:
    merchant = _merchant(session, principal)
    payment = till_requests.merchants_payment(session, merchant.id, payment_id)
    return _refund_page(request, merchant, payment)


@router.post("/kassa/betalingen/{payment_id}/terugbetalen")
def refund(
    payment_id: int,
    request: Request,
    principal: pages.MerchantPage,
    session: SessionDep,
    runtime: RuntimeDep,
    amount: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
) -> Response:
    merchant = _merchant(session, principal)
    payment = till_requests.merchants_payment(session, merchant.id, payment_id)

    def again(status_code: int, error: str, error_field: str | None) -> Response:
        return _refund_page(
            request,
            merchant,
            till_requests.merchants_payment(session, merchant.id, payment_id),
            status_code=status_code,
            amount=amount,
            key=key,
            error=error,
            error_field=error_field,
        )

    cents = parse_euro(amount)
    if not cents:
        return again(422, AMOUNT_MISSING, "amount")
    try:
        _throttled(session, request, runtime, principal)
        spending.spend(
            session,
            runtime.chain,
            runtime.settings,
            RefundFlow(runtime.settings),
            Holder.of(merchant),
            RefundRequest(payment.id, cents),
            key,
            pin=pin,
        )
    except DomainError as refusal:
        message = pages.message(refusal, pages.language_of(request))
        return again(refusal.status, message, _field_of(refusal, REFUND_FIELDS))
    return pages.redirect(request, "/kassa?klaar=terugbetaald")


# --------------------------------------------------------------------------------------------------
# Payouts in euros
# --------------------------------------------------------------------------------------------------

PAYOUT_FIELDS = {"amount_cents": "amount", "pin": "pin", "coin": "coin"}


def _payouts_page(
    request: Request,
    session: Session,
    merchant: Merchant,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    done: str | None = None,
) -> Response:
    balances = [b for b in payments.balances(session, merchant.wallet_address) if b.amount_cents > 0]
    available = {b.coin.address: max(0, b.amount_cents - b.pending_out_cents) for b in balances}
    first = balances[0].coin.address if balances else ""
    values: dict[str, Any] = form or {
        "coin": first,
        "amount": _typed_amount(request, available.get(first, 0)),
        "key": _new_key(),
    }
    return pages.render(
        request,
        "till/payouts.html",
        status_code=status_code,
        merchant=merchant,
        balances=balances,
        available=available,
        payouts=payouts.list_payouts(session, merchant_id=merchant.id, limit=50),
        coins=catalogue(session),
        form=values,
        error=error,
        error_field=error_field,
        done=done,
    )


def _typed_amount(request: Request, cents: int) -> str:
    """An amount as a form shows it to be typed over ("12,50"); empty for nothing."""
    return Formats(pages.language_of(request)).euro_number(cents) if cents > 0 else ""


@router.get("/kassa/uitbetalen")
def payouts_page(
    request: Request, principal: pages.MerchantPage, session: SessionDep, klaar: str | None = None
) -> Response:
    return _payouts_page(request, session, _merchant(session, principal), done=_done(klaar))


@router.post("/kassa/uitbetalen")
def request_payout(
    request: Request,
    principal: pages.MerchantPage,
    session: SessionDep,
    runtime: RuntimeDep,
    coin: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
) -> Response:
    merchant = _merchant(session, principal)
    form = {"coin": coin, "amount": amount, "key": key}

    def again(status_code: int, error: str, error_field: str | None) -> Response:
        return _payouts_page(
            request,
            session,
            merchant,
            status_code=status_code,
            form=form,
            error=error,
            error_field=error_field,
        )

    cents = parse_euro(amount)
    if not cents:
        return again(422, AMOUNT_MISSING, "amount")
    try:
        _throttled(session, request, runtime, principal)
        spending.spend(
            session,
            runtime.chain,
            runtime.settings,
            PayoutFlow(runtime.settings),
            Holder.of(merchant),
            PayoutRequest(coin, cents),
            key,
            pin=pin,
        )
    except DomainError as refusal:
        message = pages.message(refusal, pages.language_of(request))
        return again(refusal.status, message, _field_of(refusal, PAYOUT_FIELDS))
    return pages.redirect(request, "/kassa/uitbetalen?klaar=uitbetaling")


# --------------------------------------------------------------------------------------------------
# The standing QR code for the counter
# --------------------------------------------------------------------------------------------------


@router.get("/kassa/qr-afdrukken")
def print_standing_qr(
    request: Request, principal: pages.MerchantPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    merchant = _merchant(session, principal)
    with writing(session):
        standing = till_requests.standing(session, merchant)
        code = standing.code
    link = till_requests.link(runtime.settings.public_url, code)
    return pages.render(
        request,
        "till/print.html",
        merchant=merchant,
        code=code,
        spaced_code=_spaced(code),
        link=link,
        qr=_qr(link),
        coins=till_requests.accepted_coins(session, merchant, int(time.time())),
    )
