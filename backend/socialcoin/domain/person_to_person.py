"""A resident pays another resident, where the coin allows it (a person-to-person coin, within its area;
DESIGN.md section 2): the transfer flow of the one spend path (spending.py), relayed as a
payWithAuthorization to the receiver's wallet. The chain's transfer rule decides, and its refusals are
explained before anything is sent (the coin does not allow it, the receiver lives outside the coin's area,
is frozen, or would hold more than the coin's cap).

The payer names the receiver by the receiver's *receive code*: a short code the receiver finds on their
own pay page and passes on as they like. It is random, tells nothing about the resident (no name, no case
number), and the receiver can replace it. Nothing about the other resident is ever shown to a payer or a
receiver: not a name, not a code, not an area.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.base import lock, writing
from ..db.enums import Origin, SpendStatus
from ..db.models import OutboxItem, ReceiveCode, Resident, Transfer
from ..formats import euro, euro_en
from .coins import catalogue
from .errors import InvalidInput, NotFound
from .notifications import notify
from .spending import Flow, Holder, Intent, derived_reference, failure_codes
from .till_requests import ALPHABET

CODE_LENGTH = 8  # 31**8 codes: a guess finds a resident about once in 10**8 tries for 10,000 residents


# --------------------------------------------------------------------------------------------------
# Receive codes
# --------------------------------------------------------------------------------------------------


def normalised_code(text: str | None) -> str:
    """What a payer typed ("abcd efgh", "ABCD-EFGH") as the code it names."""
    return re.sub(r"[\s-]", "", text or "").upper()


def shown(code: str) -> str:
    """A code as it is shown, in two groups of four: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(ReceiveCode.id).where(ReceiveCode.code == code)) is None:
            return code


def receive_code(session: Session, resident_id: int, *, renew: bool = False) -> str:
    """The resident's receive code, made the first time it is asked for (in a write transaction of its
    own, or the caller's); `renew` replaces it, so that the old one no longer names the resident."""
    current = session.scalar(select(ReceiveCode).where(ReceiveCode.resident_id == resident_id))
    if current is not None and not renew:
        return current.code
    try:
        with writing(session):
            lock(session, "receive_code", resident_id)
            current = session.scalar(select(ReceiveCode).where(ReceiveCode.resident_id == resident_id))
            if current is None:
                current = ReceiveCode(resident_id=resident_id, code=_new_code(session))
                session.add(current)
            elif renew:
                current.code = _new_code(session)
            session.flush()
            return current.code
    except IntegrityError:  # a code made for the resident at the same moment: that one
        session.rollback()
        return session.scalars(select(ReceiveCode.code).where(ReceiveCode.resident_id == resident_id)).one()


def _code_unknown() -> NotFound:
    return NotFound(
        "receive_code_not_found",
        "Deze betaalcode kennen we niet. Vraag de ontvanger om de code op zijn of haar betaalpagina, en "
        "kijk of u hem goed heeft overgenomen.",
        "We do not know this receive code. Ask the receiver for the code on their pay page, and check that "
        "you typed it correctly.",
        field="receive_code",
    )


@dataclass(frozen=True)
class TransferRequest:
    recipient_id: int
    coin: str
    amount_cents: int


def request_for(session: Session, payer_id: int, code: str, coin: str, amount_cents: int) -> TransferRequest:
    """The transfer a payer asks for by the receiver's code (an unknown code, or the payer's own, is
    refused)."""
    wanted = normalised_code(code)
    recipient_id = (
        session.scalar(select(ReceiveCode.resident_id).where(ReceiveCode.code == wanted))
        if len(wanted) == CODE_LENGTH
        else None
    )
    if recipient_id is None:
        raise _code_unknown()
    if recipient_id == payer_id:
        raise InvalidInput(
            "transfer_to_self",
            "Dit is uw eigen betaalcode. Vul de code in van degene die u wilt betalen.",
            "This is your own receive code. Fill in the code of the person you want to pay.",
            field="receive_code",
        )
    return TransferRequest(recipient_id, coin, amount_cents)


# --------------------------------------------------------------------------------------------------
# Paying another resident
# --------------------------------------------------------------------------------------------------


class TransferFlow(Flow[TransferRequest, Transfer]):
    """A resident pays another resident; the transfer is confirmed when the chain has it."""

    origin = Origin.TRANSFER
    model = Transfer
    confirmed = SpendStatus.CONFIRMED

    def intent(self, session: Session, holder: Holder, request: TransferRequest, key: str) -> Intent:
        recipient = session.get(Resident, request.recipient_id)
        if recipient is None:
            raise _code_unknown()
        coin = catalogue(session).resolve(request.coin)
        reference = derived_reference(self.secret, self.origin.value, holder.id, key)
        return Intent(
            coin,
            holder.address,
            request.amount_cents,
            reference,
            to=recipient.wallet_address,
            to_resident=True,
        )

    def same_request(self, session: Session, earlier: Transfer, request: TransferRequest) -> bool:
        coin = catalogue(session).resolve(request.coin)
        return (earlier.recipient_id, earlier.coin, earlier.amount_cents) == (
            request.recipient_id,
            coin.address,
            request.amount_cents,
        )

    def row(self, holder: Holder, intent: Intent, request: TransferRequest) -> Transfer:
        return Transfer(
            resident_id=holder.id, recipient_id=request.recipient_id, chain_reference=intent.reference
        )

    def confirmed_row(self, session: Session, row: Transfer) -> None:
        symbol = catalogue(session).symbol(row.coin)
        notify(
            session,
            row.recipient_id,
            "transfer_received",
            f"U heeft {euro(row.amount_cents)} aan {symbol} gekregen van een andere inwoner.",
            f"You received {euro_en(row.amount_cents)} in {symbol} from another resident.",
        )

    def failed_row(self, session: Session, row: Transfer, item: OutboxItem) -> None:
        notify(
            session,
            row.resident_id,
            "transfer_failed",
            f"Uw betaling van {euro(row.amount_cents)} aan een andere inwoner is niet gelukt. Er is niets "
            "van uw saldo afgegaan.",
            f"Your payment of {euro_en(row.amount_cents)} to another resident did not go through. Nothing "
            "was taken from your balance.",
        )


# --------------------------------------------------------------------------------------------------
# What each side sees
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferView:
    """A transfer as one of its two residents sees it: never anything about the other one."""

    id: int
    direction: str  # sent | received
    status: str  # pending | confirmed | failed
    coin: str
    symbol: str
    amount_cents: int
    tx_hash: str | None
    error_code: str | None
    created_at: datetime


def transfer_views(session: Session, resident_id: int, transfers: list[Transfer]) -> list[TransferView]:
    coins = catalogue(session)
    errors = failure_codes(
        session,
        [t.outbox_key for t in transfers if t.status == SpendStatus.FAILED and t.resident_id == resident_id],
    )
    return [
        TransferView(
            id=t.id,
            direction="sent" if t.resident_id == resident_id else "received",
            status=str(t.status),
            coin=t.coin,
            symbol=coins.symbol(t.coin),
            amount_cents=t.amount_cents,
            tx_hash=t.tx_hash,
            error_code=errors.get(t.outbox_key),
            created_at=t.created_at,
        )
        for t in transfers
    ]


def list_transfers(session: Session, resident_id: int, *, limit: int = 50) -> list[Transfer]:
    """The resident's transfers, newest first: those they sent, and those they received (a received one
    once it is confirmed: until then it is the payer's business)."""
    received = (Transfer.recipient_id == resident_id) & (Transfer.status == SpendStatus.CONFIRMED)
    return list(
        session.scalars(
            select(Transfer)
            .where(or_(Transfer.resident_id == resident_id, received))
            .order_by(Transfer.id.desc())
            .limit(limit)
        )
    )


def get_transfer(session: Session, resident_id: int, transfer_id: int) -> Transfer:
    """One of the resident's transfers: sent by them, or received and confirmed."""
    transfer = session.get(Transfer, transfer_id)
    visible = transfer is not None and (
        transfer.resident_id == resident_id
        or (transfer.recipient_id == resident_id and transfer.status == SpendStatus.CONFIRMED)
    )
    if transfer is None or not visible:
        raise NotFound(
            "transfer_not_found",
            f"Overboeking {transfer_id} bestaat niet.",
            f"Transfer {transfer_id} does not exist.",
            field="transfer_id",
            id=transfer_id,
        )
    return transfer
