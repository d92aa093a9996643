"""A resident's custodial wallet on its way to a new key: what the rest of the domain needs to know while a
PIN reset is under way (domain.pin_resets starts and ends one).

During a reset the resident's coins stay on the old address, frozen, until the registry's recovery moves
them; the new key waits in the reset's row. An activation with the reset's code seals that new key under
the new PIN (`new_key`), and nothing may be paid or signed with the old key meanwhile (`refuse_while_moving`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import PinReset
from .errors import Conflict


def open_reset(session: Session, resident_id: int) -> PinReset | None:
    """The resident's reset under way (at most one)."""
    return session.scalar(
        select(PinReset).where(PinReset.resident_id == resident_id, PinReset.ended_at.is_(None))
    )


def moving() -> Conflict:
    return Conflict(
        "wallet_moving",
        "Uw pincode is opnieuw ingesteld. Uw munten gaan nu over naar uw nieuwe pincode; tot dat klaar is, "
        "kunt u niet betalen. Uw munten blijven van u.",
        "Your PIN was reset. Your coins are moving to your new PIN; until that is done, you cannot pay. "
        "Your coins stay yours.",
    )


def refuse_while_moving(session: Session, resident_id: int) -> None:
    """Refuses paying, signing or changing the PIN while a reset of the resident is under way: the key the
    wallet holds now is sealed under the forgotten PIN, and the new one holds no coins yet."""
    if open_reset(session, resident_id) is not None:
        raise moving()
