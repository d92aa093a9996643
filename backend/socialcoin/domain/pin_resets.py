"""A forgotten PIN, reset by the municipality or a debt counsellor.

The custodial key is sealed under the PIN (domain.wallets) and the service never signs without it, so a
forgotten PIN cannot be replaced by another: the key under it cannot be opened by anyone. A reset therefore
moves the resident to a new key, with the chain's own recovery of a lost wallet:

1. `start`: a new key sealed under the service's key (as at a batch admission), a new activation code for
   the letter, the resident's sessions ended and the old PIN no longer accepted; on chain, in one
   operation, the old wallet is frozen (nothing can be paid with it meanwhile) and its recovery to the new
   address requested. All in one write transaction with the operation: nothing half done.
2. The resident chooses a new PIN with the new code (people.activate_resident seals the new key under it)
   and can sign in and see the coins; paying waits (domain.wallet_moves).
3. `complete_due` (a periodic job): once the registry's recovery delay has passed (3 days in production,
   none on the development chain), the recovery is executed: registration and every balance move to the
   new address.
4. `finish`: when that is confirmed, the new key becomes the resident's wallet and the reset ends.

A failed step ends the reset as failed, with the chain's reason; a new reset can then be started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..chain.errors import ChainUnavailable
from ..db.enums import OutboxStatus
from ..db.models import ChainOperation, OutboxItem, PinReset, Resident
from ..db.types import utcnow
from . import activation_codes, operations
from .access import Role
from .admission import case_reference
from .errors import Conflict, DomainError
from .fields import checked_text
from .notifications import notify
from .people import get_resident, revoke_tokens_of
from .wallet_moves import open_reset
from .wallets import create_wallet_awaiting_activation

log = logging.getLogger(__name__)

Status = Literal["requesting", "waiting", "moving", "done", "failed"]
DONE: Status = "done"
FAILED: Status = "failed"
EXECUTE_REASON = "PIN reset"


def execute_key(reset_id: int) -> str:
    """The idempotency key of a reset's second step: the periodic job may ask any number of times."""
    return f"pin-reset:{reset_id}:execute"


def latest(session: Session, resident_id: int) -> PinReset | None:
    return session.scalar(
        select(PinReset).where(PinReset.resident_id == resident_id).order_by(PinReset.id.desc()).limit(1)
    )


def _refuse_unless_resettable(session: Session, resident: Resident) -> PinReset | None:
    """Refuses a reset that cannot or need not be done; returns the resident's last reset."""
    if resident.wallet_custody != "custodial":
        raise Conflict(
            "no_custodial_wallet",
            f"Inwoner {resident.id} gebruikt een eigen wallet en heeft bij de service geen pincode. Een "
            "verloren eigen wallet herstelt u met een herstelaanvraag.",
            f"Resident {resident.id} uses an own wallet and has no PIN at the service. A lost own wallet is "
            "recovered with a recovery request.",
            field="resident_id",
        )
    if open_reset(session, resident.id) is not None:
        raise Conflict(
            "pin_reset_under_way",
            f"Voor inwoner {resident.id} loopt al een pincode-reset. Is de brief met de code kwijt? Maak "
            "dan een nieuwe activeringscode.",
            f"A PIN reset of resident {resident.id} is under way already. Is the letter with the code "
            "lost? Then make a new activation code.",
            field="resident_id",
        )
    last = latest(session, resident.id)
    if resident.activation_pending and (last is None or last.outcome != FAILED):
        raise Conflict(
            "not_activated",
            f"Inwoner {resident.id} heeft nog geen pincode gekozen: een nieuwe activeringscode is genoeg.",
            f"Resident {resident.id} has not chosen a PIN yet: a new activation code is enough.",
            field="resident_id",
        )
    return last


def refusal(session: Session, resident: Resident) -> Conflict | None:
    """Why a reset of this resident would be refused now (None: it can be started), for a page to say so
    instead of offering it."""
    try:
        _refuse_unless_resettable(session, resident)
    except Conflict as refused:
        return refused
    return None


@dataclass(frozen=True)
class Started:
    reset: PinReset
    code: activation_codes.Issued  # for the letter: shown once, in the answer that started the reset


def start(
    session: Session, operator: operations.Operator, resident_id: int, *, reason: str, requested_by: int
) -> Started:
    """Starts a reset (see the module's docstring): refused for an own wallet, a resident who never chose a
    PIN (a new activation code is enough), a reset already under way, or a wallet frozen for another
    reason (the recovery would unfreeze it)."""
    checked_reason = checked_text(reason, "reason", "een reden", "a reason")
    resident = get_resident(session, resident_id)
    last = _refuse_unless_resettable(session, resident)
    old_address, case_number = resident.wallet_address, resident.case_number
    new_address, ciphertext = create_wallet_awaiting_activation(operator.secret)
    started: list[tuple[PinReset, activation_codes.Issued]] = []

    def record(session: Session, operation: ChainOperation) -> None:
        """In the operation's write transaction, under the lock on the resident's row that an activation and
        a new activation code take too: of resets started at once, one is recorded."""
        locked = session.scalar(select(Resident).where(Resident.id == resident_id).with_for_update())
        assert locked is not None
        _refuse_unless_resettable(session, locked)
        if locked.wallet_address != old_address:
            raise Conflict(
                "wallet_moved",
                "De wallet van deze inwoner is net verplaatst. Probeer het opnieuw.",
                "This resident's wallet was moved a moment ago. Try again.",
                field="resident_id",
            )
        reset = PinReset(
            resident_id=resident_id,
            old_address=old_address,
            new_address=new_address,
            new_ciphertext=ciphertext,
            reason=checked_reason,
            requested_by=requested_by,
            request_operation_id=operation.id,
        )
        session.add(reset)
        locked.activation_pending, locked.pin_hash = True, None
        revoke_tokens_of(session, Role.RESIDENT, resident_id)
        code = activation_codes.replace(
            session, operator.secret, resident_id, requested_by, activation_codes.PIN_RESET
        )
        notify(
            session,
            resident_id,
            "pin_reset",
            "Uw pincode is opnieuw ingesteld. Kies een nieuwe pincode met de code uit de nieuwe brief. Uw "
            "munten gaan over naar uw nieuwe pincode; tot dat klaar is, kunt u niet betalen.",
            "Your PIN was reset. Choose a new PIN with the code in the new letter. Your coins are moving to "
            "your new PIN; until that is done, you cannot pay.",
        )
        session.flush()
        started.append((reset, code))

    operations.move_custodial_wallet(
        session,
        operator,
        lost_wallet=old_address,
        new_wallet=new_address,
        # On chain: a keyed hash, of this reset alone (never the case number).
        reference=case_reference(operator.secret, f"{case_number}/pin-reset/{new_address}"),
        reason=checked_reason,
        requested_by=requested_by,
        # A wallet frozen by a failed reset is this reset's to move; one frozen for another reason is not.
        may_be_frozen=last is not None and last.outcome == FAILED,
        then=record,
    )
    reset, code = started[0]
    return Started(reset, code)


# --------------------------------------------------------------------------------------------------
# The second step, and the end
# --------------------------------------------------------------------------------------------------


def _requested(session: Session, reset: PinReset) -> bool:
    """Whether the reset's first operation is confirmed."""
    operation = session.get_one(ChainOperation, reset.request_operation_id)
    return operations.view(session, None, operation).status == DONE


def complete_due(sessions: sessionmaker[Session], operator: operations.Operator) -> int:
    """Executes the recovery of every reset whose delay has passed (a periodic job); returns how many were
    queued now. What the chain refuses now (paused) is asked again at the next round."""
    queued = 0
    with sessions() as session:
        waiting = [
            reset
            for reset in session.scalars(select(PinReset).where(PinReset.ended_at.is_(None))).all()
            if _requested(session, reset)
            and session.scalar(
                select(ChainOperation.id).where(ChainOperation.idempotency_key == execute_key(reset.id))
            )
            is None
        ]
        if not waiting:
            return 0
        try:
            now = operator.chain.head().timestamp
            for reset in waiting:
                pending = operator.chain.recovery_request(reset.old_address)
                if pending is None or now < pending.executable_at:
                    continue
                try:
                    operations.execute_recovery(
                        session,
                        operator,
                        lost_wallet=reset.old_address,
                        new_wallet=reset.new_address,
                        reason=EXECUTE_REASON,
                        key=execute_key(reset.id),
                        requested_by=reset.requested_by,
                    )
                    queued += 1
                except DomainError as refusal:
                    log.warning("PIN reset %s waits: %s", reset.id, refusal.code)
        except ChainUnavailable:
            log.warning("PIN resets wait for the chain")
    return queued


def _end(reset: PinReset, outcome: str, error_code: str | None = None) -> None:
    reset.ended_at, reset.outcome, reset.error_code = utcnow(), outcome, error_code


def finish(session: Session, items: list[OutboxItem]) -> None:
    """A reset's ended operations (in the outbox's write transaction, after operations.finish has moved
    the address): a failed step ends the reset as failed; a confirmed recovery makes the new key the
    resident's wallet."""
    for item in items:
        operation = session.get(ChainOperation, item.subject_id or 0)
        if operation is None or operation.kind not in ("pin_reset", "recovery_execute"):
            continue
        query = select(PinReset).where(PinReset.ended_at.is_(None))
        if operation.kind == "pin_reset":
            query = query.where(PinReset.request_operation_id == operation.id)
        else:
            query = query.where(
                PinReset.old_address == operation.request["lost_wallet"],
                PinReset.new_address == operation.request["new_wallet"],
            )
        # Locked: an activation sealing the new key under the new PIN writes this row too.
        reset = session.scalar(query.with_for_update())
        if reset is None:
            continue
        if item.status != OutboxStatus.DONE:
            _end(reset, FAILED, item.error_code or "failed")
        elif operation.kind == "recovery_execute":
            resident = session.scalar(
                select(Resident).where(Resident.id == reset.resident_id).with_for_update()
            )
            assert resident is not None
            resident.wallet_address, resident.wallet_ciphertext = reset.new_address, reset.new_ciphertext
            _end(reset, DONE)
            notify(
                session,
                reset.resident_id,
                "wallet_moved",
                "Uw munten staan nu op uw nieuwe pincode. U kunt weer betalen.",
                "Your coins are now under your new PIN. You can pay again.",
            )


# --------------------------------------------------------------------------------------------------
# Where a reset stands
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetView:
    reset: PinReset
    # requesting (freezing and requesting on chain) | waiting (for the recovery delay) | moving | done |
    # failed
    status: Status
    executable_at: int | None  # from when the coins can move (None: not known now)


def view(session: Session, operator: operations.Operator | None, reset: PinReset) -> ResetView:
    """The reset's state; `operator` None: the chain is not asked (no date)."""
    if reset.outcome is not None:
        return ResetView(reset, DONE if reset.outcome == DONE else FAILED, None)
    if not _requested(session, reset):
        return ResetView(reset, "requesting", None)
    executing = session.scalar(
        select(ChainOperation.id).where(ChainOperation.idempotency_key == execute_key(reset.id))
    )
    if executing is not None:
        return ResetView(reset, "moving", None)
    executable_at = None
    if operator is not None:
        try:
            pending = operator.chain.recovery_request(reset.old_address)
            executable_at = None if pending is None else pending.executable_at
        except ChainUnavailable:
            executable_at = None
    return ResetView(reset, "waiting", executable_at)
