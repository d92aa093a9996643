"""A resident pays a merchant (a relayed payWithAuthorization with a payment reference), and what
residents and merchants see of their money: balances per coin and a history, both read from the
indexer's tables (which it keeps equal to the chain), never from the chain directly.

A payment has no table of its own: the outbox item is the payment (its idempotency key makes a
repeated request find it), and the chain's PaymentMade event is its record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hexbytes import HexBytes
from sqlalchemy import Select, bindparam, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..chain.constants import ZERO_ADDRESS
from ..db.models import Balance, ChainEvent, DebtCase, Merchant, Order, OutboxItem, Resident, Service
from .errors import InvalidInput, NotFound
from .signing import (
    RELAYED_FUNCTIONS,
    CoinInfo,
    Holder,
    Intent,
    SignedAuthorization,
    coin_catalogue,
    derived_reference,
    euro,
    euro_en,
    in_flight_by_coin,
    key_reused,
    load_merchant,
    notify,
    outbox_item,
    prepare,
    relay,
    resolve_coin,
    tx_hash_of,
)

if TYPE_CHECKING:
    from ..runtime import Runtime

KEY_PREFIX = "payment"
# A till's reference (a receipt or sale number) is written on chain as 32 bytes of text: readable for the
# merchant, and never personal data.
REFERENCE = re.compile(r"^[A-Za-z0-9 #._:/-]{1,32}$")


def encode_reference(text: str) -> str:
    if not REFERENCE.match(text):
        raise InvalidInput(
            "reference_invalid",
            "Het kenmerk mag 1 tot 32 letters, cijfers, spaties en # . _ : / - bevatten, en geen "
            "namen of andere persoonsgegevens.",
            "The reference may hold 1 to 32 letters, digits, spaces and # . _ : / -, and no "
            "names or other personal data.",
            field="reference",
        )
    return "0x" + text.encode("ascii").ljust(32, b"\0").hex()


def decode_reference(value: str | None) -> str | None:
    """The till's text back from a bytes32 reference; None when it is not such text."""
    if not value:
        return None
    raw = bytes(HexBytes(value)).rstrip(b"\0")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text and REFERENCE.match(text) else None


# --------------------------------------------------------------------------------------------------
# Paying
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentView:
    id: int
    status: str  # pending | confirmed | failed
    coin: str
    symbol: str
    merchant_id: int | None
    merchant_name: str | None
    amount_cents: int
    reference: str | None
    tx_hash: str | None
    error_code: str | None
    created_at: datetime


def _intent(
    runtime: Runtime,
    session: Session,
    resident: Resident,
    merchant_id: int,
    coin_ref: str,
    amount_cents: int,
    reference: str | None,
    key: str,
) -> Intent:
    merchant = load_merchant(session, merchant_id)
    coin = resolve_coin(session, coin_ref)
    chain_reference = (
        encode_reference(reference)
        if reference
        else derived_reference(runtime.settings.secret_key.get_secret_value(), KEY_PREFIX, resident.id, key)
    )
    return Intent(
        coin=coin,
        sender=resident.wallet_address,
        value=amount_cents,
        reference=chain_reference,
        to=merchant.wallet_address,
    )


def _view(session: Session, item: OutboxItem, coins: dict[str, CoinInfo] | None = None) -> PaymentView:
    coins = coin_catalogue(session) if coins is None else coins
    args = item.payload["args"]
    merchant = session.scalar(select(Merchant).where(Merchant.wallet_address == args[1]))
    coin = coins.get(item.payload["contract"])
    status = {"done": "confirmed", "failed": "failed"}.get(item.status, "pending")
    return PaymentView(
        id=item.id,
        status=status,
        coin=item.payload["contract"],
        symbol=coin.symbol if coin else "",
        merchant_id=merchant.id if merchant else None,
        merchant_name=merchant.name if merchant else None,
        amount_cents=int(args[2]),
        reference=decode_reference(args[3]),
        tx_hash=tx_hash_of(session, item),
        error_code=item.error_code if item.status == "failed" else None,
        created_at=item.created_at,
    )


def payment_typed_data(
    runtime: Runtime,
    session: Session,
    resident: Resident,
    *,
    merchant_id: int,
    coin: str,
    amount_cents: int,
    reference: str | None,
    key: str,
) -> dict[str, Any]:
    """For an own wallet: what to sign to pay the merchant."""
    intent = _intent(runtime, session, resident, merchant_id, coin, amount_cents, reference, key)
    return prepare(runtime, session, Holder.of(resident), intent)


def pay(
    runtime: Runtime,
    session: Session,
    resident: Resident,
    *,
    merchant_id: int,
    coin: str,
    amount_cents: int,
    reference: str | None,
    key: str,
    pin: str | None = None,
    signed: SignedAuthorization | None = None,
) -> PaymentView:
    """Pays a merchant. The same idempotency key returns the same payment: it is sent once."""
    outbox_key = f"{KEY_PREFIX}:{resident.id}:{key}"
    intent = _intent(runtime, session, resident, merchant_id, coin, amount_cents, reference, key)
    existing = outbox_item(session, outbox_key)
    if existing is not None:
        if not intent.matches(existing.payload):
            raise key_reused()
        return _view(session, existing)
    item = relay(runtime, session, Holder.of(resident), intent, outbox_key, pin=pin, signed=signed)
    return _view(session, item)


def get_payment(session: Session, resident: Resident, payment_id: int) -> PaymentView:
    item = session.get(OutboxItem, payment_id)
    if item is None or not item.idempotency_key.startswith(f"{KEY_PREFIX}:{resident.id}:"):
        raise NotFound(
            "payment_not_found",
            f"Betaling {payment_id} bestaat niet.",
            f"Payment {payment_id} does not exist.",
            field="payment_id",
            id=payment_id,
        )
    return _view(session, item)


def list_payments(session: Session, resident: Resident, *, limit: int = 50) -> list[PaymentView]:
    items = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.idempotency_key.like(f"{KEY_PREFIX}:{resident.id}:%"))
        .order_by(OutboxItem.id.desc())
        .limit(limit)
    ).all()
    coins = coin_catalogue(session)
    return [_view(session, item, coins) for item in items]


def on_payment_finished(session: Session, item: OutboxItem) -> None:
    """A payment that failed after it was accepted (the chain refused it, the authorization expired)."""
    if item.status != "failed" or item.payload.get("function") != RELAYED_FUNCTIONS["PayWithAuthorization"]:
        return
    resident_id = int(item.idempotency_key.split(":")[1])
    view = _view(session, item)
    to = view.merchant_name or "de winkel"
    notify(
        session,
        resident_id,
        "payment_failed",
        f"Uw betaling van {euro(view.amount_cents)} aan {to} is niet gelukt. "
        "Er is niets van uw saldo afgegaan.",
        f"Your payment of {euro_en(view.amount_cents)} to {view.merchant_name or 'the merchant'} did not go "
        "through. Nothing was taken from your balance.",
    )


# --------------------------------------------------------------------------------------------------
# Balances
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceView:
    coin: CoinInfo
    amount_cents: int
    pending_out_cents: int


def balances(session: Session, wallet: str) -> list[BalanceView]:
    """The wallet's balance per coin (from the index), and what is on its way out but not yet mined."""
    coins = coin_catalogue(session)
    rows = session.execute(_BALANCES, {"wallet": wallet}).all()
    queued = in_flight_by_coin(session, wallet) if rows else {}
    views = []
    for coin, amount in rows:
        info = coins.get(coin)
        if info is None:
            continue
        pending = sum(q.value for q in queued.get(coin.lower(), ()) if not q.mined)
        views.append(BalanceView(info, int(amount), pending))
    return sorted(views, key=lambda v: v.coin.symbol)


# --------------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    time: datetime
    block_number: int
    tx_hash: str
    coin: str
    symbol: str
    kind: str
    amount_cents: int  # positive: in; negative: out
    counterparty: str | None
    counterparty_name: str | None
    reference: str | None
    description_nl: str
    description_en: str


_MINTS = {
    "ActivityMinted": ("reward", "Beloning voor een activiteit", "Reward for an activity"),
    "RewardGranted": ("reward", "Beloning voor een activiteit", "Reward for an activity"),
    "AdminMinted": ("grant", "Bijgeschreven door de gemeente", "Credited by the municipality"),
}
_BURNS = {
    "DebtSettled": ("debt_settlement", "Schuld afgelost", "Debt paid off"),
    "ServiceRedeemed": ("service", "Dienst van de gemeente betaald", "Municipal service paid"),
    "PayoutRedeemed": ("payout", "Uitbetaald in euro's", "Paid out in euros"),
    "ExpiredReclaimed": ("expired", "Verlopen munten teruggenomen", "Expired coins reclaimed"),
}


def _describe_burns(session: Session, references: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Better words for burns the backend knows: which creditor, which service."""
    refs = {r for r in references if r}
    found: dict[str, tuple[str, str]] = {}
    if not refs:
        return found
    for case in session.scalars(select(DebtCase).where(DebtCase.chain_reference.in_(refs))):
        found[case.chain_reference] = (
            f"Schuld afgelost bij {case.creditor}",
            f"Debt paid off to {case.creditor}",
        )
    for order, service in session.execute(
        select(Order, Service)
        .join(Service, Service.id == Order.service_id)
        .where(Order.chain_reference.in_(refs))
    ):
        found[order.chain_reference] = (f"Betaald: {service.name}", f"Paid: {service.name}")
    return found


# What history and incoming payments read of an event: plain rows, not ORM objects (several times cheaper
# for the hundred events a page reads).
_EVENT_FIELDS = (
    ChainEvent.id,
    ChainEvent.block_number,
    ChainEvent.block_time,
    ChainEvent.tx_hash,
    ChainEvent.log_index,
    ChainEvent.contract,
    ChainEvent.event,
    ChainEvent.args,
    ChainEvent.companion_event,
    ChainEvent.companion_args,
)


def _newest_transfers(paged: bool) -> Select:
    """The wallet's newest Transfers out and in (before the id `before` when paged), each side read along
    its own index."""

    def side(account: InstrumentedAttribute) -> Select:
        query = select(ChainEvent.id).where(account == bindparam("wallet"), ChainEvent.event == "Transfer")
        if paged:
            query = query.where(ChainEvent.id < bindparam("before"))
        return query.order_by(ChainEvent.id.desc()).limit(bindparam("limit")).subquery().select()

    newest = union(side(ChainEvent.from_account), side(ChainEvent.to_account)).subquery()
    return (
        select(*_EVENT_FIELDS)
        .where(ChainEvent.id.in_(select(newest.c.id)))
        .order_by(ChainEvent.id.desc())
        .limit(bindparam("limit"))
    )


# The hot read statements of the API are built once, with parameters: building a statement costs more
# than running it (and SQLAlchemy then finds its compiled form by the statement's memoized cache key).
_NEWEST_TRANSFERS = {paged: _newest_transfers(paged) for paged in (False, True)}
_MERCHANT_NAMES = select(Merchant.wallet_address, Merchant.name).where(
    Merchant.wallet_address.in_(bindparam("addresses", expanding=True))
)
_BALANCES = select(Balance.coin, Balance.amount).where(Balance.account == bindparam("wallet"))


def history(
    session: Session, wallet: str, *, viewer: str, limit: int = 50, before_id: int | None = None
) -> list[HistoryEntry]:
    """Every balance change of the wallet, newest first, classified by its Transfer's companion event.
    A merchant sees who paid by address only; a resident sees merchants by name."""
    page = {"wallet": wallet, "limit": limit} | ({} if before_id is None else {"before": before_id})
    transfers = session.execute(_NEWEST_TRANSFERS[before_id is not None], page).all()
    if not transfers:
        return []
    coins = coin_catalogue(session)
    counterparties = {str(t.args["to"] if t.args["from"] == wallet else t.args["from"]) for t in transfers}
    merchants = dict(session.execute(_MERCHANT_NAMES, {"addresses": list(counterparties)}).all())
    references = [
        str(args.get("debtReference") or args.get("serviceReference") or "")
        for args in (t.companion_args for t in transfers)
        if args
    ]
    burn_words = _describe_burns(session, references)
    entries = []
    for transfer in transfers:
        args = transfer.args
        out = args["from"] == wallet
        other = str(args["to"] if out else args["from"])
        companion, companion_args = transfer.companion_event, transfer.companion_args or {}
        reference = None
        if args["from"] == ZERO_ADDRESS and companion in _MINTS:
            kind, nl, en = _MINTS[companion]
            other = None
        elif args["to"] == ZERO_ADDRESS and companion in _BURNS:
            kind, nl, en = _BURNS[companion]
            reference = next((str(v) for k, v in companion_args.items() if k.endswith("Reference")), None)
            nl, en = burn_words.get(reference or "", (nl, en))
            other = None
        elif companion == "PaymentMade":
            kind = "payment"
            reference = decode_reference(companion_args.get("paymentReference"))
            name = merchants.get(other) if viewer == "resident" else None
            nl, en = (
                (f"Betaald aan {name or 'een winkel'}", f"Paid to {name or 'a merchant'}")
                if out
                else ("Betaling ontvangen", "Payment received")
            )
        elif companion == "BalanceRecovered":
            kind, nl, en = (
                "recovered",
                "Saldo overgezet naar een nieuwe wallet",
                "Balance moved to a new wallet",
            )
        else:
            kind = "transfer"
            nl, en = ("Overgemaakt", "Sent") if out else ("Ontvangen", "Received")
        coin = coins.get(transfer.contract)
        entries.append(
            HistoryEntry(
                id=transfer.id,
                time=transfer.block_time,
                block_number=transfer.block_number,
                tx_hash=transfer.tx_hash,
                coin=transfer.contract,
                symbol=coin.symbol if coin else "",
                kind=kind,
                amount_cents=-int(args["value"]) if out else int(args["value"]),
                counterparty=other,
                counterparty_name=merchants.get(other) if other and viewer == "resident" else None,
                reference=reference,
                description_nl=nl,
                description_en=en,
            )
        )
    return entries


def incoming_payments(
    session: Session, wallet: str, *, after_id: int | None = None, limit: int = 100
) -> list[HistoryEntry]:
    """Payments that reached a merchant, oldest first after `after_id`: a till polls with the last id
    it has seen to see payments arrive."""
    query = select(*_EVENT_FIELDS).where(ChainEvent.to_account == wallet, ChainEvent.event == "PaymentMade")
    if after_id is not None:
        query = query.where(ChainEvent.id > after_id)
    events = session.execute(query.order_by(ChainEvent.id).limit(limit)).all()
    coins = coin_catalogue(session)
    entries = []
    for event in events:
        coin = coins.get(event.contract)
        entries.append(
            HistoryEntry(
                id=event.id,
                time=event.block_time,
                block_number=event.block_number,
                tx_hash=event.tx_hash,
                coin=event.contract,
                symbol=coin.symbol if coin else "",
                kind="payment",
                amount_cents=int(event.args["value"]),
                counterparty=str(event.args["from"]),
                counterparty_name=None,
                reference=decode_reference(event.args.get("paymentReference")),
                description_nl="Betaling ontvangen",
                description_en="Payment received",
            )
        )
    return entries
