"""Numbers the contracts define, mirrored for Python (contracts/interfaces, contracts/libraries)."""

from __future__ import annotations

from enum import IntEnum

CENTS_PER_EURO = 100
# Mints come from it and burns go to it in Transfer events.
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class Kind(IntEnum):
    NONE = 0
    RESIDENT = 1
    MERCHANT = 2
    ORGANISATION = 3
    MUNICIPALITY = 4


class Purpose(IntEnum):
    """The purposes every registry starts with; municipalities may add more after these."""

    DEBT_SETTLEMENT = 0
    MUNICIPAL_SERVICES = 1
    LOCAL_SPENDING = 2
    SPORT_CULTURE = 3
    MOBILITY = 4
    ENERGY = 5
    EDUCATION = 6


class TransferRefusal(IntEnum):
    NONE = 0
    SYSTEM_PAUSED = 1
    COIN_EXPIRED = 2
    SENDER_NOT_REGISTERED = 3
    SENDER_FROZEN = 4
    RECEIVER_NOT_REGISTERED = 5
    RECEIVER_FROZEN = 6
    RECEIVER_OUTSIDE_AREA = 7
    PURPOSE_NOT_ACCEPTED = 8
    PERSON_TO_PERSON_NOT_ALLOWED = 9
    INSUFFICIENT_BALANCE = 10
    HOLDING_CAP_EXCEEDED = 11
    BURN_NOT_ALLOWED = 12
    REFUND_EXCEEDS_PAYMENT = 13


class BurnReason(IntEnum):
    DEBT_SETTLEMENT = 0
    SERVICE_REDEMPTION = 1
    MERCHANT_PAYOUT = 2
    EXPIRY_RECLAIM = 3


def purpose_set(*purposes: int) -> int:
    """The bit set a participant record stores for the purposes it accepts."""
    bits = 0
    for purpose in purposes:
        bits |= 1 << int(purpose)
    return bits
