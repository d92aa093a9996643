"""The tables. Personal data lives here (and can be erased here); the chain holds none of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .enums import (
    ActivityStatus,
    ClaimStatus,
    DebtStatus,
    Origin,
    OutboxStatus,
    RewardStatus,
    SpendStatus,
    TaskStatus,
    TxStatus,
)
from .types import UtcDateTime, utcnow

# Token amounts can exceed 64 bits in principle (uint256): stored as exact decimals.
Amount = Numeric(78, 0)


def status(enum: type[StrEnum], length: int = 20) -> Enum:
    """A column of an enum's values, stored as plain text (the same on SQLite and PostgreSQL)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Spend(Timestamped):
    """What every relayed spend (a payment, a debt settlement, a service order, a payout) records: coins of
    one coin going out of a holder's wallet under an authorization the holder gave, relayed through the
    outbox under `outbox_key` (the spend's kind, its holder and the client's idempotency key)."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    coin: Mapped[str] = mapped_column(String(42))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[SpendStatus] = mapped_column(status(SpendStatus), default=SpendStatus.PENDING, index=True)
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --------------------------------------------------------------------------------------------------
# Chain: the outbox of writes and the index of events
# --------------------------------------------------------------------------------------------------


class OutboxItem(Timestamped, Base):
    """One intended write to the chain, recorded before anything is signed. Its idempotency key makes a
    retry (of a request, a CSV row, a crashed batch) find the same item instead of adding another.

    `origin` and `subject_id` say which row of the domain asked for it (and is finished when it ends).
    A relayed spend also carries the spending `wallet`, its `coin`, the `amount` it moves out and the
    authorization's `auth_nonce`: what is in flight is read from these columns, never from payloads."""

    __tablename__ = "outbox_items"
    __table_args__ = (
        # An authorization nonce is used once per wallet and coin (NULLs, for other items, never clash).
        UniqueConstraint("coin", "wallet", "auth_nonce"),
        Index("ix_outbox_items_wallet_open", "wallet", "coin", "status"),
        Index("ix_outbox_items_origin_subject", "origin", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    signer: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[Origin] = mapped_column(status(Origin, 30))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    wallet: Mapped[str | None] = mapped_column(String(42))
    coin: Mapped[str | None] = mapped_column(String(42))
    amount: Mapped[int | None] = mapped_column(Amount)
    auth_nonce: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[OutboxStatus] = mapped_column(
        status(OutboxStatus), default=OutboxStatus.PENDING, index=True
    )
    tx_id: Mapped[int | None] = mapped_column(ForeignKey("chain_txs.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(80))
    error_detail: Mapped[str | None] = mapped_column(Text)


class ChainTx(Timestamped, Base):
    """A signed transaction. Stored (raw bytes, hash, nonce) before it is sent, so that after a crash
    it is found on chain or sent again as the very same transaction, never as a second one.

    When the node refuses it (a fee too low, a key without ether) it is signed again with the node's
    fees, under the same nonce; the earlier hashes are kept, since any one of them may still be mined.
    After `send_failures` refusals (or when it is not mined in time) it is stuck, and waits for the
    municipality to retry it or cancel it (a no-op under the same nonce, so later transactions flow)."""

    __tablename__ = "chain_txs"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    # Hashes of earlier signatures of this nonce (replaced: refused by the node, retried, cancelled).
    earlier_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[TxStatus] = mapped_column(status(TxStatus), default=TxStatus.SIGNED, index=True)
    # Sign it again (with the node's fees, or as a no-op when cancelling) before the next send.
    resign: Mapped[bool] = mapped_column(default=False)
    send_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    block_number: Mapped[int | None] = mapped_column(BigInteger, index=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)


class ChainOperation(Timestamped, Base):
    """An administrative chain write an admin asked for (pause, freeze, recover, reclaim, a new coin, the
    minter's allowance): who asked and why (the reason never goes on chain). Its outbox items carry its id
    (origin chain_operation)."""

    __tablename__ = "chain_operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))


class ChainEvent(Base):
    """A log of one of our contracts, decoded. Everything the pages and reports show derives from
    these rows, which the indexer keeps equal to the chain (confirmations, restarts, reorgs)."""

    __tablename__ = "chain_events"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index"),
        Index("ix_chain_events_contract_event", "contract", "event"),
        Index("ix_chain_events_event_id", "event", "id"),
        # A wallet's history and a till's incoming payments: newest (or after an id) first, by index.
        Index("ix_chain_events_from", "from_account", "event", "id"),
        Index("ix_chain_events_to", "to_account", "event", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))  # found by the unique (tx_hash, log_index) index
    log_index: Mapped[int] = mapped_column(Integer)
    contract: Mapped[str] = mapped_column(String(42))
    event: Mapped[str] = mapped_column(String(60))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    block_time: Mapped[datetime] = mapped_column(UtcDateTime)
    # args["from"] and args["to"] of the events that have them (Transfer, PaymentMade), as columns so
    # that a wallet's events are found by index rather than by reading every event's JSON.
    from_account: Mapped[str | None] = mapped_column(String(42))
    to_account: Mapped[str | None] = mapped_column(String(42))
    # For a Transfer: the event beside it in its transaction that says what it was (the issuer's mint
    # event before a mint; the burn, payment or recovery event after the others), copied at indexing
    # so that a history page reads one row per line.
    companion_event: Mapped[str | None] = mapped_column(String(60))
    companion_args: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class IndexedBlock(Base):
    """Hash of each block the indexer processed (recent ones), to notice a reorganisation."""

    __tablename__ = "indexed_blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_hash: Mapped[str] = mapped_column(String(66))


class Balance(Base):
    """Balance per (coin, account), maintained from Transfer events."""

    __tablename__ = "balances"

    coin: Mapped[str] = mapped_column(String(42), primary_key=True)
    account: Mapped[str] = mapped_column(String(42), primary_key=True)
    amount: Mapped[int] = mapped_column(Amount, default=0)


# --------------------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------------------


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_role_subject", "role", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(30))
    # The resident, merchant or organisation the token speaks for (None for municipal staff).
    subject_id: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The token that issued this one (None for a login, or a token made on the command line). Revoking a
    # token revokes the tree below it (domain.access.revoke_with_issued), found through this index.
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), index=True)


class PinAttempts(Base):
    """Wrong PINs (or activation codes) of one holder from one client, and that client's lock-out: the
    rule is domain/pin_attempts.py."""

    __tablename__ = "pin_attempts"

    # "resident:12" or "merchant:3"
    holder: Mapped[str] = mapped_column(String(40), primary_key=True)
    # "session" (signed-in requests), "device:<id>", "address:<ip>" or "untrusted" (see pin_attempts.py)
    client: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locks: Mapped[int] = mapped_column(Integer, default=0)  # lock-outs in a row: each doubles the next
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RateLimitCounter(Base):
    """One fixed window of a rate limit (db/rate_limits.py): hits so far and when the window ends."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch


# --------------------------------------------------------------------------------------------------
# People and organisations (personal data: off chain, erasable)
# --------------------------------------------------------------------------------------------------


class Resident(Timestamped, Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    case_number: Mapped[str] = mapped_column(String(60), unique=True)
    area: Mapped[str] = mapped_column(String(10))
    wallet_address: Mapped[str] = mapped_column(String(42), unique=True)
    # "own": the resident brought the address; "custodial": we keep the key, encrypted under the PIN.
    wallet_custody: Mapped[str] = mapped_column(String(10))
    wallet_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    # Admitted in a batch without a PIN: the custodial key is sealed under a key of the service until
    # the resident sets a PIN with the activation code from their letter (domain.people.activate_resident).
    activation_pending: Mapped[bool] = mapped_column(default=False, server_default="0")
    record_hash: Mapped[str] = mapped_column(String(66))
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    registration_key: Mapped[str] = mapped_column(String(200))


class ActivationCode(Base):
    """An activation code issued for a resident awaiting activation: at admission in a batch, or reissued by
    an admin (domain.activation_codes). The code itself is shown once, in the answer that issues it; only
    a hash keyed with the service's secret is kept. The resident's current code is the one not replaced."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    # HMAC-SHA256 of the code under the service's secret. None: a code from before these records (migration
    # 0003), derived from the secret as then (activation_codes.derived_code).
    code_hash: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(20))  # "admission" | "reissue" | "pin_reset"
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The token whose request issued it (None: before these records).
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    # When that token's holder said the code was written down (the command line's letters file).
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # a newer code replaced it
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the resident activated with it


class Organisation(Timestamped, Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    area: Mapped[str] = mapped_column(String(10))
    wallet_address: Mapped[str] = mapped_column(String(42), unique=True)
    record_hash: Mapped[str] = mapped_column(String(66))
    registration_key: Mapped[str] = mapped_column(String(200))


class Verifier(Timestamped, Base):
    """An organisation's verifier key, authorised for one coin (the key itself never reaches us)."""

    __tablename__ = "verifiers"
    __table_args__ = (UniqueConstraint("address", "coin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    address: Mapped[str] = mapped_column(String(42))
    coin: Mapped[str] = mapped_column(String(42))
    outbox_key: Mapped[str] = mapped_column(String(200))


class Merchant(Timestamped, Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    area: Mapped[str] = mapped_column(String(10))
    purposes: Mapped[int] = mapped_column(BigInteger)
    wallet_address: Mapped[str] = mapped_column(String(42), unique=True)
    wallet_custody: Mapped[str] = mapped_column(String(10))
    wallet_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    record_hash: Mapped[str] = mapped_column(String(66))
    registration_key: Mapped[str] = mapped_column(String(200))


class Notification(Base):
    """A message to a resident (a reminder, a decision, a payment); shown in the app, in both languages."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # What the message is about, when it is about a task or a suggested activity.
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    message_nl: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --------------------------------------------------------------------------------------------------
# Programmes, activities, tasks, claims
# --------------------------------------------------------------------------------------------------


class Programme(Timestamped, Base):
    """A budget for one coin: what the municipality set aside, in cents."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    coin: Mapped[str] = mapped_column(String(42))
    budget_cents: Mapped[int] = mapped_column(BigInteger)


class Activity(Timestamped, Base):
    """An activity of the catalogue. A resident's suggestion is a row too (status "suggested"): it has
    only a title, a description, a unit and an area until the municipality approves it and fills in
    the programme, the organisation that verifies, the value, the time frame and the cap."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    value_cents_per_unit: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    task_days: Mapped[int | None] = mapped_column(Integer)
    area: Mapped[str] = mapped_column(String(10))
    cap_units_per_month: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[ActivityStatus] = mapped_column(status(ActivityStatus), default=ActivityStatus.ACTIVE)
    suggested_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Task(Timestamped, Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    # assigned -> started -> finished -> attested -> approved -> minted; or rejected, or failed (on chain)
    status: Mapped[TaskStatus] = mapped_column(status(TaskStatus), default=TaskStatus.ASSIGNED, index=True)
    # The task's time frame runs from opens_at (assignment, or the activity's start if later) to due_at;
    # remind_at lies at 75% of it: a task not started by then gets a reminder.
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    remind_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    units: Mapped[int | None] = mapped_column(Integer)
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_path: Mapped[str | None] = mapped_column(String(400))
    evidence_hash: Mapped[str | None] = mapped_column(String(66))
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Claim(Timestamped, Base):
    """A verifier's signed attestation for a finished task, and the municipality's decision on it."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    claim_id: Mapped[str] = mapped_column(String(66), unique=True)
    coin: Mapped[str] = mapped_column(String(42))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    attestation: Mapped[dict[str, Any]] = mapped_column(JSON)
    # 65 bytes of a key, or a contract wallet's abi.encode(wallet, signature) of any length (ERC-1271).
    signature: Mapped[str] = mapped_column(Text)
    verifier: Mapped[str] = mapped_column(String(42))
    # attested -> approved -> minted | failed (approved again: a new attempt); or rejected
    status: Mapped[ClaimStatus] = mapped_column(status(ClaimStatus), default=ClaimStatus.ATTESTED, index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # The outbox item of the latest attempt to mint (1, 2, ...: the chain's claimUsed keeps it once).
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    outbox_key: Mapped[str | None] = mapped_column(String(200), index=True)


class Reward(Timestamped, Base):
    """A reward the municipality decided itself (a row of a month's spreadsheet): units of an activity for
    a resident, minted with grantBatch. The municipality's reference stays here; the chain gets a claim id
    derived from it with the service's secret. The amount counts against the programme's budget and the
    units against the activity's cap in the month of created_at."""

    __tablename__ = "rewards"
    # The cap per resident per month reads a resident's units of an activity in a month by this index.
    __table_args__ = (
        Index("ix_rewards_activity_resident_created", "activity_id", "resident_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_reference: Mapped[str] = mapped_column(String(64), unique=True)
    claim_id: Mapped[str] = mapped_column(String(66), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    coin: Mapped[str] = mapped_column(String(42))
    units: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # pending -> minted | failed (sent again: pending, a new attempt)
    status: Mapped[RewardStatus] = mapped_column(
        status(RewardStatus), default=RewardStatus.PENDING, index=True
    )
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    minted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --------------------------------------------------------------------------------------------------
# Debts, services, payouts
# --------------------------------------------------------------------------------------------------


class DebtCase(Timestamped, Base):
    __tablename__ = "debt_cases"
    # A creditor's reference names one debt: recording it twice is a mistake.
    __table_args__ = (UniqueConstraint("creditor", "creditor_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    creditor: Mapped[str] = mapped_column(String(200))
    creditor_reference: Mapped[str] = mapped_column(String(100))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    remaining_cents: Mapped[int] = mapped_column(BigInteger)
    chain_reference: Mapped[str] = mapped_column(String(66), unique=True)
    status: Mapped[DebtStatus] = mapped_column(status(DebtStatus), default=DebtStatus.OPEN)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Settlement(Spend, Base):
    """Coins burned against a debt case's reference (pending -> settled | failed)."""

    __tablename__ = "settlements"

    debt_case_id: Mapped[int] = mapped_column(ForeignKey("debt_cases.id"), index=True)


class Service(Timestamped, Base):
    """A municipal service residents can pay with coins (leges, a sport pass, an event)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="", server_default="")
    price_cents: Mapped[int] = mapped_column(BigInteger)
    purposes: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)


class Order(Spend, Base):
    """A municipal service paid by burning its price against the order's reference (pending -> paid |
    failed)."""

    __tablename__ = "orders"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    chain_reference: Mapped[str] = mapped_column(String(66), unique=True)


class PayoutBatch(Base):
    """A SEPA credit-transfer file (pain.001) the municipality's bank executes."""

    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Payout(Spend, Base):
    """A merchant's coins burned for euros (pending -> burned -> batched -> paid; or failed)."""

    __tablename__ = "payouts"

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    chain_reference: Mapped[str] = mapped_column(String(66), unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payout_batches.id"), index=True)


class Payment(Spend, Base):
    """A resident's payment to a merchant with a payment reference (pending -> confirmed | failed)."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_resident", "resident_id", "id"),)

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    # The till's reference as typed (a receipt number), when there is one; the chain gets chain_reference.
    reference: Mapped[str | None] = mapped_column(String(32))
    chain_reference: Mapped[str] = mapped_column(String(66))


class TillRequest(Base):
    """What a till asks to be paid: a short code (in the QR code's link and under it, to type) for a merchant
    and an amount, paid once under its own payment reference. Without an amount it is the standing QR code
    on the counter: the resident types the amount, and it may be paid any number of times."""

    __tablename__ = "till_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    # The payment's reference (payments.reference): "SC-" and the code.
    reference: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Refund(Spend, Base):
    """A merchant giving (part of) a resident's payment back, against the payment's chain reference
    (pending -> confirmed | failed)."""

    __tablename__ = "refunds"

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)


class ReceiveCode(Base):
    """A resident's code for being paid by another resident: shown on their own pay page, typed by the
    payer. It names the resident without telling anything about them (no name, no case number); a new
    code replaces the old one."""

    __tablename__ = "receive_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), unique=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Transfer(Spend, Base):
    """A resident's payment to another resident with a coin that allows it (pending -> confirmed |
    failed)."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index("ix_transfers_resident", "resident_id", "id"),
        Index("ix_transfers_recipient", "recipient_id", "id"),
    )

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    chain_reference: Mapped[str] = mapped_column(String(66))


# --------------------------------------------------------------------------------------------------
# Who did what
# --------------------------------------------------------------------------------------------------


class StaffAction(Base):
    """A request of municipal staff (an admin or a debt counsellor) that changes something, through the API
    or a page, and how it ended: recorded in one place for both (api/staff_log.py), with the token's label
    and role as they were. Reads are not recorded; a refused request is, with its status."""

    __tablename__ = "staff_actions"
    __table_args__ = (Index("ix_staff_actions_label_at", "label", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(10))  # "api" | "page"
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    route: Mapped[str] = mapped_column(String(100))  # the route's name; "" when no route answered
    # The ids the request named ({"resident_id": 12}) and the id of what it made ({"id": 7}).
    subjects: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[int] = mapped_column(Integer)  # the answer's HTTP status


class PinReset(Base):
    """A resident's forgotten PIN, reset by staff (domain.pin_resets). The custodial key sealed under the
    forgotten PIN cannot be opened, so the wallet moves on chain (the registry's recovery) to a new key the
    service keeps, which the resident seals under a new PIN with a new activation code. At most one reset of
    a resident is open (not ended) at a time."""

    __tablename__ = "pin_resets"
    __table_args__ = (
        Index(
            "ux_pin_resets_open",
            "resident_id",
            unique=True,
            sqlite_where=sql_text("ended_at IS NULL"),
            postgresql_where=sql_text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    old_address: Mapped[str] = mapped_column(String(42))
    new_address: Mapped[str] = mapped_column(String(42), unique=True)
    # The new key: sealed under the service's key until the resident chooses a PIN, then under the PIN. It
    # becomes the resident's wallet when the recovery is confirmed.
    new_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Freezes the old wallet (unless it was) and requests its recovery to the new address.
    request_operation_id: Mapped[int] = mapped_column(ForeignKey("chain_operations.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))  # "done" | "failed"
    error_code: Mapped[str | None] = mapped_column(String(100))  # why it failed
