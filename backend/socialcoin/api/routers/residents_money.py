"""A resident's money: balances per coin and history; paying a merchant; paying off a debt; paying a
municipal service; paying another resident. Every route reads the resident from the token.

Paying takes one of two forms:
- a wallet the municipality keeps: send the request with the PIN; the service signs;
- an own wallet: GET the `.../typed-data` route with the same fields and the same `Idempotency-Key`,
  sign the `typed_data` with the wallet (EIP-712, `eth_signTypedData_v4`), and POST the request with
  `authorization` (the window, the nonce and the signature).

Every POST that moves coins needs an `Idempotency-Key` header: the same key sends the payment once,
however often the request is repeated. Refusals are explained before anything is signed or sent.
"""

from __future__ import annotations

from fastapi import APIRouter

from ...domain import debts, payments, person_to_person, services, spending
from ...domain.debts import SettlementFlow, SettlementRequest
from ...domain.payments import PaymentFlow, PaymentRequest
from ...domain.person_to_person import TransferFlow
from ...domain.services import OrderFlow, OrderRequest
from ...domain.spending import Holder
from ..deps import CurrentResident, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.common import TOO_MANY, HistoryLimit, IdempotencyKey
from ..schemas.debts import CaseId, DebtCasePublic, SettlementCreate, SettlementPublic
from ..schemas.payments import (
    BalanceOut,
    BeforeId,
    HistoryEntryOut,
    MerchantQuery,
    PaymentCreate,
    PaymentId,
    PaymentPublic,
    ReferenceQuery,
)
from ..schemas.services import OrderCreate, OrderId, OrderPublic, ServicePublic, ServiceQuery
from ..schemas.spending import AmountQuery, CoinQuery, TypedDataOut
from ..schemas.transfers import ReceiveCodeOut, ReceiveCodeQuery, TransferCreate, TransferId, TransferPublic
from ..throttle import SPEND_THROTTLE

router = APIRouter(prefix="/residents/me", tags=["residents"], responses=PROBLEM_RESPONSES)


@router.get("/balances", response_model=list[BalanceOut], summary="My balance per coin")
async def my_balances(resident: CurrentResident, session: SessionDep) -> list[BalanceOut]:
    return [BalanceOut.of(v, resident=True) for v in payments.balances(session, resident.wallet_address)]


@router.get(
    "/history", response_model=list[HistoryEntryOut], summary="What came in and went out, newest first"
)
async def my_history(
    resident: CurrentResident,
    session: SessionDep,
    limit: HistoryLimit = 50,
    before_id: BeforeId = None,
) -> list[HistoryEntryOut]:
    return [
        HistoryEntryOut.of(e)
        for e in payments.history(
            session, resident.wallet_address, viewer="resident", limit=limit, before_id=before_id
        )
    ]


@router.get(
    "/payments/typed-data", response_model=TypedDataOut, summary="Own wallet: what to sign to pay a merchant"
)
def payment_typed_data(
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
    merchant_id: MerchantQuery,
    coin: CoinQuery,
    amount_cents: AmountQuery,
    reference: ReferenceQuery = None,
) -> TypedDataOut:
    request = PaymentRequest(merchant_id, coin, amount_cents, reference)
    flow = PaymentFlow(runtime.settings)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(resident), request, key))


@router.post(
    "/payments",
    response_model=PaymentPublic,
    status_code=202,
    responses=TOO_MANY,
    dependencies=[SPEND_THROTTLE],
    summary="Pay a merchant",
    description="Checks the coin's rules and the balance, signs (PIN) or checks the signature (own "
    "wallet), and queues the payment for the relayer. `status` becomes `confirmed` once "
    "it is on chain.",
)
def pay(
    body: PaymentCreate,
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
) -> PaymentPublic:
    request = PaymentRequest(body.merchant_id, body.coin, body.amount_cents, body.reference)
    payment = spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        PaymentFlow(runtime.settings),
        Holder.of(resident),
        request,
        key,
        pin=body.pin,
        signed=body.signed(),
    )
    return PaymentPublic.of(session, payment)


@router.get("/payments", response_model=list[PaymentPublic], summary="My payments, newest first")
def my_payments(
    resident: CurrentResident, session: SessionDep, limit: HistoryLimit = 50
) -> list[PaymentPublic]:
    return PaymentPublic.many(session, payments.list_payments(session, resident.id, limit=limit))


@router.get("/payments/{payment_id}", response_model=PaymentPublic, summary="One of my payments")
def my_payment(payment_id: PaymentId, resident: CurrentResident, session: SessionDep) -> PaymentPublic:
    return PaymentPublic.of(session, payments.get_payment(session, resident.id, payment_id))


@router.get("/debts", response_model=list[DebtCasePublic], summary="My debts and what I paid off")
def my_debts(resident: CurrentResident, session: SessionDep) -> list[DebtCasePublic]:
    cases = debts.list_cases(session, resident_id=resident.id, limit=500)
    return DebtCasePublic.many(session, cases, with_settlements=True)


@router.get(
    "/debts/{case_id}/settlements/typed-data",
    response_model=TypedDataOut,
    summary="Own wallet: what to sign to pay off (part of) a debt",
)
def settlement_typed_data(
    case_id: CaseId,
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
    coin: CoinQuery,
    amount_cents: AmountQuery,
) -> TypedDataOut:
    flow = SettlementFlow(runtime.settings, runtime.chain)
    request = SettlementRequest(case_id, coin, amount_cents)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(resident), request, key))


@router.post(
    "/debts/{case_id}/settlements",
    response_model=SettlementPublic,
    status_code=202,
    responses=TOO_MANY,
    dependencies=[SPEND_THROTTLE],
    summary="Pay off part or all of a debt",
    description="Burns coins meant for paying off debts against the debt's reference. The debt goes "
    "down when the burn is confirmed; paying more than is still open (counting what is on its way) is "
    "refused.",
)
def settle(
    case_id: CaseId,
    body: SettlementCreate,
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
) -> SettlementPublic:
    settlement = spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        SettlementFlow(runtime.settings, runtime.chain),
        Holder.of(resident),
        SettlementRequest(case_id, body.coin, body.amount_cents),
        key,
        pin=body.pin,
        signed=body.signed(),
    )
    return SettlementPublic.of(session, settlement)


@router.get(
    "/services",
    response_model=list[ServicePublic],
    summary="Services of the municipality I can pay with coins",
)
def available_services(resident: CurrentResident, session: SessionDep) -> list[ServicePublic]:
    return [ServicePublic.of(s) for s in services.list_services(session, active_only=True)]


@router.get(
    "/orders/typed-data", response_model=TypedDataOut, summary="Own wallet: what to sign to pay a service"
)
def order_typed_data(
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
    service_id: ServiceQuery,
    coin: CoinQuery,
) -> TypedDataOut:
    flow = OrderFlow(runtime.settings)
    request = OrderRequest(service_id, coin)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(resident), request, key))


@router.post(
    "/orders",
    response_model=OrderPublic,
    status_code=202,
    responses=TOO_MANY,
    dependencies=[SPEND_THROTTLE],
    summary="Pay a municipal service",
    description="Burns the service's price in a coin whose purpose the service accepts, against the "
    "order's reference. The order is paid when the burn is confirmed.",
)
def place_order(
    body: OrderCreate,
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
) -> OrderPublic:
    order = spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        OrderFlow(runtime.settings),
        Holder.of(resident),
        OrderRequest(body.service_id, body.coin),
        key,
        pin=body.pin,
        signed=body.signed(),
    )
    return OrderPublic.of(session, order)


@router.get("/orders", response_model=list[OrderPublic], summary="My orders, newest first")
def my_orders(resident: CurrentResident, session: SessionDep) -> list[OrderPublic]:
    return OrderPublic.many(session, services.list_orders(session, resident_id=resident.id))


@router.get("/orders/{order_id}", response_model=OrderPublic, summary="One of my orders")
def my_order(order_id: OrderId, resident: CurrentResident, session: SessionDep) -> OrderPublic:
    return OrderPublic.of(session, services.get_order(session, order_id, resident_id=resident.id))


# --------------------------------------------------------------------------------------------------
# Paying another resident (person to person), named by the receiver's receive code
# --------------------------------------------------------------------------------------------------


@router.get(
    "/receive-code", response_model=ReceiveCodeOut, summary="My receive code, to be paid by residents"
)
def my_receive_code(resident: CurrentResident, session: SessionDep) -> ReceiveCodeOut:
    return ReceiveCodeOut(code=person_to_person.shown(person_to_person.receive_code(session, resident.id)))


@router.post(
    "/receive-code",
    response_model=ReceiveCodeOut,
    summary="A new receive code",
    description="Replaces my receive code: the old one no longer names me.",
)
def renew_receive_code(resident: CurrentResident, session: WriteSessionDep) -> ReceiveCodeOut:
    code = person_to_person.receive_code(session, resident.id, renew=True)
    return ReceiveCodeOut(code=person_to_person.shown(code))


@router.get(
    "/transfers/typed-data",
    response_model=TypedDataOut,
    summary="Own wallet: what to sign to pay another resident",
)
def transfer_typed_data(
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
    receive_code: ReceiveCodeQuery,
    coin: CoinQuery,
    amount_cents: AmountQuery,
) -> TypedDataOut:
    request = person_to_person.request_for(session, resident.id, receive_code, coin, amount_cents)
    flow = TransferFlow(runtime.settings)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(resident), request, key))


@router.post(
    "/transfers",
    response_model=TransferPublic,
    status_code=202,
    responses=TOO_MANY,
    dependencies=[SPEND_THROTTLE],
    summary="Pay another resident",
    description="Pays the resident whose receive code is given, with a coin that allows payments between "
    "residents, within its area and the receiver's holding cap. Refusals are explained before anything is "
    "sent; `status` becomes `confirmed` once it is on chain. Nothing about the receiver is shown.",
)
def transfer(
    body: TransferCreate,
    resident: CurrentResident,
    session: SessionDep,
    runtime: RuntimeDep,
    key: IdempotencyKey,
) -> TransferPublic:
    request = person_to_person.request_for(
        session, resident.id, body.receive_code, body.coin, body.amount_cents
    )
    sent = spending.spend(
        session,
        runtime.chain,
        runtime.settings,
        TransferFlow(runtime.settings),
        Holder.of(resident),
        request,
        key,
        pin=body.pin,
        signed=body.signed(),
    )
    return TransferPublic.of(session, resident.id, sent)


@router.get(
    "/transfers",
    response_model=list[TransferPublic],
    summary="What I paid other residents and received from them, newest first",
)
def my_transfers(
    resident: CurrentResident, session: SessionDep, limit: HistoryLimit = 50
) -> list[TransferPublic]:
    found = person_to_person.list_transfers(session, resident.id, limit=limit)
    return TransferPublic.many(session, resident.id, found)


@router.get("/transfers/{transfer_id}", response_model=TransferPublic, summary="One of my transfers")
def my_transfer(transfer_id: TransferId, resident: CurrentResident, session: SessionDep) -> TransferPublic:
    found = person_to_person.get_transfer(session, resident.id, transfer_id)
    return TransferPublic.of(session, resident.id, found)
