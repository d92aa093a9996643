"""Merchants redeem coins for euros. A merchant asks for a payout; its coins are burned (reason
MerchantPayout) against the payout's reference; once the burn is confirmed the amount waits for the
next SEPA credit-transfer batch. The municipality makes the batch (a pain.001.001.03 file, checked
against the schema sepaxml ships), gives it to its bank, and marks it paid.

    pending -> burned -> batched -> paid;  pending -> failed (nothing burned, nothing to pay)
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..chain.constants import BurnReason
from ..db.models import Merchant, OutboxItem, Payout, PayoutBatch
from ..db.types import utcnow
from .admission import checked_bic, checked_iban
from .errors import Conflict, InvalidInput, NotFound
from .signing import (
    Holder,
    Intent,
    SignedAuthorization,
    coin_catalogue,
    derived_reference,
    earlier_request,
    prepare,
    relay,
    resolve_coin,
    tx_hash_of,
)

if TYPE_CHECKING:
    from ..runtime import Runtime

KEY_PREFIX = "payout"
SEPA_SCHEMA = "pain.001.001.03"


def _intent(
    runtime: Runtime, session: Session, merchant: Merchant, coin_ref: str, amount_cents: int, key: str
) -> Intent:
    coin = resolve_coin(session, coin_ref)
    reference = derived_reference(
        runtime.settings.secret_key.get_secret_value(), KEY_PREFIX, merchant.id, key
    )
    return Intent(
        coin=coin,
        sender=merchant.wallet_address,
        value=amount_cents,
        reference=reference,
        reason=BurnReason.MERCHANT_PAYOUT,
    )


def payout_typed_data(
    runtime: Runtime, session: Session, merchant: Merchant, coin: str, amount_cents: int, key: str
) -> dict[str, Any]:
    """For a merchant's own wallet: what to sign to redeem `amount_cents` (the reference follows from
    `key`)."""
    return prepare(
        runtime, session, Holder.of(merchant), _intent(runtime, session, merchant, coin, amount_cents, key)
    )


def request_payout(
    runtime: Runtime,
    session: Session,
    merchant: Merchant,
    *,
    coin: str,
    amount_cents: int,
    key: str,
    pin: str | None = None,
    signed: SignedAuthorization | None = None,
) -> Payout:
    """Burns the merchant's coins for euros. The same idempotency key returns the same payout."""
    outbox_key = f"{KEY_PREFIX}:{merchant.id}:{key}"
    existing = earlier_request(
        session,
        Payout,
        outbox_key,
        lambda earlier: (
            (earlier.coin, earlier.amount_cents) == (resolve_coin(session, coin).address, amount_cents)
        ),
    )
    if existing is not None:
        return existing
    intent = _intent(runtime, session, merchant, coin, amount_cents, key)
    relay(runtime, session, Holder.of(merchant), intent, outbox_key, pin=pin, signed=signed)
    payout = Payout(
        merchant_id=merchant.id,
        coin=intent.coin.address,
        amount_cents=amount_cents,
        chain_reference=intent.reference,
        status="pending",
        outbox_key=outbox_key,
    )
    session.add(payout)
    session.flush()
    return payout


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


def on_burn_finished(session: Session, item: OutboxItem) -> None:
    payout = session.scalar(select(Payout).where(Payout.outbox_key == item.idempotency_key))
    if payout is None or payout.status != "pending":
        return
    if item.status == "failed":
        payout.status = "failed"
        return
    payout.status = "burned"
    payout.tx_hash = tx_hash_of(session, item)
    payout.burned_at = utcnow()


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
    transfer per payout (its end-to-end id names the payout), paid from the municipality's account."""
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
            .where(Payout.status == "burned", Payout.batch_id.is_(None))
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
    symbols = {address: info.symbol for address, info in coin_catalogue(session).items()}
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
            "description": f"Socialcoin uitbetaling {payout.id} ({symbols.get(payout.coin, 'munten')}) "
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
    for payout in payouts:
        payout.status = "batched"
        payout.batch_id = batch.id
    session.flush()
    return batch


def list_batches(session: Session, *, limit: int = 100, offset: int = 0) -> list[PayoutBatch]:
    return list(
        session.scalars(select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(limit).offset(offset))
    )


def get_batch(session: Session, batch_id: int) -> PayoutBatch:
    batch = session.get(PayoutBatch, batch_id)
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
    return {batch_id: count for batch_id, count in rows}


def mark_paid(session: Session, batch_id: int) -> PayoutBatch:
    """The bank has executed the file: the batch and its payouts are paid."""
    batch = get_batch(session, batch_id)
    if batch.paid_at is not None:
        raise Conflict(
            "payout_batch_paid",
            f"Betaalbestand {batch_id} is al als betaald gemarkeerd.",
            f"Payout batch {batch_id} was already marked paid.",
            field="batch_id",
        )
    batch.paid_at = utcnow()
    for payout in session.scalars(select(Payout).where(Payout.batch_id == batch.id)):
        payout.status = "paid"
    session.flush()
    return batch
