"""Merchants redeem coins for euros. A merchant asks for a payout; its coins are burned (reason
MerchantPayout) against the payout's reference; once the burn is confirmed the amount waits for the
next SEPA credit-transfer batch. The municipality makes the batch (a pain.001.001.03 file, checked
against the schema sepaxml ships), gives it to its bank, and marks it paid.

    pending -> burned -> batched -> paid;  pending -> failed (nothing burned, nothing to pay)

A merchant that still holds an expired coin once its redemption grace has passed loses nothing either:
the municipality's expiry reclaim burns the balance as a payout under the coin's expiry reference
(PayoutRedeemed), and when the index reads that event the payout is recorded here, burned, for the next
batch like any other (`record_expiry_payouts`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from eth_abi import encode
from eth_utils import keccak
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..chain.constants import BurnReason
from ..db.base import rows_changed
from ..db.enums import Origin, SpendStatus
from ..db.models import Merchant, Payout, PayoutBatch
from ..db.types import utcnow
from .coins import catalogue
from .errors import Conflict, InvalidInput, NotFound
from .fields import checked_bic, checked_iban
from .spending import Flow, Holder, Intent, derived_reference

log = logging.getLogger(__name__)

SEPA_SCHEMA = "pain.001.001.03"
# The coin's tag of the payout reference under which expiry reclaim burns a merchant's balance.
EXPIRY_PAYOUT_TAG = keccak(text="Socialcoin expiry payout")


@dataclass(frozen=True)
class PayoutRequest:
    coin: str
    amount_cents: int


class PayoutFlow(Flow[PayoutRequest, Payout]):
    """A merchant redeems coins for euros: they are burned (reason MerchantPayout) against the payout's
    reference; once burned the amount waits for the next SEPA batch."""

    origin = Origin.PAYOUT
    model = Payout
    confirmed = SpendStatus.BURNED

    def intent(self, session: Session, holder: Holder, request: PayoutRequest, key: str) -> Intent:
        coin = catalogue(session).resolve(request.coin)
        reference = derived_reference(self.secret, self.origin.value, holder.id, key)
        return Intent(
            coin, holder.address, request.amount_cents, reference, reason=BurnReason.MERCHANT_PAYOUT
        )

    def same_request(self, session: Session, earlier: Payout, request: PayoutRequest) -> bool:
        coin = catalogue(session).resolve(request.coin)
        return (earlier.coin, earlier.amount_cents) == (coin.address, request.amount_cents)

    def row(self, holder: Holder, intent: Intent, request: PayoutRequest) -> Payout:
        return Payout(merchant_id=holder.id, chain_reference=intent.reference)


# --------------------------------------------------------------------------------------------------
# Payouts made by expiry reclaim
# --------------------------------------------------------------------------------------------------


def expiry_payout_reference(coin: str, merchant: str) -> str:
    """The coin's `expiryPayoutReference(merchant)`: keccak256(abi.encode(tag, coin, merchant))."""
    return "0x" + keccak(encode(["bytes32", "address", "address"], [EXPIRY_PAYOUT_TAG, coin, merchant])).hex()


def record_expiry_payouts(session: Session, events: list[dict[str, Any]]) -> None:
    """Records, once each, the payouts expiry reclaim made of merchants' balances, from the events the
    index has just stored (in its write transaction): burned, waiting for the next SEPA batch. A payout to
    a wallet no merchant of the service holds is logged for the municipality, not recorded."""
    for event in events:
        if event["event"] != "PayoutRedeemed":
            continue
        args, coin = event["args"], event["contract"]
        reference = str(args["payoutReference"]).lower()
        if reference != expiry_payout_reference(coin, args["merchant"]):
            continue  # a payout the merchant asked for: its row exists already
        if session.scalar(select(Payout.id).where(Payout.chain_reference == reference)) is not None:
            continue
        merchant = session.scalar(select(Merchant).where(Merchant.wallet_address == args["merchant"]))
        if merchant is None:
            log.error(
                "expiry reclaim paid out %s cents of coin %s to %s, which no merchant holds: not recorded",
                args["value"],
                coin,
                args["merchant"],
            )
            continue
        session.add(
            Payout(
                merchant_id=merchant.id,
                chain_reference=reference,
                coin=coin,
                amount_cents=int(args["value"]),
                status=SpendStatus.BURNED,
                outbox_key=f"expiry-payout:{coin}:{merchant.wallet_address}",
                tx_hash=event["tx_hash"],
                confirmed_at=utcnow(),
            )
        )


def list_payouts(
    session: Session,
    *,
    merchant_id: int | None = None,
    status: str | None = None,
    batch_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Payout]:
    query = select(Payout)
    if merchant_id is not None:
        query = query.where(Payout.merchant_id == merchant_id)
    if status:
        query = query.where(Payout.status == status)
    if batch_id is not None:
        query = query.where(Payout.batch_id == batch_id)
    return list(session.scalars(query.order_by(Payout.id.desc()).limit(limit).offset(offset)))


# --------------------------------------------------------------------------------------------------
# SEPA batches
# --------------------------------------------------------------------------------------------------


def _end_to_end(payout: Payout) -> str:
    return f"SOCIALCOIN-PAYOUT-{payout.id}"


def create_batch(
    session: Session,
    *,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str | None = None,
    execution_date: date | None = None,
) -> PayoutBatch:
    """Puts every burned payout not yet in a batch into one pain.001 credit-transfer file, one
    transfer per payout (its end-to-end id names the payout), paid from the municipality's account. In
    the caller's write transaction: two batches made at once never hold the same payout (SQLite: the
    write transaction; PostgreSQL: the payouts' row locks, and the claim below counts its rows)."""
    debtor_name = (debtor_name or "").strip()
    if not debtor_name or len(debtor_name) > 70:
        raise InvalidInput(
            "debtor_name_invalid",
            "Vul de naam van de rekeninghouder in (hoogstens 70 tekens).",
            "Fill in the account holder's name (at most 70 characters).",
            field="debtor_name",
        )
    try:
        iban, bic = checked_iban(debtor_iban), checked_bic(debtor_bic)
    except InvalidInput as exc:  # the same checks as a merchant's account, named after this request's fields
        raise InvalidInput(exc.code, exc.message_nl, exc.message_en, field=f"debtor_{exc.field}") from None
    when = execution_date or date.today()
    if when < date.today():
        raise InvalidInput(
            "execution_date_past",
            "De uitvoerdatum ligt in het verleden.",
            "The execution date lies in the past.",
            field="execution_date",
        )
    payouts = list(
        session.scalars(
            select(Payout)
            .where(Payout.status == SpendStatus.BURNED, Payout.batch_id.is_(None))
            .order_by(Payout.id)
            .with_for_update()
        )
    )
    if not payouts:
        raise Conflict("nothing_to_pay", "Er staan geen uitbetalingen klaar.", "No payouts are waiting.")
    merchants = {
        m.id: m
        for m in session.scalars(select(Merchant).where(Merchant.id.in_({p.merchant_id for p in payouts})))
    }
    coins = catalogue(session)
    config = {"name": debtor_name, "IBAN": iban, "batch": True, "currency": "EUR"}
    if bic:
        config["BIC"] = bic
    transfer = SepaTransfer(config, schema=SEPA_SCHEMA, clean=True)
    for payout in payouts:
        merchant = merchants[payout.merchant_id]
        payment = {
            "name": merchant.name,
            "IBAN": merchant.iban,
            "amount": int(payout.amount_cents),
            "execution_date": when,
            "description": f"Socialcoin uitbetaling {payout.id} ({coins.symbol(payout.coin, 'munten')}) "
            f"ref {payout.chain_reference[2:18]}",
            "endtoend_id": _end_to_end(payout),
        }
        if merchant.bic:
            payment["BIC"] = merchant.bic
        transfer.add_payment(payment)
    try:
        xml = transfer.export(validate=True)
    except ValidationError as exc:
        raise InvalidInput(
            "sepa_invalid",
            "Het betaalbestand voldoet niet aan het SEPA-schema. Controleer de rekeninggegevens.",
            "The payment file does not meet the SEPA schema. Check the account details.",
            detail=str(exc.__cause__ or exc),
        ) from exc
    batch = PayoutBatch(
        message_id=transfer.msg_id,
        total_cents=sum(int(p.amount_cents) for p in payouts),
        xml=xml.decode("utf-8"),
    )
    session.add(batch)
    session.flush()
    claimed = rows_changed(
        session,
        update(Payout)
        .where(
            Payout.id.in_([p.id for p in payouts]),
            Payout.status == SpendStatus.BURNED,
            Payout.batch_id.is_(None),
        )
        .values(status=SpendStatus.BATCHED, batch_id=batch.id)
        .execution_options(synchronize_session="fetch"),
    )
    if claimed != len(payouts):  # cannot happen under the write transaction's lock; never write it twice
        raise Conflict(
            "payouts_batched_meanwhile",
            "Een deel van deze uitbetalingen is net in een ander betaalbestand gezet. Probeer het opnieuw.",
            "Some of these payouts were put in another batch a moment ago. Try again.",
        )
    return batch


def list_batches(session: Session, *, limit: int = 100, offset: int = 0) -> list[PayoutBatch]:
    return list(
        session.scalars(select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(limit).offset(offset))
    )


def get_batch(session: Session, batch_id: int, *, lock: bool = False) -> PayoutBatch:
    batch = session.get(PayoutBatch, batch_id, with_for_update=lock)
    if batch is None:
        raise NotFound(
            "payout_batch_not_found",
            f"Betaalbestand {batch_id} bestaat niet.",
            f"Payout batch {batch_id} does not exist.",
            field="batch_id",
            id=batch_id,
        )
    return batch


def batch_counts(session: Session, batch_ids: list[int]) -> dict[int, int]:
    if not batch_ids:
        return {}
    rows = session.execute(
        select(Payout.batch_id, func.count()).where(Payout.batch_id.in_(batch_ids)).group_by(Payout.batch_id)
    ).all()
    return {batch_id: count for batch_id, count in rows if batch_id is not None}


def mark_paid(session: Session, batch_id: int) -> PayoutBatch:
    """The bank has executed the file: the batch and its payouts are paid (in the caller's write
    transaction)."""
    batch = get_batch(session, batch_id, lock=True)
    if batch.paid_at is not None:
        raise Conflict(
            "payout_batch_paid",
            f"Betaalbestand {batch_id} is al als betaald gemarkeerd.",
            f"Payout batch {batch_id} was already marked paid.",
            field="batch_id",
        )
    batch.paid_at = utcnow()
    session.execute(
        update(Payout)
        .where(Payout.batch_id == batch.id)
        .values(status=SpendStatus.PAID)
        .execution_options(synchronize_session="fetch")
    )
    return batch
