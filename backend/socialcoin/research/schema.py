"""The frames of the research toolkit, column by column: the data dictionary.

Every loader (the backend's index or a chain's logs) returns frames with exactly these columns and types,
and every export writes them with these descriptions. Amounts are integers in the coin's smallest unit, a
euro cent (a coin is worth exactly EUR 1.00, so 100 units), never floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Subtype(StrEnum):
    """What a Transfer event was, from the event logged beside it in the same transaction."""

    ACTIVITY_REWARD = "activity_reward"  # minted for an activity an organisation verified (ActivityMinted)
    REWARD_GRANT = "reward_grant"  # minted from a month's rewards file (RewardGranted)
    ADMIN_MINT = "admin_mint"  # minted by the municipality directly (AdminMinted)
    PAYMENT = "payment"  # a resident paid a merchant or organisation (PaymentMade, payee not a resident)
    PERSON_TO_PERSON = "person_to_person"  # a resident paid another resident (PaymentMade)
    REFUND = "refund"  # a payee gave (part of) a payment back (PaymentRefunded)
    DEBT_SETTLEMENT = "debt_settlement"  # burned against a debt (DebtSettled)
    SERVICE_REDEMPTION = "service_redemption"  # burned for a municipal service (ServiceRedeemed)
    MERCHANT_PAYOUT = "merchant_payout"  # a merchant's coins burned for a payout in euros (PayoutRedeemed)
    EXPIRY_RECLAIM = "expiry_reclaim"  # an expired coin's balance burned (ExpiredReclaimed)
    RECOVERY = "recovery"  # a lost wallet's balance moved to its replacement (BalanceRecovered)
    OTHER = "other"  # a Transfer with none of the above beside it (none is expected)


class SarafuSubtype(StrEnum):
    """The `transfer_subtype` of the Sarafu dataset (Mattsson, Criscione & Ruddick, Scientific Data 2022),
    so that methods published on it run on ours unchanged."""

    STANDARD = "STANDARD"  # between users
    DISBURSEMENT = "DISBURSEMENT"  # from the system to a user
    RECLAMATION = "RECLAMATION"  # from a user back to the system
    AGENT_OUT = "AGENT_OUT"  # a user cashing out to national currency


# Our subtypes in Sarafu's terms. A recovery moves a person's own balance between their two addresses:
# Sarafu has no such thing, and it is left out of what Sarafu's methods see (None).
SARAFU: dict[Subtype, SarafuSubtype | None] = {
    Subtype.ACTIVITY_REWARD: SarafuSubtype.DISBURSEMENT,
    Subtype.REWARD_GRANT: SarafuSubtype.DISBURSEMENT,
    Subtype.ADMIN_MINT: SarafuSubtype.DISBURSEMENT,
    Subtype.PAYMENT: SarafuSubtype.STANDARD,
    Subtype.PERSON_TO_PERSON: SarafuSubtype.STANDARD,
    Subtype.REFUND: SarafuSubtype.STANDARD,
    Subtype.DEBT_SETTLEMENT: SarafuSubtype.RECLAMATION,
    Subtype.SERVICE_REDEMPTION: SarafuSubtype.RECLAMATION,
    Subtype.MERCHANT_PAYOUT: SarafuSubtype.AGENT_OUT,
    Subtype.EXPIRY_RECLAIM: SarafuSubtype.RECLAMATION,
    Subtype.RECOVERY: None,
    Subtype.OTHER: None,
}


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # pandas dtype as the loaders produce it
    meaning: str


ZERO = "0x0000000000000000000000000000000000000000"

TRANSFERS = (
    Column("block_number", "int64", "Block of the Transfer event"),
    Column("block_time", "datetime64[ns, UTC]", "Time of that block (UTC)"),
    Column("tx_hash", "string", "Transaction hash"),
    Column("log_index", "int64", "Position of the Transfer event in its block"),
    Column("coin", "string", "Address of the coin (see coins)"),
    Column("source", "string", f"Payer's address; {ZERO} for a mint"),
    Column("target", "string", f"Payee's address; {ZERO} for a burn"),
    Column("value", "int64", "Amount in euro cents (a coin is EUR 1.00)"),
    Column("subtype", "category", "What it was: " + ", ".join(s.value for s in Subtype)),
    Column(
        "transfer_subtype",
        "category",
        "The same in the Sarafu dataset's terms (STANDARD, DISBURSEMENT, RECLAMATION, AGENT_OUT); empty for "
        "a recovery",
    ),
    Column(
        "reference",
        "string",
        "The bytes32 beside it: payment, debt, service or payout reference, or a mint's claim id (keyed "
        "hashes: they name nothing by themselves); empty when none",
    ),
    Column("activity_id", "string", "For an activity reward: the activity's bytes32 id; else empty"),
)

PARTICIPANTS = (
    Column("address", "string", "Pseudonymous address"),
    Column("kind", "category", "resident, merchant, organisation or municipality"),
    Column("area", "string", "Area code (CBS wijk or buurt code, e.g. WK020201 or BU02020101)"),
    Column("registered_at", "datetime64[ns, UTC]", "When it was first registered"),
    Column("replaced_by", "string", "For a recovered (lost) address: the address it moved to; else empty"),
)

COINS = (
    Column("coin", "string", "Address of the coin"),
    Column("symbol", "string", "Its symbol"),
    Column("name", "string", "Its name"),
    Column("purpose", "category", "What it may be spent on (LOCAL_SPENDING, DEBT_SETTLEMENT, ...)"),
    Column("area", "string", "Area code where it may be spent"),
    Column("expiry", "datetime64[ns, UTC]", "When it expires; empty when never"),
    Column("person_to_person", "bool", "Whether residents may pay each other with it"),
    Column("holding_cap", "int64", "Most a resident may hold, in cents; 0 when no cap"),
    Column("created_at", "datetime64[ns, UTC]", "When it was created"),
)

FRAMES = {"transfers": TRANSFERS, "participants": PARTICIPANTS, "coins": COINS}
