"""Activation codes: how a resident admitted in a batch (with a wallet the municipality keeps, awaiting a PIN)
chooses their PIN, with the code from their letter (people.activate_resident).

- A code is random (12 characters from an alphabet without look-alikes: 60 bits) and shown once, in the
  answer that issues it: to the admin whose batch admitted the resident, or who reissued it. Only a hash
  keyed with the service's secret is kept, so neither the database nor any later request shows it again;
  a batch sent again says a code was issued before (`issued_before`), never which.
- Another code is an explicit reissue (POST /municipality/residents/{id}/activation-code, `socialcoin
  activation-code reissue`): it replaces the current one, which stops working at that moment.
- Every issue is a row with the token that made it and when (GET .../activation-codes shows them).
- The client that received a code acknowledges it once it is written down (the command line's letters
  file). A code never acknowledged (a run interrupted between the server's answer and the file) is
  `unacknowledged` on a re-run, and the command line reissues it: so every resident stays reachable.

A reissue and an activation lock the resident's row in their write transactions, so an activation with a
code checked just before a reissue commits is refused (still_current), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..db.base import rows_changed
from ..db.models import ActivationCode, ApiToken, Resident
from ..db.types import utcnow
from .batch import chunks
from .errors import Conflict, NotFound

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
LENGTH = 12
ADMISSION, REISSUE, PIN_RESET = "admission", "reissue", "pin_reset"


def new_code() -> str:
    """A fresh code, as XXXX-XXXX-XXXX."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(chars[i : i + 4] for i in range(0, LENGTH, 4))


def _typed(code: str) -> str:
    """A code as typed, without spaces and dashes, in capitals (the letter's code forgives those)."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def code_hash(secret: str, code: str) -> str:
    """What is stored of a code: HMAC-SHA256 under the service's secret (a stolen database alone cannot
    try codes against it)."""
    return hmac.new(secret.encode(), b"activation-code|" + _typed(code).encode(), hashlib.sha256).hexdigest()


def derived_code(secret: str, resident_id: int, address: str) -> str:
    """The code of a letter sent before codes were recorded (migration 0003): derived from the secret, the
    resident and the address. Works for such a resident until a code is reissued."""
    digest = hmac.new(
        secret.encode(), f"activation|{resident_id}|{address}".encode(), hashlib.sha256
    ).digest()
    number, chars = int.from_bytes(digest, "big"), []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "-".join("".join(chars[i : i + 4]) for i in range(0, LENGTH, 4))


@dataclass(frozen=True)
class Current:
    """A resident's current code as an activation reads it."""

    id: int
    code_hash: str | None


def current(session: Session, resident_id: int) -> Current | None:
    row = session.execute(
        select(ActivationCode.id, ActivationCode.code_hash).where(
            ActivationCode.resident_id == resident_id, ActivationCode.replaced_at.is_(None)
        )
    ).one_or_none()
    return None if row is None else Current(row.id, row.code_hash)


def matches(given: str, secret: str, code: Current | None, resident_id: int, address: str) -> bool:
    """Whether `given` is the resident's current code (constant time)."""
    if code is None:
        return False
    expected = code.code_hash or code_hash(secret, derived_code(secret, resident_id, address))
    return hmac.compare_digest(code_hash(secret, given), expected)


def still_current(session: Session, resident_id: int, code_id: int) -> bool:
    """In the activation's write transaction: locks the resident's row (a reissue takes the same lock) and
    says whether the code checked is still the current one."""
    session.execute(select(Resident.id).where(Resident.id == resident_id).with_for_update())
    return (
        session.scalar(
            select(ActivationCode.id).where(
                ActivationCode.id == code_id, ActivationCode.replaced_at.is_(None)
            )
        )
        is not None
    )


def mark_used(session: Session, code_id: int) -> None:
    session.execute(update(ActivationCode).where(ActivationCode.id == code_id).values(used_at=utcnow()))


# --------------------------------------------------------------------------------------------------
# Issuing
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A code just issued: shown in this answer, and never again."""

    id: int
    resident_id: int
    code: str
    reason: str
    issued_at: datetime


def issue_at_admission(
    session: Session, secret: str, resident_ids: list[int], issued_by: int | None
) -> dict[int, Issued]:
    """Codes for residents a batch admitted now (in its write transaction), by resident id: one insert."""
    if not resident_ids:
        return {}
    now = utcnow()
    codes = {resident_id: new_code() for resident_id in resident_ids}
    session.execute(
        insert(ActivationCode),
        [
            {
                "resident_id": resident_id,
                "code_hash": code_hash(secret, code),
                "reason": ADMISSION,
                "issued_at": now,
                "issued_by": issued_by,
            }
            for resident_id, code in codes.items()
        ],
    )
    issued: dict[int, Issued] = {}
    for part in chunks(resident_ids):
        query = select(ActivationCode.id, ActivationCode.resident_id).where(
            ActivationCode.resident_id.in_(part), ActivationCode.replaced_at.is_(None)
        )
        for code_id, resident_id in session.execute(query):
            issued[resident_id] = Issued(code_id, resident_id, codes[resident_id], ADMISSION, now)
    return issued


def _not_awaiting(session: Session, resident: Resident) -> Conflict:
    used = select(ActivationCode.id).where(
        ActivationCode.resident_id == resident.id, ActivationCode.used_at.is_not(None)
    )
    if session.scalar(used) is not None:
        return Conflict(
            "already_activated",
            f"Inwoner {resident.id} heeft met een activeringscode al een pincode gekozen: een nieuwe code "
            "is niet meer nodig.",
            f"Resident {resident.id} has chosen a PIN with an activation code already: a new code is of no "
            "use any more.",
            field="resident_id",
        )
    return Conflict(
        "not_awaiting_activation",
        f"Inwoner {resident.id} wacht niet op activering (een eigen wallet, of een pincode bij de "
        "aanmelding): er is geen activeringscode.",
        f"Resident {resident.id} is not awaiting activation (an own wallet, or a PIN given at admission): "
        "there is no activation code.",
        field="resident_id",
    )


def reissue(session: Session, secret: str, resident_id: int, issued_by: int) -> tuple[Resident, Issued]:
    """A new code for a resident awaiting activation, replacing the current one (in the caller's write
    transaction, under the lock on the resident's row that an activation takes too)."""
    resident = session.scalar(select(Resident).where(Resident.id == resident_id).with_for_update())
    if resident is None:
        raise NotFound(
            "resident_not_found",
            f"Inwoner {resident_id} bestaat niet.",
            f"Resident {resident_id} does not exist.",
            field="resident_id",
            id=resident_id,
        )
    if not resident.activation_pending:
        raise _not_awaiting(session, resident)
    return resident, replace(session, secret, resident_id, issued_by, REISSUE)


def replace(session: Session, secret: str, resident_id: int, issued_by: int | None, reason: str) -> Issued:
    """A new current code for the resident, for `reason` (in the caller's write transaction, holding the
    lock on the resident's row): the one before it stops working."""
    now, code = utcnow(), new_code()
    session.execute(
        update(ActivationCode)
        .where(ActivationCode.resident_id == resident_id, ActivationCode.replaced_at.is_(None))
        .values(replaced_at=now)
    )
    row = ActivationCode(
        resident_id=resident_id,
        code_hash=code_hash(secret, code),
        reason=reason,
        issued_at=now,
        issued_by=issued_by,
    )
    session.add(row)
    session.flush()
    return Issued(row.id, resident_id, code, reason, now)


def acknowledge(session: Session, code_ids: Iterable[int], token_id: int) -> int:
    """Marks codes this token issued as written down; returns how many were marked now. Codes another token
    issued are left alone: only who received a code can say it was kept."""
    marked, now = 0, utcnow()
    for part in chunks(sorted(set(code_ids))):
        marked += rows_changed(
            session,
            update(ActivationCode)
            .where(
                ActivationCode.id.in_(part),
                ActivationCode.issued_by == token_id,
                ActivationCode.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now),
        )
    return marked


# --------------------------------------------------------------------------------------------------
# What the municipality sees
# --------------------------------------------------------------------------------------------------


def states(session: Session, residents: Iterable[Resident]) -> dict[int, str]:
    """Where activation stands for residents found by a batch, by id: `activated`, `issued_before` (the
    current code was written down), `unacknowledged` (never written down: reissue it). Residents with an
    own wallet, or a PIN from their admission, are left out."""
    found: dict[int, str] = {}
    waiting = []
    for resident in residents:
        if resident.activation_pending:
            waiting.append(resident.id)
        elif resident.wallet_custody == "custodial":
            found[resident.id] = "activated"  # has a PIN (chosen with the code, or given at admission)
    for part in chunks(waiting):
        query = select(ActivationCode.resident_id, ActivationCode.acknowledged_at).where(
            ActivationCode.resident_id.in_(part), ActivationCode.replaced_at.is_(None)
        )
        for resident_id, acknowledged_at in session.execute(query):
            found[resident_id] = "unacknowledged" if acknowledged_at is None else "issued_before"
    return found


def history(session: Session, resident_id: int) -> list[tuple[ActivationCode, ApiToken | None]]:
    """Every code issued for the resident, oldest first, with the token that issued it."""
    query = (
        select(ActivationCode, ApiToken)
        .outerjoin(ApiToken, ApiToken.id == ActivationCode.issued_by)
        .where(ActivationCode.resident_id == resident_id)
        .order_by(ActivationCode.id)
    )
    return [(code, token) for code, token in session.execute(query)]


def status(code: ActivationCode) -> str:
    if code.used_at is not None:
        return "used"
    return "replaced" if code.replaced_at is not None else "current"
