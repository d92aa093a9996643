"""Every status and kind a row can have, as enums: the models store their values, the domain compares with
them, and a typo is a failed import rather than a row no query ever finds."""

from __future__ import annotations

from enum import StrEnum


class Origin(StrEnum):
    """Why an outbox item exists: the part of the domain that asked for it, and that finishes it."""

    PAYMENT = "payment"
    DEBT_SETTLEMENT = "debt_settlement"
    SERVICE_ORDER = "service_order"
    PAYOUT = "payout"
    REFUND = "refund"
    TRANSFER = "transfer"  # a resident pays another resident (person to person)
    CLAIM_MINT = "claim_mint"
    REWARD_MINT = "reward_mint"
    REGISTRATION = "registration"
    VERIFIER = "verifier"
    CHAIN_OPERATION = "chain_operation"
    ADMINISTRATION = "administration"  # scripts, the demo and tests: nothing to finish


class OutboxStatus(StrEnum):
    PENDING = "pending"  # recorded, not yet in a signed transaction
    SUBMITTED = "submitted"  # in a signed transaction, sent or about to be
    DONE = "done"  # mined and confirmed
    FAILED = "failed"  # refused by the chain (simulated, or reverted too often); error_code says why
    CANCELLED = "cancelled"  # the municipality cancelled it while it was stuck; nothing happened on chain


OPEN_ITEM = (OutboxStatus.PENDING, OutboxStatus.SUBMITTED)


class TxStatus(StrEnum):
    SIGNED = "signed"  # stored, not yet accepted by the node
    SENT = "sent"  # the node has it
    MINED = "mined"  # in a block, not yet deep enough
    CONFIRMED = "confirmed"
    REVERTED = "reverted"
    STUCK = "stuck"  # the node kept refusing it, or did not mine it in time: waits for retry or cancel
    CANCELLING = "cancelling"  # replaced by a no-op with the same nonce, which is not mined yet
    CANCELLED = "cancelled"  # the no-op was mined: the nonce is used, the items did nothing


OPEN_TX = (TxStatus.SIGNED, TxStatus.SENT, TxStatus.MINED, TxStatus.CANCELLING)


class ActivityStatus(StrEnum):
    ACTIVE = "active"
    SUGGESTED = "suggested"
    REJECTED = "rejected"


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    STARTED = "started"
    FINISHED = "finished"
    ATTESTED = "attested"
    APPROVED = "approved"
    MINTED = "minted"
    REJECTED = "rejected"
    FAILED = "failed"


class ClaimStatus(StrEnum):
    ATTESTED = "attested"
    APPROVED = "approved"  # queued for minting
    MINTED = "minted"
    FAILED = "failed"  # the chain refused the mint; approving again makes a new attempt
    REJECTED = "rejected"


class RewardStatus(StrEnum):
    PENDING = "pending"
    MINTED = "minted"
    FAILED = "failed"  # the chain refused the mint; sending the row again makes a new attempt


class DebtStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class SpendStatus(StrEnum):
    """Where a relayed spend stands. Each spend reads "confirmed" in its own words (a settlement is
    settled, an order paid, a payout burned); a payout then goes on to batched and paid."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    SETTLED = "settled"
    PAID = "paid"
    BURNED = "burned"
    BATCHED = "batched"
    FAILED = "failed"
