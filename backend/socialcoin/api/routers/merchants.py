"""A merchant's money: balances, payments arriving (a till polls with the last id it saw), history,
refunds of payments, and payouts in euros (the coins are burned, the municipality transfers the euros in
its next SEPA batch); a till's payment requests (a code and link to show as a QR code, paid once);
changing the PIN of a wallet the municipality keeps. Every route reads the merchant from the token."""

from __future__ import annotations

import time

from fastapi import APIRouter
from sqlalchemy.orm import Session

from ...db.models import Merchant, TillRequest
from ...domain import payments, payouts, people, refunds, spending, till_requests
from ...domain.payouts import PayoutFlow, PayoutRequest
from ...domain.refunds import RefundFlow
from ...domain.spending import Holder
from ...runtime import Runtime
from ..deps import CurrentMerchant, MerchantUser, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.auth import PinChange
from ..schemas.common import TOO_MANY, HistoryLimit, IdempotencyKey, Limit
from ..schemas.payments import AfterId, BalanceOut, BeforeId, HistoryEntryOut
from ..schemas.payouts import MyPayoutStatusFilter, PayoutAmountQuery, PayoutCreate, PayoutPublic
from ..schemas.refunds import PaymentTxHashQuery, RefundCreate, RefundPublic
from ..schemas.spending import CoinQuery, TypedDataOut
from ..schemas.till_requests import TillRequestCode, TillRequestCreate, TillRequestPublic
from ..throttle import SPEND_THROTTLE

router = APIRouter(prefix="/merchants/me", tags=["merchants"], responses=PROBLEM_RESPONSES)


@router.get("/balances", response_model=list[BalanceOut], summary="My balance per coin")
def my_balances(merchant: CurrentMerchant, session: SessionDep) -> list[BalanceOut]:
    return [BalanceOut.of(v) for v in payments.balances(session, merchant.wallet_address)]


@router.get(
    "/payments",
    response_model=list[HistoryEntryOut],
    summary="Payments that arrived, oldest first",
    description="For the till: poll with `after_id` set to the last id seen to get only new payments.",
)
def incoming_payments(
    merchant: CurrentMerchant,
    session: SessionDep,
    after_id: AfterId = None,
    limit: Limit = 100,
) -> list[HistoryEntryOut]:
    found = payments.incoming_payments(session, merchant.wallet_address, after_id=after_id, limit=limit)
    return [HistoryEntryOut.of(e) for e in found]


@router.get("/history", response_model=list[HistoryEntryOut], summary="Everything in and out, newest first")
def my_history(
    merchant: CurrentMerchant,
    session: SessionDep,
    limit: HistoryLimit = 50,
    before_id: BeforeId = None,
) -> list[HistoryEntryOut]:
    return [
        HistoryEntryOut.of(e)
        for e in payments.history(
            session, merchant.wallet_address, viewer="merchant", limit=limit, before_id=before_id
        )
    ]


@router.get(
    "/payouts/typed-data", response_model=TypedDataOut, summary="Own wallet: what to sign for a payout"
)
def payout_typed_data(
    merchant: CurrentMerchant,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
    coin: CoinQuery,
    amount_cents: PayoutAmountQuery,
) -> TypedDataOut:
    flow, request = PayoutFlow(runtime.settings), PayoutRequest(coin, amount_cents)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(merchant), request, key))


@router.post(
    "/payouts",
    response_model=PayoutPublic,
    status_code=202,
    responses=TOO_MANY,
    dependencies=[SPEND_THROTTLE],
    summary="Redeem coins for euros",
    description="Burns the coins against the payout's reference. Once confirmed (`burned`), the amount "
    "goes into the municipality's next SEPA credit-transfer batch to the merchant's IBAN.",
)
def request_payout(
    body: PayoutCreate,
    merchant: CurrentMerchant,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
) -> PayoutPublic:
    payout = spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        PayoutFlow(runtime.settings),
        Holder.of(merchant),
        PayoutRequest(body.coin, body.amount_cents),
        key,
        pin=body.pin,
        signed=body.signed(),
    )
    return PayoutPublic.of(session, payout)


@router.get(
    "/refunds/typed-data", response_model=TypedDataOut, summary="Own wallet: what to sign for a refund"
)
def refund_typed_data(
    merchant: CurrentMerchant,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
    payment_tx_hash: PaymentTxHashQuery,
    amount_cents: PayoutAmountQuery,
) -> TypedDataOut:
    request = refunds.request_for(session, payment_tx_hash, amount_cents)
    flow = RefundFlow(runtime.settings)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(merchant), request, key))


@router.post(
    "/refunds",
    response_model=RefundPublic,
    status_code=202,
    responses=TOO_MANY,
    dependencies=[SPEND_THROTTLE],
    summary="Give all or part of a payment back to the resident who paid",
    description="Against the payment's reference: never more than was paid, less what was refunded or is "
    "on its way. Also with coins residents may not pay each other with.",
)
def refund_payment(
    body: RefundCreate,
    merchant: CurrentMerchant,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
) -> RefundPublic:
    request = refunds.request_for(session, body.payment_tx_hash, body.amount_cents)
    refund = spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        RefundFlow(runtime.settings),
        Holder.of(merchant),
        request,
        key,
        pin=body.pin,
        signed=body.signed(),
    )
    return RefundPublic.of(session, refund)


@router.get("/refunds", response_model=list[RefundPublic], summary="My refunds, newest first")
def my_refunds(merchant: CurrentMerchant, session: SessionDep, limit: Limit = 100) -> list[RefundPublic]:
    return RefundPublic.many(session, refunds.list_refunds(session, merchant.id, limit=limit))


@router.get("/payouts", response_model=list[PayoutPublic], summary="My payouts, newest first")
def my_payouts(
    merchant: CurrentMerchant, session: SessionDep, status: MyPayoutStatusFilter = None
) -> list[PayoutPublic]:
    return PayoutPublic.many(session, payouts.list_payouts(session, merchant_id=merchant.id, status=status))


@router.post(
    "/pin",
    status_code=204,
    responses=TOO_MANY,
    summary="Change my PIN",
    description="For a wallet the municipality keeps: needs the current PIN (counted like any PIN: after "
    "too many wrong ones in a row it is locked for a while, 429), and the wallet is encrypted again under "
    "the new PIN. The tokens of the tills stay valid. An own wallet has no PIN here (409 "
    "no_custodial_wallet).",
)
def change_pin(body: PinChange, principal: MerchantUser, session: SessionDep, runtime: RuntimeDep) -> None:
    people.change_pin(session, runtime.settings, principal, body.current_pin, body.new_pin)


def _till_request(
    session: Session, runtime: Runtime, merchant: Merchant, request: TillRequest
) -> TillRequestPublic:
    view = till_requests.describe(session, request, merchant, runtime.settings.public_url, int(time.time()))
    return TillRequestPublic.of(view)


@router.post(
    "/till-requests",
    response_model=TillRequestPublic,
    status_code=201,
    summary="Ask to be paid an amount (a till's payment request)",
    description="A short code and a link to the wallet's pay page, to show as a QR code. A resident pays it "
    "once, exactly this amount, with a payment that carries the request's `reference` "
    "(POST /residents/me/payments); a second payment of it is refused (409 `till_request_paid`). Follow "
    "it with GET /merchants/me/till-requests/{code}.",
)
def create_till_request(
    body: TillRequestCreate, merchant: CurrentMerchant, session: WriteSessionDep, runtime: RuntimeDep
) -> TillRequestPublic:
    request = till_requests.create(session, merchant, body.amount_cents)
    return _till_request(session, runtime, merchant, request)


@router.get(
    "/till-requests/standing",
    response_model=TillRequestPublic,
    summary="The standing request for the counter (made the first time)",
    description="A printed QR code on the counter: the resident types the amount, and it is paid any number "
    "of times; it stays `open`.",
)
def standing_till_request(
    merchant: CurrentMerchant, session: WriteSessionDep, runtime: RuntimeDep
) -> TillRequestPublic:
    request = till_requests.standing(session, merchant)
    return _till_request(session, runtime, merchant, request)


@router.get(
    "/till-requests/{code}",
    response_model=TillRequestPublic,
    summary="A payment request and how far it is (open, pending, paid, failed, cancelled)",
)
def get_till_request(
    code: TillRequestCode, merchant: CurrentMerchant, session: SessionDep, runtime: RuntimeDep
) -> TillRequestPublic:
    request = till_requests.merchants_request(session, merchant.id, code)
    return _till_request(session, runtime, merchant, request)


@router.post(
    "/till-requests/{code}/cancel",
    response_model=TillRequestPublic,
    summary="Withdraw a payment request",
    description="A payment of it is refused from then on (409 `till_request_cancelled`). A request that is "
    "paid, or whose payment is on its way, cannot be withdrawn (409 `till_request_paid`); nor can the "
    "standing one (409 `till_request_standing`).",
)
def cancel_till_request(
    code: TillRequestCode, merchant: CurrentMerchant, session: WriteSessionDep, runtime: RuntimeDep
) -> TillRequestPublic:
    request = till_requests.merchants_request(session, merchant.id, code)
    till_requests.cancel(session, request)
    return _till_request(session, runtime, merchant, request)
