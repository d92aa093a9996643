"""A resident's money: balances per coin and history; paying a merchant; paying off a debt; paying a
municipal service. Every route reads the resident from the token.

Paying takes one of two forms:
- a wallet the municipality keeps: send the request with the PIN; the service signs;
- an own wallet: GET the `.../typed-data` route with the same fields and the same `Idempotency-Key`,
  sign the `typed_data` with the wallet (EIP-712, `eth_signTypedData_v4`), and POST the request with
  `authorization` (the window, the nonce and the signature).

Every POST that moves coins needs an `Idempotency-Key` header: the same key sends the payment once,
however often the request is repeated. Refusals are explained before anything is signed or sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db.models import DebtCase, Order, Service, Settlement
from ...domain import debts, payments, services, spending
from ...domain.coins import purpose_names
from ...domain.debts import SettlementFlow, SettlementRequest
from ...domain.payments import PaymentFlow, PaymentRequest
from ...domain.services import OrderFlow, OrderRequest
from ...domain.spending import Holder, SignedAuthorization, failure_codes
from ..deps import MAX_ID, CurrentResident, RuntimeDep, SessionDep
from ..problems import PROBLEM, PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/residents/me", tags=["residents"], responses=PROBLEM_RESPONSES)

TOO_MANY = {429: {"model": Problem, "content": {PROBLEM: {}}, "description": "Too many wrong PINs: wait"}}

# --------------------------------------------------------------------------------------------------
# Shared pieces (merchants.py and municipality_money.py use them too)
# --------------------------------------------------------------------------------------------------

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        description="Chosen by the client once per intended payment (a UUID will do). Repeating a request "
        "with the same key returns the first answer and never pays twice; an own wallet uses the same "
        "key to fetch the typed data and to post the signature.",
        examples=["3f1c9a1e-7b7e-4f7a-9d55-0a4b5f1e2c77"],
    ),
]

COIN = Field(description="The coin: its symbol or its address", examples=["GKW"])
PIN = Field(
    default=None,
    min_length=5,
    max_length=8,
    pattern=r"^\d+$",
    description="For a wallet the municipality keeps: the PIN",
    examples=["24680"],
)


class AuthorizationIn(BaseModel):
    """What an own wallet signed: the window and nonce from the typed data, and the signature."""

    model_config = ConfigDict(extra="forbid")

    valid_after: int = Field(ge=0, description="Unix time, from the typed data", examples=[0])
    valid_before: int = Field(gt=0, description="Unix time, from the typed data", examples=[1795000000])
    nonce: str = Field(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="bytes32, from the typed data",
        examples=["0x" + "0" * 63 + "7"],
    )
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130}$", description="65 bytes r ‖ s ‖ v, hex", examples=["0x" + "ab" * 65]
    )

    def signed(self) -> SignedAuthorization:
        return SignedAuthorization(self.valid_after, self.valid_before, self.nonce, self.signature)


def signed_of(authorization: AuthorizationIn | None) -> SignedAuthorization | None:
    return None if authorization is None else authorization.signed()


class SpendRequest(BaseModel):
    """A request that spends a holder's coins: with the PIN of a wallet the municipality keeps, or with
    what an own wallet signed."""

    model_config = ConfigDict(extra="forbid")

    pin: str | None = PIN
    authorization: AuthorizationIn | None = Field(
        default=None, description="For an own wallet", examples=[None]
    )


class TypedDataOut(BaseModel):
    typed_data: dict[str, Any] = Field(
        description="The EIP-712 structure to sign with eth_signTypedData_v4",
        examples=[
            {
                "types": {"EIP712Domain": [], "PayWithAuthorization": []},
                "primaryType": "PayWithAuthorization",
                "domain": {
                    "name": "Socialcoin Geitenkamp - Wijkmunt",
                    "version": "1",
                    "chainId": 31337,
                    "verifyingContract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                },
                "message": {"from": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "value": 750},
            }
        ],
    )
    valid_after: int = Field(examples=[0])
    valid_before: int = Field(examples=[1795000000])
    nonce: str = Field(examples=["0x" + "0" * 63 + "7"])


class BalanceOut(BaseModel):
    coin: str = Field(examples=["0x5FbDB2315678afecb367f032d93F642f64180aa3"])
    symbol: str = Field(examples=["GKW"])
    name: str = Field(examples=["Socialcoin Geitenkamp - Wijkmunt"])
    purpose: str = Field(examples=["LOCAL_SPENDING"])
    purpose_nl: str = Field(description="What the coin is for, in Dutch", examples=["uitgeven in de wijk"])
    area: str = Field(examples=["WK020201"])
    amount_cents: int = Field(description="Confirmed balance, from the index", examples=[1750])
    pending_out_cents: int = Field(description="Sent but not yet in a block", examples=[0])

    @classmethod
    def of(cls, view: payments.BalanceView) -> BalanceOut:
        c = view.coin
        return cls(
            coin=c.address,
            symbol=c.symbol,
            name=c.name,
            purpose=c.purpose_name,
            purpose_nl=c.purpose_nl,
            area=c.area,
            amount_cents=view.amount_cents,
            pending_out_cents=view.pending_out_cents,
        )


class HistoryEntryOut(BaseModel):
    id: int = Field(
        description="Cursor: pass as before_id (history) or after_id (incoming payments)", examples=[812]
    )
    time: datetime = Field(examples=["2026-03-02T09:30:00Z"])
    block_number: int = Field(examples=[1234])
    tx_hash: str = Field(examples=["0x9c1e" + "0" * 60])
    coin: str = Field(examples=["0x5FbDB2315678afecb367f032d93F642f64180aa3"])
    symbol: str = Field(examples=["GKW"])
    kind: str = Field(
        description="payment, reward, grant, debt_settlement, service, payout, expired, recovered "
        "or transfer",
        examples=["payment"],
    )
    amount_cents: int = Field(description="Positive: received; negative: spent", examples=[-750])
    counterparty: str | None = Field(examples=["0x90F79bf6EB2c4f870365E785982E1f101E93b906"])
    counterparty_name: str | None = Field(
        description="A merchant's name (residents only)", examples=["Bakkerij De Geit"]
    )
    reference: str | None = Field(
        description="The till's reference, or a burn's reference", examples=["bon 1234"]
    )
    description_nl: str = Field(examples=["Betaald aan Bakkerij De Geit"])
    description_en: str = Field(examples=["Paid to Bakkerij De Geit"])

    @classmethod
    def of(cls, entry: payments.HistoryEntry) -> HistoryEntryOut:
        return cls(**entry.__dict__)


# -- debts ---------------------------------------------------------------------------------------------


class SettlementPublic(BaseModel):
    id: int = Field(examples=[4])
    debt_case_id: int = Field(ge=1, le=MAX_ID, examples=[2])
    amount_cents: int = Field(examples=[1000])
    coin: str = Field(examples=["0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"])
    status: str = Field(description="pending, settled or failed", examples=["settled"])
    tx_hash: str | None = Field(examples=["0x9c1e" + "0" * 60])
    settled_at: datetime | None = Field(examples=["2026-03-02T09:30:00Z"])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])
    error_code: str | None = Field(default=None, description="Why it failed", examples=[None])

    @classmethod
    def of(cls, settlement: Settlement, errors: dict[str, str] | None = None) -> SettlementPublic:
        return cls(
            id=settlement.id,
            debt_case_id=settlement.debt_case_id,
            amount_cents=settlement.amount_cents,
            coin=settlement.coin,
            status=str(settlement.status),
            tx_hash=settlement.tx_hash,
            settled_at=settlement.confirmed_at,
            created_at=settlement.created_at,
            error_code=(errors or {}).get(settlement.outbox_key),
        )


class DebtCasePublic(BaseModel):
    id: int = Field(examples=[2])
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    creditor: str = Field(examples=["CJIB"])
    creditor_reference: str = Field(examples=["CJIB-2026-000123"])
    amount_cents: int = Field(examples=[5000])
    remaining_cents: int = Field(description="Still to pay, after confirmed payments", examples=[4000])
    pending_cents: int = Field(description="Paid, waiting for confirmation", examples=[0])
    status: str = Field(description="open or closed", examples=["open"])
    chain_reference: str = Field(
        description="The reference burns carry on chain (reveals nothing)", examples=["0x3b1f" + "0" * 60]
    )
    created_at: datetime = Field(examples=["2026-03-01T10:00:00Z"])
    closed_at: datetime | None = Field(examples=[None])
    settlements: list[SettlementPublic] = Field(default_factory=list, examples=[[]])

    @classmethod
    def many(
        cls, session: Session, cases: list[DebtCase], with_settlements: bool = False
    ) -> list[DebtCasePublic]:
        """The cases with what is on its way to each (and their settlements), in a few queries."""
        ids = [case.id for case in cases]
        settled = debts.settlements_of(session, ids) if with_settlements else {}
        errors = failure_codes(
            session, [s.outbox_key for found in settled.values() for s in found if s.status == "failed"]
        )
        pending = debts.pending_cents_by_case(session, ids)
        return [
            cls(
                id=case.id,
                resident_id=case.resident_id,
                creditor=case.creditor,
                creditor_reference=case.creditor_reference,
                amount_cents=case.amount_cents,
                remaining_cents=case.remaining_cents,
                pending_cents=pending.get(case.id, 0),
                status=str(case.status),
                chain_reference=case.chain_reference,
                created_at=case.created_at,
                closed_at=case.closed_at,
                settlements=[SettlementPublic.of(s, errors) for s in settled.get(case.id, [])],
            )
            for case in cases
        ]

    @classmethod
    def of(cls, session: Session, case: DebtCase, with_settlements: bool = False) -> DebtCasePublic:
        return cls.many(session, [case], with_settlements)[0]


class SettlementCreate(SpendRequest):
    coin: str = Field(description="A coin for paying off debts: symbol or address", examples=["ARS"])
    amount_cents: int = Field(gt=0, le=10**10, examples=[1000])


# -- services ------------------------------------------------------------------------------------------


class ServicePublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Sportpas 2026"])
    description: str = Field(examples=["Een jaar lang sporten bij de clubs in Arnhem."])
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
    service_name: str = Field(examples=["Sportpas 2026"])
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    coin: str = Field(examples=["0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"])
    amount_cents: int = Field(examples=[2500])
    status: str = Field(description="pending, paid or failed", examples=["paid"])
    chain_reference: str = Field(examples=["0x77ab" + "0" * 60])
    tx_hash: str | None = Field(examples=["0x9c1e" + "0" * 60])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])
    paid_at: datetime | None = Field(examples=["2026-03-02T09:30:00Z"])
    error_code: str | None = Field(default=None, examples=[None])

    @classmethod
    def many(cls, session: Session, orders: list[Order]) -> list[OrderPublic]:
        """The orders with their services' names and failures, in two queries."""
        names = dict(
            session.execute(
                select(Service.id, Service.name).where(Service.id.in_({o.service_id for o in orders}))
            ).all()
        )
        errors = failure_codes(session, [o.outbox_key for o in orders if o.status == "failed"])
        return [
            cls(
                id=order.id,
                service_id=order.service_id,
                service_name=names.get(order.service_id, ""),
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
    def of(cls, session: Session, order: Order) -> OrderPublic:
        return cls.many(session, [order])[0]


# -- payments ------------------------------------------------------------------------------------------


class PaymentCreate(SpendRequest):
    merchant_id: int = Field(ge=1, le=MAX_ID, examples=[3])
    coin: str = COIN
    amount_cents: int = Field(gt=0, le=10**10, examples=[750])
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="The till's reference (from its QR code); written on chain, so never a name",
        examples=["bon 1234"],
    )


class PaymentPublic(BaseModel):
    id: int = Field(examples=[41])
    status: str = Field(description="pending, confirmed or failed", examples=["confirmed"])
    coin: str = Field(examples=["0x5FbDB2315678afecb367f032d93F642f64180aa3"])
    symbol: str = Field(examples=["GKW"])
    merchant_id: int | None = Field(ge=1, le=MAX_ID, examples=[3])
    merchant_name: str | None = Field(examples=["Bakkerij De Geit"])
    amount_cents: int = Field(examples=[750])
    reference: str | None = Field(examples=["bon 1234"])
    tx_hash: str | None = Field(examples=["0x9c1e" + "0" * 60])
    error_code: str | None = Field(examples=[None])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])

    @classmethod
    def of(cls, view: payments.PaymentView) -> PaymentPublic:
        return cls(**view.__dict__)


# --------------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------------

CoinQuery = Annotated[str, Query(description="Symbol or address", examples=["GKW"])]
AmountQuery = Annotated[int, Query(gt=0, le=10**10, examples=[750])]


@router.get("/balances", response_model=list[BalanceOut], summary="My balance per coin")
async def my_balances(resident: CurrentResident, session: SessionDep) -> list[BalanceOut]:
    return [BalanceOut.of(v) for v in payments.balances(session, resident.wallet_address)]


# Paging of a history, for residents and merchants alike.
HistoryLimit = Annotated[int, Query(ge=1, le=500, examples=[50])]
BeforeId = Annotated[int | None, Query(ge=0, le=MAX_ID, description="For the next page", examples=[812])]


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
    merchant_id: Annotated[int, Query(ge=1, le=MAX_ID, examples=[3])],
    coin: CoinQuery,
    amount_cents: AmountQuery,
    reference: Annotated[str | None, Query(max_length=32, examples=["bon 1234"])] = None,
) -> TypedDataOut:
    request = PaymentRequest(merchant_id, coin, amount_cents, reference)
    flow = PaymentFlow(runtime.settings)
    return TypedDataOut(**spending.prepare(session, runtime.chain, flow, Holder.of(resident), request, key))


@router.post(
    "/payments",
    response_model=PaymentPublic,
    status_code=202,
    responses=TOO_MANY,
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
        signed=signed_of(body.authorization),
    )
    return PaymentPublic.of(payments.payment_views(session, [payment])[0])


@router.get("/payments", response_model=list[PaymentPublic], summary="My payments, newest first")
def my_payments(
    resident: CurrentResident,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500, examples=[50])] = 50,
) -> list[PaymentPublic]:
    found = payments.list_payments(session, resident.id, limit=limit)
    return [PaymentPublic.of(v) for v in payments.payment_views(session, found)]


@router.get("/payments/{payment_id}", response_model=PaymentPublic, summary="One of my payments")
def my_payment(
    payment_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[41])],
    resident: CurrentResident,
    session: SessionDep,
) -> PaymentPublic:
    payment = payments.get_payment(session, resident.id, payment_id)
    return PaymentPublic.of(payments.payment_views(session, [payment])[0])


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
    case_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[2])],
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
    summary="Pay off part or all of a debt",
    description="Burns coins meant for paying off debts against the debt's reference. The debt goes "
    "down when the burn is confirmed; paying more than is still open (counting what is on its way) is "
    "refused.",
)
def settle(
    case_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[2])],
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
        signed=signed_of(body.authorization),
    )
    return SettlementPublic.of(settlement)


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
    service_id: Annotated[int, Query(ge=1, le=MAX_ID, examples=[1])],
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
        signed=signed_of(body.authorization),
    )
    return OrderPublic.of(session, order)


@router.get("/orders", response_model=list[OrderPublic], summary="My orders, newest first")
def my_orders(resident: CurrentResident, session: SessionDep) -> list[OrderPublic]:
    return OrderPublic.many(session, services.list_orders(session, resident_id=resident.id))


@router.get("/orders/{order_id}", response_model=OrderPublic, summary="One of my orders")
def my_order(
    order_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[7])],
    resident: CurrentResident,
    session: SessionDep,
) -> OrderPublic:
    return OrderPublic.of(session, services.get_order(session, order_id, resident_id=resident.id))
