"""A resident pays a merchant (a relayed payWithAuthorization with a payment reference): the payment flow
of the one spend path (spending.py). And what residents and merchants see of their money: balances per
coin and a history, both read from the indexer's tables (which it keeps equal to the chain), never from
the chain directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..chain.constants import ZERO_ADDRESS
from ..chain.contracts import to_bytes
from ..db.enums import Origin, SpendStatus
from ..db.models import Balance, ChainEvent, DebtCase, Merchant, Order, OutboxItem, Payment, Service
from ..formats import euro, euro_en
from . import till_requests
from .coins import CoinInfo, catalogue
from .errors import InvalidInput, NotFound
from .notifications import notify
from .spending import Flow, Holder, Intent, derived_reference, failure_codes, pending_out_by_coin

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
    raw = to_bytes(value).rstrip(b"\0")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text and REFERENCE.match(text) else None


def load_merchant(session: Session, merchant_id: int | None) -> Merchant:
    merchant = session.get(Merchant, merchant_id) if merchant_id is not None else None
    if merchant is None:
        raise NotFound(
            "merchant_not_found",
            "Deze ondernemer bestaat niet.",
            "This merchant does not exist.",
            field="merchant_id",
        )
    return merchant


# --------------------------------------------------------------------------------------------------
# Paying
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    merchant_id: int
    coin: str
    amount_cents: int
    reference: str | None = None


class PaymentFlow(Flow[PaymentRequest, Payment]):
    """A resident pays a merchant; the payment is confirmed when the chain has it."""

    origin = Origin.PAYMENT
    model = Payment
    confirmed = SpendStatus.CONFIRMED

    def intent(self, session: Session, holder: Holder, request: PaymentRequest, key: str) -> Intent:
        merchant = load_merchant(session, request.merchant_id)
        coin = catalogue(session).resolve(request.coin)
        reference = (
            encode_reference(request.reference)
            if request.reference
            else derived_reference(self.secret, self.origin.value, holder.id, key)
        )
        till_requests.check_open(session, request.merchant_id, request.reference, request.amount_cents)
        return Intent(coin, holder.address, request.amount_cents, reference, to=merchant.wallet_address)

    def same_request(self, session: Session, earlier: Payment, request: PaymentRequest) -> bool:
        coin = catalogue(session).resolve(request.coin)
        return (earlier.merchant_id, earlier.coin, earlier.amount_cents, earlier.reference) == (
            request.merchant_id,
            coin.address,
            request.amount_cents,
            request.reference,
        )

    def check_locked(self, session: Session, intent: Intent, request: PaymentRequest) -> None:
        till_requests.check_locked(session, request.merchant_id, request.reference, request.amount_cents)

    def row(self, holder: Holder, intent: Intent, request: PaymentRequest) -> Payment:
        return Payment(
            resident_id=holder.id,
            merchant_id=request.merchant_id,
            reference=request.reference,
            chain_reference=intent.reference,
        )

    def confirmed_row(self, session: Session, row: Payment) -> None:
        till_requests.payment_changed(session, row.merchant_id)  # its till shows "paid" at once

    def failed_row(self, session: Session, row: Payment, item: OutboxItem) -> None:
        till_requests.payment_changed(session, row.merchant_id)
        name = session.scalar(select(Merchant.name).where(Merchant.id == row.merchant_id))
        notify(
            session,
            row.resident_id,
            "payment_failed",
            f"Uw betaling van {euro(row.amount_cents)} aan {name or 'de winkel'} is niet gelukt. "
            "Er is niets van uw saldo afgegaan.",
            f"Your payment of {euro_en(row.amount_cents)} to {name or 'the merchant'} did not go "
            "through. Nothing was taken from your balance.",
        )


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


def payment_views(session: Session, payments: list[Payment]) -> list[PaymentView]:
    """Views of many payments in a few queries (merchant names and failures read once for all)."""
    coins = catalogue(session)
    names = dict(
        session.execute(
            select(Merchant.id, Merchant.name).where(Merchant.id.in_({p.merchant_id for p in payments}))
        ).all()
    )
    errors = failure_codes(session, [p.outbox_key for p in payments if p.status == SpendStatus.FAILED])
    return [
        PaymentView(
            id=p.id,
            status=str(p.status),
            coin=p.coin,
            symbol=coins.symbol(p.coin),
            merchant_id=p.merchant_id,
            merchant_name=names.get(p.merchant_id),
            amount_cents=p.amount_cents,
            reference=p.reference,
            tx_hash=p.tx_hash,
            error_code=errors.get(p.outbox_key),
            created_at=p.created_at,
        )
        for p in payments
    ]


def get_payment(session: Session, resident_id: int, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.resident_id != resident_id:
        raise NotFound(
            "payment_not_found",
            f"Betaling {payment_id} bestaat niet.",
            f"Payment {payment_id} does not exist.",
            field="payment_id",
            id=payment_id,
        )
    return payment


def list_payments(session: Session, resident_id: int, *, limit: int = 50) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.resident_id == resident_id).order_by(Payment.id.desc()).limit(limit)
        )
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
    coins = catalogue(session)
    rows = session.execute(_BALANCES, {"wallet": wallet}).all()
    pending = pending_out_by_coin(session, wallet) if rows else {}
    views = []
    for coin, amount in rows:
        info = coins.get(coin)
        if info is None:
            continue
        views.append(BalanceView(info, int(amount), pending.get(coin, 0)))
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
    coins = catalogue(session)
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
        party = str(args["to"] if out else args["from"])
        other: str | None = party  # None where the other side is the mint or the burn
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
        elif companion == "PaymentMade" and viewer == "resident" and party not in merchants:
            kind = "transfer"  # from one resident to another (person_to_person.py): nobody is named
            other = None
            nl, en = (
                ("Betaald aan een andere inwoner", "Paid to another resident")
                if out
                else ("Gekregen van een andere inwoner", "Received from another resident")
            )
        elif companion == "PaymentMade":
            kind = "payment"
            reference = decode_reference(companion_args.get("paymentReference"))
            name = merchants.get(party) if viewer == "resident" else None
            nl, en = (
                (f"Betaald aan {name or 'een winkel'}", f"Paid to {name or 'a merchant'}")
                if out
                else ("Betaling ontvangen", "Payment received")
            )
        elif companion == "PaymentRefunded":
            kind = "refund"
            reference = decode_reference(companion_args.get("paymentReference"))
            name = merchants.get(party) if viewer == "resident" else None
            nl, en = (
                ("Terugbetaald aan de klant", "Refunded to the customer")
                if out
                else (f"Terugbetaald door {name or 'een winkel'}", f"Refunded by {name or 'a merchant'}")
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
    coins = catalogue(session)
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
