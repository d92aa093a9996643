"""A resident pays: a till's request (its QR code's link, the in-page scanner or the typed code), a debt, a
municipal service, another resident.

Every spend goes through the one spend path (domain/spending.py) with the flows the API uses, and the same
throttle. Before the resident confirms, the page asks the domain what it would refuse (`spending.check`,
per coin the resident holds) and explains it in the domain's words; nothing is sent and no PIN attempt is
counted until the resident confirms. Each form carries a fresh idempotency key, so a double click or a
resend pays once. A wallet the municipality keeps is opened with the PIN; an own wallet signs the same
typed data in the browser (EIP-1193, static/js/pay-sign.js) and the form posts the signature.

Paying the municipality is ordering one of its services (a burn against the order's reference, which
returns the coins to the budget) or paying off a debt the municipality recorded: there is no third way.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ...api.deps import RuntimeDep, SessionDep
from ...api.throttle import hit, spend_limits
from ...chain.constants import BurnReason
from ...db.enums import DebtStatus, SpendStatus
from ...db.models import DebtCase, Merchant, Order, Payment, Resident, Service, Settlement, Spend, Transfer
from ...domain import chain_refusals, debts, payments, person_to_person, services, spending, till_requests
from ...domain.access import Principal
from ...domain.coins import CoinInfo, catalogue, purpose_en, purpose_nl
from ...domain.debts import SettlementFlow, SettlementRequest
from ...domain.errors import DomainError
from ...domain.payments import PaymentFlow, PaymentRequest
from ...domain.person_to_person import TransferFlow, TransferRequest
from ...domain.services import OrderFlow, OrderRequest
from ...domain.spending import CoinCheck, Holder, RowT, SignedAuthorization
from ...runtime import Runtime
from .. import pages
from ..i18n import Formats, parse_euro
from .wallet import render  # the wallet's pages: its layout (the app, offline) around ours

router = pages.page_router()

HUB = "/portemonnee/betalen"
UNREADABLE = "unreadable"  # an amount that is no amount: the template says so in the page's language
# A domain error's field, as the form names it.
FORM_FIELDS = {"pin": "pin", "amount_cents": "amount", "code": "code", "receive_code": "code", "coin": "coin"}


# --------------------------------------------------------------------------------------------------
# What every page of this part shares
# --------------------------------------------------------------------------------------------------


def _me(principal: Principal) -> int:
    """The signed-in resident's id (a resident's session always names one)."""
    assert principal.subject_id is not None
    return principal.subject_id


def _resident(session: Session, principal: Principal) -> Resident:
    return session.get_one(Resident, _me(principal))


async def _spend_throttle(
    request: Request, principal: pages.ResidentPage, session: SessionDep, runtime: RuntimeDep
) -> None:
    """The API's spend limits (per client address and per holder), counted together with the API's."""
    await run_in_threadpool(hit, session, spend_limits(runtime.settings, request, principal))


SPEND_THROTTLE = Depends(_spend_throttle)


def new_key() -> str:
    """A fresh idempotency key for a form: the same form sent twice spends once."""
    return secrets.token_urlsafe(18)


@dataclass
class Failure:
    """Why a form was not carried out: the domain's words, and the form field at fault (if any)."""

    text: str
    field: str | None = None
    status: int = 400

    @classmethod
    def of(cls, error: DomainError, language: str) -> Failure:
        return cls(pages.message(error, language), FORM_FIELDS.get(error.field or ""), error.status)

    def at(self, name: str) -> str | None:
        return self.text if self.field == name else None


@dataclass
class Offer:
    """What a spend would do in each coin the resident holds: the coins it would go through with, or why
    none (a refusal per coin; or `blocked`, a refusal that is not about the coin)."""

    checks: list[CoinCheck] = field(default_factory=list)
    blocked: str | None = None
    no_coins: bool = False

    @property
    def choices(self) -> list[CoinCheck]:
        """The coins it would go through with, the one to spend first first: the coin that can be spent in
        the fewest places (the smallest area), then the one that expires soonest."""
        found = [check for check in self.checks if check.refusal is None]
        return sorted(found, key=lambda c: (-len(c.coin.area), c.coin.expiry or 2**64, c.coin.symbol))

    @property
    def options(self) -> list[tuple[CoinInfo, int]]:
        """The coins it would go through with, and what may be spent of each now."""
        return [(check.coin, check.available or 0) for check in self.choices]

    def refusals(self, language: str) -> list[tuple[str, str]]:
        """(coin symbol, why) for each refused coin; a reason every coin shares (a frozen wallet) once."""
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        for check in self.checks:
            if check.refusal is not None:
                text = pages.message(check.refusal, language)
                if text not in seen:
                    seen.add(text)
                    found.append((check.coin.symbol, text))
        return found


def held_coins(session: Session, resident: Resident) -> list[CoinInfo]:
    """The coins the resident holds some of (from the index)."""
    return [
        view.coin for view in payments.balances(session, resident.wallet_address) if view.amount_cents > 0
    ]


def offer(
    session: Session,
    runtime: Runtime,
    resident: Resident,
    flow: spending.Flow[Any, Any],
    request_in: Callable[[CoinInfo], Any],
    key: str,
    language: str,
) -> Offer:
    """Asks the domain, for each coin the resident holds, whether this spend would go through
    (`spending.check_coins`: the flow's rules, the chain's transfer rule, the balance)."""
    held = held_coins(session, resident)
    if not held:
        return Offer(no_coins=True)
    try:
        requests = [(coin, request_in(coin)) for coin in held]
        return Offer(spending.check_coins(session, runtime.chain, flow, Holder.of(resident), requests, key))
    except DomainError as error:
        return Offer(blocked=pages.message(error, language))


def signed_from(form: dict[str, str]) -> SignedAuthorization | None:
    """What an own wallet signed, from the form's hidden fields (None when nothing was signed)."""
    if not form.get("signature"):
        return None
    try:
        return SignedAuthorization(
            int(form.get("valid_after") or 0),
            int(form.get("valid_before") or 0),
            form.get("nonce") or "",
            form["signature"],
        )
    except ValueError:
        return SignedAuthorization(0, 0, "", "")  # refused by the spend path as malformed


def spend_confirmed(
    session: Session,
    runtime: Runtime,
    flow: spending.Flow[Any, RowT],
    resident: Resident,
    wanted: Any,
    key: str,
    form: dict[str, str],
) -> RowT:
    """The spend a pay page's form confirms: with the PIN typed, or what an own wallet signed."""
    return spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        flow,
        Holder.of(resident),
        wanted,
        key,
        pin=form.get("pin") or None,
        signed=signed_from(form),
    )


def typed_data_answer(
    request: Request,
    session: Session,
    runtime: Runtime,
    flow: spending.Flow[Any, Any],
    resident: Resident,
    wanted: Callable[[], Any],
    key: str,
) -> JSONResponse:
    """What an own wallet signs for this spend (`spending.prepare`), as JSON for the page's script; a
    refusal (of `wanted`, which builds the request, or of the spend) as `{"error": text}` with its status."""
    try:
        prepared = spending.prepare(session, runtime.chain, flow, Holder.of(resident), wanted(), key)
    except DomainError as error:
        return JSONResponse(
            {"error": pages.message(error, pages.language_of(request))},
            status_code=error.status,
            headers=pages.SECURITY_HEADERS,
        )
    return JSONResponse(prepared, headers=pages.SECURITY_HEADERS)


def confirm_page(
    request: Request,
    template: str,
    resident: Resident,
    *,
    key: str,
    failure: Failure | None,
    chosen: str | None,
    status_code: int | None = None,
    **context: Any,
) -> Response:
    """A pay page with the form that confirms the spend: its idempotency key, the refusal shown (with its
    status unless the page names another), the coin chosen before, and how the resident confirms (PIN or
    own wallet)."""
    return render(
        request,
        template,
        status_code=status_code if status_code is not None else failure.status if failure else 200,
        key=key,
        failure=failure,
        chosen=chosen,
        custody=resident.wallet_custody,
        **context,
    )


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


# --------------------------------------------------------------------------------------------------
# The hub, the code form
# --------------------------------------------------------------------------------------------------


@router.get(HUB)
def hub(request: Request, principal: pages.ResidentPage, session: SessionDep) -> Response:
    resident = _resident(session, principal)
    code = person_to_person.receive_code(session, resident.id)
    recent = payments.payment_views(session, payments.list_payments(session, resident.id, limit=5))
    return render(request, "pay/hub.html", receive_code=person_to_person.shown(code), recent=recent)


@router.get(HUB + "/code")
def code_form(
    request: Request, principal: pages.ResidentPage, session: SessionDep, code: str | None = None
) -> Response:
    """Typing the short code under a till's QR code: its pay page, or the form again saying why not."""
    if code is None:
        return render(request, "pay/code.html", code="", error=None)
    try:
        found = till_requests.by_code(session, code)
    except DomainError as error:
        return render(
            request,
            "pay/code.html",
            status_code=error.status,
            code=code,
            error=pages.message(error, pages.language_of(request)),
        )
    return pages.redirect(request, f"/betalen/{found.code}")


# --------------------------------------------------------------------------------------------------
# A till's request: /betalen/{code} (the link in its QR code)
# --------------------------------------------------------------------------------------------------


def typed_amount(text: str | None, language: str) -> tuple[int | None, str | None]:
    """What the resident typed as an amount, in cents, or why it is no amount: the domain's words, or
    UNREADABLE (the template says it)."""
    typed = parse_euro(text)
    if typed is None:
        return None, UNREADABLE
    try:
        return till_requests.checked_amount(typed), None
    except DomainError as error:
        return None, pages.message(error, language)


def _till_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    resident: Resident,
    code: str,
    *,
    amount_text: str | None,
    key: str,
    failure: Failure | None = None,
    chosen: str | None = None,
) -> Response:
    """The pay page of a till's request: the merchant, the amount (typed, for the counter's standing
    request), the coin, and whatever the domain would refuse, before the resident confirms."""
    language = pages.language_of(request)
    till = till_requests.by_code(session, code)
    merchant = session.get_one(Merchant, till.merchant_id)
    amount, amount_error = till.amount_cents, None
    if amount is None and amount_text is not None:
        amount, amount_error = typed_amount(amount_text, language)
    found = None
    if amount is not None:
        reference = till_requests.payment_reference(till, key)
        flow = PaymentFlow(runtime.settings)
        cents_ = amount
        found = offer(
            session,
            runtime,
            resident,
            flow,
            lambda coin: PaymentRequest(merchant.id, coin.address, cents_, reference),
            key,
            language,
        )
    status = failure.status if failure else 422 if amount_error else 200
    return confirm_page(
        request,
        "pay/till.html",
        resident,
        key=key,
        failure=failure,
        chosen=chosen,
        status_code=status,
        till=till,
        merchant=merchant,
        amount=amount,
        amount_text=amount_text or "",
        amount_error=amount_error,
        offer=found,
    )


@router.get("/betalen/{code}")
def till_page(
    code: str,
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    bedrag: str | None = None,
) -> Response:
    resident = _resident(session, principal)
    return _till_page(request, session, runtime, resident, code, amount_text=bedrag, key=new_key())


@router.get("/betalen/{code}/ondertekenen")
def till_typed_data(
    code: str,
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    key: str = "",
    coin: str = "",
    bedrag: str = "",
) -> Response:
    """An own wallet's typed data for this request, as the API's /residents/me/payments/typed-data."""
    resident = _resident(session, principal)

    def wanted() -> PaymentRequest:
        till = till_requests.by_code(session, code)
        amount = till.amount_cents or parse_euro(bedrag) or 0
        return PaymentRequest(till.merchant_id, coin, amount, till_requests.payment_reference(till, key))

    flow = PaymentFlow(runtime.settings)
    return typed_data_answer(request, session, runtime, flow, resident, wanted, key)


@router.post("/betalen/{code}", dependencies=[SPEND_THROTTLE])
def pay_till(
    code: str,
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    form: FormFields,
) -> Response:
    resident = _resident(session, principal)
    till = till_requests.by_code(session, code)
    key, amount_text = form.get("key", ""), form.get("bedrag", "")
    amount = till.amount_cents
    if amount is None:  # the standing request's amount, typed on the page before
        amount, _error = typed_amount(amount_text, pages.language_of(request))
    if amount is None:
        return _till_page(request, session, runtime, resident, code, amount_text=amount_text, key=key)
    try:
        wanted = PaymentRequest(
            till.merchant_id, form.get("coin", ""), amount, till_requests.payment_reference(till, key)
        )
        payment = spend_confirmed(
            session, runtime, PaymentFlow(runtime.settings), resident, wanted, key, form
        )
    except DomainError as error:
        failure = Failure.of(error, pages.language_of(request))
        return _till_page(
            request,
            session,
            runtime,
            resident,
            code,
            amount_text=amount_text,
            key=key,
            failure=failure,
            chosen=form.get("coin"),
        )
    return pages.redirect(request, f"/portemonnee/betalingen/{payment.id}")


# --------------------------------------------------------------------------------------------------
# Where a spend stands: "Bezig…" until the chain confirms it, then done or why not
# --------------------------------------------------------------------------------------------------


def state_of(row: Spend) -> str:
    if row.status == SpendStatus.PENDING:
        return "pending"
    return "failed" if row.status == SpendStatus.FAILED else "done"


def reason_of(session: Session, row: Spend, language: str) -> str | None:
    """Why the chain refused a failed spend, in the page's language."""
    if row.status != SpendStatus.FAILED:
        return None
    code, detail = spending.failures(session, [row.outbox_key]).get(row.outbox_key, ("failed", None))
    nl, en = chain_refusals.explain(code, detail)
    return nl if language == "nl" else en


def status_answer(
    request: Request, session: Session, row: Spend, kind: str, as_json: bool, **details: Any
) -> Response:
    """A spend's status page, or (`as_json`) its status box for the page's script, which asks every second
    while the spend is on its way."""
    language = pages.language_of(request)
    box = {
        "state": state_of(row),
        "reason": reason_of(session, row, language),
        "kind": kind,
        "row": row,
        **details,
    }
    if not as_json:
        return render(request, "pay/status.html", status_url=request.url.path + "/status", **box)
    box_template = pages.environment(language).get_template("pay/status_box.html")
    html = box_template.render(fmt=Formats(language), language=language, **box)
    return JSONResponse({"state": box["state"], "html": html}, headers=pages.SECURITY_HEADERS)


@router.get("/portemonnee/betalingen/{payment_id}")
@router.get("/portemonnee/betalingen/{payment_id}/status")
def payment_status(
    payment_id: int, request: Request, principal: pages.ResidentPage, session: SessionDep
) -> Response:
    payment: Payment = payments.get_payment(session, _me(principal), payment_id)
    (view,) = payments.payment_views(session, [payment])
    return status_answer(
        request,
        session,
        payment,
        "payment",
        request.url.path.endswith("/status"),
        merchant=view.merchant_name,
        symbol=view.symbol,
    )


# --------------------------------------------------------------------------------------------------
# Debts
# --------------------------------------------------------------------------------------------------


@router.get("/portemonnee/schulden")
def debt_list(request: Request, principal: pages.ResidentPage, session: SessionDep) -> Response:
    cases = debts.list_cases(session, resident_id=_me(principal), limit=500)
    pending = debts.pending_cents_by_case(session, [case.id for case in cases])
    return render(request, "pay/debts.html", cases=cases, pending=pending)


def debt_coins(session: Session, runtime: Runtime, resident: Resident) -> list[CoinInfo]:
    """The coins the resident holds that may pay off debts (the registry's purpose rules)."""
    return [
        coin
        for coin in held_coins(session, resident)
        if spending.burn_allowed(runtime.chain, coin, BurnReason.DEBT_SETTLEMENT)
    ]


def _debt_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    resident: Resident,
    case: DebtCase,
    *,
    key: str,
    amount_text: str = "",
    failure: Failure | None = None,
    chosen: str | None = None,
) -> Response:
    balances = {
        view.coin.address: view.amount_cents for view in payments.balances(session, resident.wallet_address)
    }
    coins = debt_coins(session, runtime, resident) if case.status == DebtStatus.OPEN else []
    return confirm_page(
        request,
        "pay/debt.html",
        resident,
        key=key,
        failure=failure,
        chosen=chosen,
        case=case,
        pending=debts.pending_cents(session, case.id),
        coins=[(coin, balances.get(coin.address, 0)) for coin in coins],
        amount_text=amount_text,
    )


@router.get("/portemonnee/schulden/{case_id}")
def debt_page(
    case_id: int, request: Request, principal: pages.ResidentPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    resident = _resident(session, principal)
    case = debts.get_case(session, case_id, resident_id=resident.id)
    return _debt_page(request, session, runtime, resident, case, key=new_key())


@router.get("/portemonnee/schulden/{case_id}/ondertekenen")
def debt_typed_data(
    case_id: int,
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    key: str = "",
    coin: str = "",
    amount: str = "",
) -> Response:
    resident = _resident(session, principal)
    flow = SettlementFlow(runtime.settings, runtime.chain)
    return typed_data_answer(
        request,
        session,
        runtime,
        flow,
        resident,
        lambda: SettlementRequest(case_id, coin, parse_euro(amount) or 0),
        key,
    )


@router.post("/portemonnee/schulden/{case_id}", dependencies=[SPEND_THROTTLE])
def settle(
    case_id: int,
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    form: FormFields,
) -> Response:
    resident = _resident(session, principal)
    case = debts.get_case(session, case_id, resident_id=resident.id)
    key, amount_text, chosen = form.get("key", ""), form.get("amount", ""), form.get("coin")
    amount = parse_euro(amount_text)
    if not amount:
        failure = Failure(UNREADABLE, "amount", 422)
        return _debt_page(
            request,
            session,
            runtime,
            resident,
            case,
            key=key,
            amount_text=amount_text,
            failure=failure,
            chosen=chosen,
        )
    try:
        flow = SettlementFlow(runtime.settings, runtime.chain)
        wanted = SettlementRequest(case.id, form.get("coin", ""), amount)
        settlement = spend_confirmed(session, runtime, flow, resident, wanted, key, form)
    except DomainError as error:
        failure = Failure.of(error, pages.language_of(request))
        session.expire_all()
        case = debts.get_case(session, case_id, resident_id=resident.id)
        return _debt_page(
            request,
            session,
            runtime,
            resident,
            case,
            key=key,
            amount_text=amount_text,
            failure=failure,
            chosen=chosen,
        )
    return pages.redirect(request, f"/portemonnee/schulden/{case.id}/aflossingen/{settlement.id}")


@router.get("/portemonnee/schulden/{case_id}/aflossingen/{settlement_id}")
@router.get("/portemonnee/schulden/{case_id}/aflossingen/{settlement_id}/status")
def settlement_status(
    case_id: int, settlement_id: int, request: Request, principal: pages.ResidentPage, session: SessionDep
) -> Response:
    case = debts.get_case(session, case_id, resident_id=_me(principal))
    settlement = session.get(Settlement, settlement_id)
    if settlement is None or settlement.debt_case_id != case.id:
        raise HTTPException(404)
    symbol = catalogue(session).symbol(settlement.coin)
    return status_answer(
        request,
        session,
        settlement,
        "settlement",
        request.url.path.endswith("/status"),
        case=case,
        symbol=symbol,
    )


# --------------------------------------------------------------------------------------------------
# Municipal services
# --------------------------------------------------------------------------------------------------


@router.get("/portemonnee/diensten")
def service_list(request: Request, principal: pages.ResidentPage, session: SessionDep) -> Response:
    language = pages.language_of(request)
    words = purpose_nl if language == "nl" else purpose_en
    found = [
        (service, [words(bit) for bit in range(64) if service.purposes >> bit & 1])
        for service in services.list_services(session, active_only=True)
    ]
    orders = services.list_orders(session, resident_id=_me(principal), limit=10)
    names = {s.id: s.name for s in services.list_services(session)}
    return render(request, "pay/services.html", services=found, orders=orders, names=names)


def _service_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    resident: Resident,
    service: Service,
    *,
    key: str,
    failure: Failure | None = None,
    chosen: str | None = None,
) -> Response:
    language = pages.language_of(request)
    flow = OrderFlow(runtime.settings)
    found = offer(
        session, runtime, resident, flow, lambda coin: OrderRequest(service.id, coin.address), key, language
    )
    return confirm_page(
        request,
        "pay/service.html",
        resident,
        key=key,
        failure=failure,
        chosen=chosen,
        service=service,
        offer=found,
    )


@router.get("/portemonnee/diensten/{service_id}")
def service_page(
    service_id: int, request: Request, principal: pages.ResidentPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    resident = _resident(session, principal)
    service = services.get_service(session, service_id, active_only=True)
    return _service_page(request, session, runtime, resident, service, key=new_key())


@router.get("/portemonnee/diensten/{service_id}/ondertekenen")
def service_typed_data(
    service_id: int,
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    key: str = "",
    coin: str = "",
) -> Response:
    resident = _resident(session, principal)
    flow = OrderFlow(runtime.settings)
    return typed_data_answer(
        request, session, runtime, flow, resident, lambda: OrderRequest(service_id, coin), key
    )


@router.post("/portemonnee/diensten/{service_id}", dependencies=[SPEND_THROTTLE])
def order(
    service_id: int,
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    form: FormFields,
) -> Response:
    resident = _resident(session, principal)
    service = services.get_service(session, service_id, active_only=True)
    key = form.get("key", "")
    try:
        wanted = OrderRequest(service.id, form.get("coin", ""))
        placed = spend_confirmed(session, runtime, OrderFlow(runtime.settings), resident, wanted, key, form)
    except DomainError as error:
        failure = Failure.of(error, pages.language_of(request))
        return _service_page(
            request, session, runtime, resident, service, key=key, failure=failure, chosen=form.get("coin")
        )
    return pages.redirect(request, f"/portemonnee/diensten/bestellingen/{placed.id}")


@router.get("/portemonnee/diensten/bestellingen/{order_id}")
@router.get("/portemonnee/diensten/bestellingen/{order_id}/status")
def order_status(
    order_id: int, request: Request, principal: pages.ResidentPage, session: SessionDep
) -> Response:
    placed: Order = services.get_order(session, order_id, resident_id=_me(principal))
    service = session.get_one(Service, placed.service_id)
    symbol = catalogue(session).symbol(placed.coin)
    return status_answer(
        request,
        session,
        placed,
        "order",
        request.url.path.endswith("/status"),
        service=service.name,
        symbol=symbol,
    )


# --------------------------------------------------------------------------------------------------
# Another resident
# --------------------------------------------------------------------------------------------------


def _transfer_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    resident: Resident,
    *,
    code_text: str | None,
    amount_text: str | None,
    key: str,
    failure: Failure | None = None,
    chosen: str | None = None,
    change: bool = False,
) -> Response:
    """Paying another resident: step 1 the receiver's code and the amount; step 2 (both given) the coins the
    domain would go through with, or why none, and the PIN. `change`: step 1 again, filled in."""
    language = pages.language_of(request)
    amount, amount_error, code_error, found = None, None, None, None
    status = failure.status if failure else 200
    if (code_text is not None or amount_text is not None) and not change:
        amount, amount_error = typed_amount(amount_text, language)
        try:
            recipient_id = person_to_person.request_for(
                session, resident.id, code_text or "", "", 0
            ).recipient_id
        except DomainError as error:
            code_error, status = pages.message(error, language), error.status
        if amount_error:
            status = 422
        if amount is not None and code_error is None:
            cents_ = amount
            found = offer(
                session,
                runtime,
                resident,
                TransferFlow(runtime.settings),
                lambda coin: TransferRequest(recipient_id, coin.address, cents_),
                key,
                language,
            )
    sent_and_received = person_to_person.list_transfers(session, resident.id, limit=10)
    return confirm_page(
        request,
        "pay/transfer.html",
        resident,
        key=key,
        failure=failure,
        chosen=chosen,
        status_code=status,
        code_text=code_text or "",
        amount_text=amount_text or "",
        amount=amount,
        amount_error=amount_error,
        code_error=code_error,
        offer=found,
        own_code=person_to_person.shown(person_to_person.receive_code(session, resident.id)),
        transfers=person_to_person.transfer_views(session, resident.id, sent_and_received),
    )


@router.get("/portemonnee/overmaken")
def transfer_page(
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    code: str | None = None,
    bedrag: str | None = None,
    wijzig: str | None = None,
) -> Response:
    resident = _resident(session, principal)
    return _transfer_page(
        request,
        session,
        runtime,
        resident,
        code_text=code,
        amount_text=bedrag,
        key=new_key(),
        change=wijzig is not None,
    )


@router.get("/portemonnee/overmaken/ondertekenen")
def transfer_typed_data(
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    key: str = "",
    coin: str = "",
    code: str = "",
    bedrag: str = "",
) -> Response:
    resident = _resident(session, principal)
    return typed_data_answer(
        request,
        session,
        runtime,
        TransferFlow(runtime.settings),
        resident,
        lambda: person_to_person.request_for(session, resident.id, code, coin, parse_euro(bedrag) or 0),
        key,
    )


@router.post("/portemonnee/overmaken", dependencies=[SPEND_THROTTLE])
def transfer(
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    runtime: RuntimeDep,
    form: FormFields,
) -> Response:
    resident = _resident(session, principal)
    key, code, amount_text = form.get("key", ""), form.get("code", ""), form.get("bedrag", "")
    amount, _error = typed_amount(amount_text, pages.language_of(request))
    if amount is None:
        return _transfer_page(
            request, session, runtime, resident, code_text=code, amount_text=amount_text, key=key
        )
    try:
        wanted = person_to_person.request_for(session, resident.id, code, form.get("coin", ""), amount)
        sent = spend_confirmed(session, runtime, TransferFlow(runtime.settings), resident, wanted, key, form)
    except DomainError as error:
        failure = Failure.of(error, pages.language_of(request))
        return _transfer_page(
            request,
            session,
            runtime,
            resident,
            code_text=code,
            amount_text=amount_text,
            key=key,
            failure=failure,
            chosen=form.get("coin"),
        )
    return pages.redirect(request, f"/portemonnee/overmaken/{sent.id}")


@router.post("/portemonnee/overmaken/nieuwe-code")
def renew_code(request: Request, principal: pages.ResidentPage, session: SessionDep) -> Response:
    person_to_person.receive_code(session, _me(principal), renew=True)
    return pages.redirect(request, "/portemonnee/overmaken#ontvangen")


@router.get("/portemonnee/overmaken/{transfer_id}")
@router.get("/portemonnee/overmaken/{transfer_id}/status")
def transfer_status(
    transfer_id: int, request: Request, principal: pages.ResidentPage, session: SessionDep
) -> Response:
    sent: Transfer = person_to_person.get_transfer(session, _me(principal), transfer_id)
    if sent.resident_id != _me(principal):  # received: its status is the history's business
        return pages.redirect(request, "/portemonnee/overmaken")
    symbol = catalogue(session).symbol(sent.coin)
    return status_answer(
        request, session, sent, "transfer", request.url.path.endswith("/status"), symbol=symbol
    )
