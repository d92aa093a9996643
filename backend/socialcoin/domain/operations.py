"""Chain administration through the backend: pause and unpause, freeze and unfreeze wallets, recover a
lost wallet (request, execute after the registry's delay, cancel), reclaim expired coins, create a coin
and raise or lower the backend minter's allowance.

Each is a ChainOperation (kind, the request with its reason, who asked) with one or more outbox items
("call"), signed by the operator key (SOCIALCOIN_OPERATOR_KEY: the registry's PAUSER and COMPLIANCE
roles, the issuer's MASTER_MINTER role, the factory's admin role; the registry's admin role to cancel a
recovery). Never by the backend's registrar key, which admits participants and can neither freeze nor
recover.
Everything the chain would refuse and that can be known beforehand (the signer's role, the state of the
system, the coin, the wallets) is checked first, so a refusal is a 4xx and nothing is queued; what the
chain refuses later becomes the operation's error code. The same idempotency key returns the same
operation; with a different request it is refused.

What the chain says (roles, the pause, participants, block times) is asked first; the operation and its
outbox items are then written in one write transaction, where a repeated request finds its earlier
operation. An executed recovery also moves the wallet address of the resident, merchant or organisation
in the database once the chain has confirmed it (`finish`, registered per origin in the bootstrap). A wallet
the service keeps (custodial) is refused: its new key would have to be sealed under the resident's PIN,
which an admin does not have, and an address whose key the service does not hold would leave the
resident unable to pay or sign in with the PIN.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..areas import to_bytes8
from ..chain.constants import ZERO_ADDRESS, Kind
from ..chain.contracts import Contract
from ..chain.gateway import Chain, Participant, PendingRecovery
from ..chain.indexer import last_indexed_block
from ..chain.outbox import Outbox
from ..chain.payloads import ContractCall
from ..db.base import lock, writing
from ..db.enums import OPEN_ITEM, Origin, OutboxStatus
from ..db.models import Balance, ChainOperation, ChainTx, Merchant, Organisation, OutboxItem, Resident
from .admission import (
    WALLET_OWNERS,
    case_reference,
    ensure_wallet_free,
    wallet_in_use,
)
from .coins import catalogue
from .errors import Conflict, DomainError, InvalidInput, not_found
from .fields import checked_address, checked_area, checked_text
from .spending import checked_key, key_reused

log = logging.getLogger(__name__)

KEY_PREFIX = "chainop"
OPERATOR = "operator"
MINTER = "minter"
MAX_WALLETS = 500
# Holders per reclaimExpired transaction: ~25,000 gas each keeps a transaction near 5M gas.
RECLAIM_CHUNK = 200
# A new coin's redemption grace for merchants (days after expiry) and holding cap per resident (cents).
MAX_REDEMPTION_GRACE_DAYS = 366
MAX_HOLDING_CAP_CENTS = 10**11  # EUR 1,000,000,000: far above any sensible cap, far below any overflow


class OperatorKeyMissing(DomainError):
    status = 503


@dataclass(frozen=True)
class Operator:
    """What chain administration uses: the chain, the addresses of the service's signing keys by name
    (operator, registrar, minter, relayer; the operator's only when the service has one), and the
    service's secret, which keys the case references a recovery puts on chain."""

    chain: Chain
    keys: dict[str, str]
    secret: str


# --------------------------------------------------------------------------------------------------
# The operation and its state
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One outbox item: who signs, and the call."""

    signer: str
    call: ContractCall


@dataclass(frozen=True)
class OperationView:
    operation: ChainOperation
    status: str  # pending | done | failed
    tx_hashes: list[str]
    error_code: str | None
    error_detail: str | None
    result: dict[str, Any] | None


def _items(session: Session, operation_ids: list[int]) -> dict[int, list[OutboxItem]]:
    found: dict[int, list[OutboxItem]] = {ident: [] for ident in operation_ids}
    query = (
        select(OutboxItem)
        .where(OutboxItem.origin == Origin.CHAIN_OPERATION, OutboxItem.subject_id.in_(operation_ids))
        .order_by(OutboxItem.id)
    )
    for item in session.scalars(query):
        found[item.subject_id or 0].append(item)
    return found


def view(session: Session, chain: Chain | None, operation: ChainOperation) -> OperationView:
    """The operation's state from its outbox items: failed when one failed, done when all are. A created
    coin's address is read from its transaction (`chain` None: not asked)."""
    items = _items(session, [operation.id])[operation.id]
    tx_ids = [item.tx_id for item in items if item.tx_id is not None]
    hashes = dict(session.execute(select(ChainTx.id, ChainTx.tx_hash).where(ChainTx.id.in_(tx_ids))).all())
    failed = next(
        (item for item in items if item.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED)), None
    )
    if failed is not None:
        status = "failed"
    elif items and all(item.status == OutboxStatus.DONE for item in items):
        status = "done"
    else:
        status = "pending"
    result: dict[str, Any] | None = None
    if status == "done" and tx_ids and chain is not None:
        # What the transaction made that the request could not know: a new coin's address, or from when a
        # requested recovery can be executed.
        if operation.kind == "create_coin":
            result = {"coin": chain.created_coin(hashes[tx_ids[0]])}
        elif operation.kind == "recovery_request":
            result = {"executable_at": chain.recovery_requested_executable_at(hashes[tx_ids[0]])}
    code = None if failed is None else failed.error_code or "failed"
    return OperationView(
        operation=operation,
        status=status,
        tx_hashes=[hashes[tx_id] for tx_id in dict.fromkeys(tx_ids)],
        error_code=code,
        error_detail=None if failed is None else failed.error_detail,
        result=result,
    )


def get_operation(session: Session, operation_id: int) -> ChainOperation:
    operation = session.get(ChainOperation, operation_id)
    if operation is None:
        raise not_found("Beheeropdracht", "operation", operation_id)
    return operation


# --------------------------------------------------------------------------------------------------
# Recording: idempotent, checked before anything is queued
# --------------------------------------------------------------------------------------------------


def _earlier_operation(session: Session, key: str, request: dict[str, Any]) -> ChainOperation | None:
    earlier = session.scalar(select(ChainOperation).where(ChainOperation.idempotency_key == key))
    if earlier is not None and earlier.request != request:
        raise key_reused()
    return earlier


def _record(
    session: Session,
    kind: str,
    key: str | None,
    request: dict[str, Any],
    requested_by: int | None,
    plan: Callable[[], list[Call]],
    check: Callable[[Session], None] | None = None,
    then: Callable[[Session, ChainOperation], None] | None = None,
) -> ChainOperation:
    """The earlier operation under `key` (the same request), or a new one: `plan` asks the chain and
    returns the calls (or refuses); then, in one write transaction, `check` refuses what the database says
    (an operation of the same kind on its way), the operation and its items are recorded, and `then` writes
    what goes with the operation. Nothing is written when any of them refuses."""
    key = checked_key(key) if key is not None else f"auto:{uuid.uuid4().hex}"
    request = {"kind": kind, **request}
    earlier = _earlier_operation(session, key, request)
    if earlier is not None:
        return earlier
    try:
        if check is not None:
            check(session)  # first what the database says: the chain's answer may be about to change
        calls = plan()
    except DomainError:
        # A twin under the same key, recorded since we looked, is refused by neither: it is the answer.
        earlier = _earlier_operation(session, key, request)
        if earlier is not None:
            return earlier
        raise
    try:
        with writing(session):
            # PostgreSQL: one operation of a kind at a time, so the look for the key and the check see
            # the same committed rows (else a twin committed between them reads as "on its way").
            lock(session, "operation", kind)
            earlier = _earlier_operation(session, key, request)
            if earlier is not None:
                return earlier
            if check is not None:
                check(session)
            operation = ChainOperation(
                kind=kind, idempotency_key=key, request=request, requested_by=requested_by
            )
            session.add(operation)
            session.flush()
            for n, call in enumerate(calls):
                Outbox.enqueue(
                    session,
                    f"{KEY_PREFIX}:{operation.id}:{n}",
                    call.call,
                    signer=call.signer,
                    origin=Origin.CHAIN_OPERATION,
                    subject_id=operation.id,
                )
            if then is not None:
                then(session, operation)
    except IntegrityError:  # PostgreSQL: the same key committed by another request between our looks
        session.rollback()
        earlier = _earlier_operation(session, key, request)
        if earlier is None:
            raise
        return earlier
    return operation


# The brownie script that does the same with the municipality's own key, for when the service has none.
SCRIPTS = {
    "pause": "pause.py",
    "unpause": "unpause.py",
    "freeze": "freeze.py",
    "unfreeze": "unfreeze.py",
    "recovery_request": "recover.py",
    "recovery_execute": "recover.py",
    "recovery_cancel": "recover.py",
    "pin_reset": "recover.py",
    "reclaim_expired": "reclaim.py",
    "create_coin": "create_coin.py",
    "minter_allowance_increase": "minter_budget.py",
    "minter_allowance_decrease": "minter_budget.py",
}


def require_operator(operator: Operator, kind: str) -> None:
    """503 operator_key_missing, naming the brownie script to use instead, when the service has no
    operator key."""
    if OPERATOR in operator.keys:
        return
    script = f"scripts/{SCRIPTS[kind]}"
    raise OperatorKeyMissing(
        "operator_key_missing",
        "Deze service heeft geen beheersleutel (SOCIALCOIN_OPERATOR_KEY) en kan dit daarom niet op de "
        f"keten doen. Gebruik het brownie-script {script} met de sleutel van de gemeente "
        f"(`brownie run {script} ... --network <netwerk>`, zie docs/scripts.md).",
        "This service has no operator key (SOCIALCOIN_OPERATOR_KEY), so it cannot do this on chain. Use "
        f"the brownie script {script} with the municipality's key (`brownie run {script} ... --network "
        "<network>`, see docs/scripts.md).",
        setting="SOCIALCOIN_OPERATOR_KEY",
        script=script,
    )


def _require_role(operator: Operator, contract: Contract, role: str, signer: str) -> None:
    address = operator.keys[signer]
    if not operator.chain.has_role(contract, role, address):
        raise Conflict(
            "signer_role_missing",
            f"De sleutel van de service ({address}) heeft op {contract} de rol {role} niet. Laat de "
            "gemeente die rol toekennen, of gebruik het brownie-script met de sleutel van de gemeente.",
            f"The service's key ({address}) does not hold {role} on {contract}. Have the municipality "
            "grant that role, or use the brownie script with the municipality's key.",
            signer=address,
            role=role,
            contract=str(contract),
        )


def _no_pending(kinds: tuple[str, ...]) -> Callable[[Session], None]:
    """A check that refuses while an operation of these kinds is on its way."""

    def check(session: Session) -> None:
        pending = session.scalar(
            select(ChainOperation)
            .join(OutboxItem, OutboxItem.subject_id == ChainOperation.id)
            .where(
                OutboxItem.origin == Origin.CHAIN_OPERATION,
                OutboxItem.status.in_(OPEN_ITEM),
                ChainOperation.kind.in_(kinds),
            )
            .limit(1)
        )
        if pending is not None:
            raise Conflict(
                "operation_pending",
                f"Opdracht {pending.id} ({pending.kind}) is nog onderweg. Wacht tot die klaar is.",
                f"Operation {pending.id} ({pending.kind}) is still on its way. Wait until it is done.",
                operation_id=pending.id,
            )

    return check


def _reason(reason: str | None, required: bool) -> str | None:
    if reason is None and not required:
        return None
    return checked_text(reason or "", "reason", "een reden", "a reason")


# --------------------------------------------------------------------------------------------------
# Pause
# --------------------------------------------------------------------------------------------------


def set_paused(
    session: Session,
    operator: Operator,
    paused: bool,
    *,
    key: str | None,
    reason: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Pauses (or unpauses) every coin: refused when it already is, or while another pause or unpause
    is on its way."""
    kind = "pause" if paused else "unpause"
    require_operator(operator, kind)

    def plan() -> list[Call]:
        _require_role(operator, Contract.REGISTRY, "PAUSER_ROLE", OPERATOR)
        if operator.chain.paused() == paused:
            if paused:
                raise Conflict(
                    "already_paused",
                    "Socialcoin staat al stil. Er is niets veranderd.",
                    "Socialcoin is already paused. Nothing was changed.",
                )
            raise Conflict(
                "not_paused",
                "Socialcoin staat niet stil. Er is niets veranderd.",
                "Socialcoin is not paused. Nothing was changed.",
            )
        return [Call(OPERATOR, ContractCall(Contract.REGISTRY, kind, []))]

    request = {"reason": _reason(reason, False)}
    return _record(session, kind, key, request, requested_by, plan, _no_pending(("pause", "unpause")))


# --------------------------------------------------------------------------------------------------
# Freeze and unfreeze (the compliance role, with the operator key)
# --------------------------------------------------------------------------------------------------


def _checked_wallets(wallets: list[str], field: str = "wallet_addresses") -> list[str]:
    if not 1 <= len(wallets) <= MAX_WALLETS:
        raise InvalidInput(
            "wallets_count",
            f"Geef 1 tot {MAX_WALLETS} walletadressen.",
            f"Give 1 to {MAX_WALLETS} wallet addresses.",
            field=field,
            maximum=MAX_WALLETS,
        )
    checked = [checked_address(w, f"{field}[{i}]") for i, w in enumerate(wallets)]
    return list(dict.fromkeys(checked))


def set_frozen(
    session: Session,
    operator: Operator,
    frozen: bool,
    *,
    wallet_addresses: list[str],
    reason: str,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Freezes (or unfreezes) registered wallets: they can neither send nor receive. Every wallet must be
    registered and not frozen already (or frozen, to unfreeze)."""
    kind = "freeze" if frozen else "unfreeze"
    wallets = _checked_wallets(wallet_addresses)
    checked_reason = _reason(reason, True)
    require_operator(operator, kind)

    def plan() -> list[Call]:
        _require_role(operator, Contract.REGISTRY, "COMPLIANCE_ROLE", OPERATOR)
        found = operator.chain.participants(wallets)
        unknown = [wallet for wallet in wallets if not found[wallet].registered]
        unchanged = [
            wallet for wallet in wallets if found[wallet].registered and found[wallet].frozen == frozen
        ]
        if unknown:
            raise InvalidInput(
                "wallet_not_registered",
                f"Deze wallets zijn niet aangemeld bij de munt: {', '.join(unknown)}. Er is niets veranderd.",
                f"These wallets are not registered: {', '.join(unknown)}. Nothing was changed.",
                field="wallet_addresses",
                wallet_addresses=unknown,
            )
        if unchanged:
            nl, en = ("al bevroren", "already frozen") if frozen else ("niet bevroren", "not frozen")
            raise Conflict(
                "wallet_already_frozen" if frozen else "wallet_not_frozen",
                f"Deze wallets zijn {nl}: {', '.join(unchanged)}. Laat ze weg; er is niets veranderd.",
                f"These wallets are {en}: {', '.join(unchanged)}. Leave them out; nothing was changed.",
                field="wallet_addresses",
                wallet_addresses=unchanged,
            )
        return [Call(OPERATOR, ContractCall(Contract.REGISTRY, kind, [wallets]))]

    request = {"wallet_addresses": wallets, "reason": checked_reason}
    return _record(session, kind, key, request, requested_by, plan)


# --------------------------------------------------------------------------------------------------
# Recovery of a lost wallet
# --------------------------------------------------------------------------------------------------


def _holder_of(session: Session, address: str) -> tuple[Resident | Merchant | Organisation, str, str] | None:
    """The record holding this wallet address, with how to name its owner (Dutch, English)."""
    for model, nl, en in WALLET_OWNERS:
        row = cast(
            "Resident | Merchant | Organisation | None",
            session.scalar(select(model).where(model.wallet_address == address)),
        )
        if row is not None:
            return row, nl, en
    return None


def _refuse_while_paused(operator: Operator) -> None:
    if operator.chain.paused():
        raise Conflict(
            "system_paused",
            "Socialcoin staat stil (gepauzeerd); een herstel wacht tot de pauze voorbij is.",
            "Socialcoin is paused; a recovery waits until the pause is over.",
        )


def _pending_recovery(operator: Operator, lost: str) -> PendingRecovery:
    pending = operator.chain.recovery_request(lost)
    if pending is None:
        raise Conflict(
            "no_recovery_request",
            f"Voor wallet {lost} loopt geen herstelaanvraag. Vraag eerst aan "
            "(POST /municipality/chain/recovery/request).",
            f"Wallet {lost} has no pending recovery request. Request one first "
            "(POST /municipality/chain/recovery/request).",
            field="lost_wallet",
        )
    return pending


def _recoverable(session: Session, operator: Operator, lost: str, new: str) -> Participant:
    """What a recovery request needs from the chain and the records, refused otherwise: `lost` registered
    without a pending request, `new` never used (nor lost), the system not paused. Returns `lost` as the
    chain has it."""
    chain = operator.chain
    participants = chain.participants([lost, new])
    if not participants[lost].registered:
        raise InvalidInput(
            "wallet_not_registered",
            f"Wallet {lost} is niet aangemeld bij de munt; er valt niets te herstellen.",
            f"Wallet {lost} is not registered; there is nothing to recover.",
            field="lost_wallet",
        )
    try:
        if new in operator.keys.values():
            raise wallet_in_use("deze service", "this service")
        if chain.is_lost(new):
            raise Conflict(
                "wallet_lost",
                f"Adres {new} was zelf een verloren wallet en wordt nooit meer gebruikt. Kies een "
                "nieuw adres.",
                f"Address {new} was itself a lost wallet and is never used again. Choose a new address.",
            )
        ensure_wallet_free(session, new, {a for a, p in participants.items() if p.registered})
    except Conflict as refusal:
        refusal.field = "new_wallet"
        raise
    pending = chain.recovery_request(lost)
    if pending is not None:
        raise Conflict(
            "recovery_pending",
            f"Voor wallet {lost} loopt al een herstelaanvraag (naar {pending.replacement}). Trek die "
            "eerst in (POST /municipality/chain/recovery/cancel).",
            f"Wallet {lost} already has a pending recovery request (to {pending.replacement}). Cancel "
            "it first (POST /municipality/chain/recovery/cancel).",
            field="lost_wallet",
            replacement=pending.replacement,
        )
    _refuse_while_paused(operator)
    return participants[lost]


def request_recovery(
    session: Session,
    operator: Operator,
    *,
    lost_wallet: str,
    new_wallet: str,
    case_number: str,
    reason: str,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """The first step of moving a lost wallet to a new address (the registry's `requestRecovery`): the
    lost wallet must be registered and frozen, the new one unused. On chain goes a keyed hash of the
    municipality's case number, never the number. The second step (`execute_recovery`) can follow once
    the registry's recovery delay has passed; until then the admin or the lost key can cancel. A wallet
    the service keeps is refused (see the module's docstring)."""
    lost = checked_address(lost_wallet, "lost_wallet")
    new = checked_address(new_wallet, "new_wallet")
    case = checked_text(case_number, "case_number", "het zaaknummer", "the case number")
    checked_reason = _reason(reason, True)
    require_operator(operator, "recovery_request")
    if lost == new:
        raise InvalidInput(
            "same_wallet",
            "De nieuwe wallet is dezelfde als de verloren wallet.",
            "The new wallet is the same as the lost one.",
            field="new_wallet",
        )

    def plan() -> list[Call]:
        _require_role(operator, Contract.REGISTRY, "COMPLIANCE_ROLE", OPERATOR)
        found = _holder_of(session, lost)
        if found is not None and getattr(found[0], "wallet_custody", "own") == "custodial":
            _row, nl, en = found
            raise Conflict(
                "wallet_is_custodial",
                f"Deze wallet bewaart de gemeente voor {nl}: de sleutel staat versleuteld onder de pincode "
                "en raakt niet kwijt. Naar een ander adres verplaatsen kan de service niet: van dat adres "
                "heeft zij de sleutel niet, en de eigenaar zou dan niet meer met de pincode kunnen betalen "
                "of inloggen. Bevries de wallet als dat nodig is (POST /municipality/chain/freeze); een "
                "vergeten pincode zet u opnieuw met POST /municipality/residents/{id}/pin-reset, dat de "
                "wallet naar een nieuwe sleutel van de service verplaatst.",
                f"The municipality keeps this wallet for {en}: its key is stored encrypted under the PIN and "
                "is not lost. The service cannot move it to another address: it would not hold that "
                "address's key, and the owner could no longer pay or sign in with the PIN. Freeze the "
                "wallet if needed (POST /municipality/chain/freeze); a forgotten PIN is reset with POST "
                "/municipality/residents/{id}/pin-reset, which moves the wallet to a new key the service "
                "keeps.",
                field="lost_wallet",
            )
        if not _recoverable(session, operator, lost, new).frozen:
            raise Conflict(
                "wallet_not_frozen",
                f"Bevries wallet {lost} eerst (POST /municipality/chain/freeze), zodat de verloren sleutel "
                "tijdens de wachttijd niets kan uitgeven; vraag daarna het herstel aan.",
                f"Freeze wallet {lost} first (POST /municipality/chain/freeze), so that the lost key cannot "
                "spend during the delay; then request the recovery.",
                field="lost_wallet",
            )
        reference = case_reference(operator.secret, case)
        return [Call(OPERATOR, ContractCall(Contract.REGISTRY, "requestRecovery", [lost, new, reference]))]

    request = {"lost_wallet": lost, "new_wallet": new, "case_number": case, "reason": checked_reason}
    return _record(session, "recovery_request", key, request, requested_by, plan)


def move_custodial_wallet(
    session: Session,
    operator: Operator,
    *,
    lost_wallet: str,
    new_wallet: str,
    reference: str,
    reason: str,
    requested_by: int | None,
    may_be_frozen: bool,
    then: Callable[[Session, ChainOperation], None],
) -> ChainOperation:
    """The chain's part of a PIN reset (domain.pin_resets): the wallet whose key is sealed under the
    forgotten PIN is frozen (unless it is) and its recovery to the new key the service made is requested, in
    one operation; `execute_recovery` follows after the registry's delay. `then` writes the reset in the
    operation's write transaction. The checks of `request_recovery`, but a custodial wallet is the point
    here; a wallet frozen already is refused unless `may_be_frozen` (the recovery would unfreeze it)."""
    lost = checked_address(lost_wallet, "lost_wallet")
    new = checked_address(new_wallet, "new_wallet")
    require_operator(operator, "pin_reset")

    def plan() -> list[Call]:
        _require_role(operator, Contract.REGISTRY, "COMPLIANCE_ROLE", OPERATOR)
        calls = []
        if not _recoverable(session, operator, lost, new).frozen:
            calls.append(Call(OPERATOR, ContractCall(Contract.REGISTRY, "freeze", [[lost]])))
        elif not may_be_frozen:
            raise Conflict(
                "wallet_frozen",
                "De wallet is bevroren. Een pincode-reset zou hem ontdooien: ontdooi hem eerst, als dat mag.",
                "The wallet is frozen. A PIN reset would unfreeze it: unfreeze it first, if that is allowed.",
                field="resident_id",
            )
        request = ContractCall(Contract.REGISTRY, "requestRecovery", [lost, new, reference])
        return [*calls, Call(OPERATOR, request)]

    request = {"lost_wallet": lost, "new_wallet": new, "case_reference": reference, "reason": reason}
    return _record(session, "pin_reset", None, request, requested_by, plan, then=then)


def execute_recovery(
    session: Session,
    operator: Operator,
    *,
    lost_wallet: str,
    new_wallet: str,
    reason: str | None,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """The second step (the registry's `executeRecovery`): once the delay has passed, the registration and
    the balance in every coin move to the new wallet, which must be the one the pending request names;
    once confirmed, the record in the database follows."""
    lost = checked_address(lost_wallet, "lost_wallet")
    new = checked_address(new_wallet, "new_wallet")
    require_operator(operator, "recovery_execute")

    def plan() -> list[Call]:
        chain = operator.chain
        _require_role(operator, Contract.REGISTRY, "COMPLIANCE_ROLE", OPERATOR)
        pending = _pending_recovery(operator, lost)
        if pending.replacement != new:
            raise Conflict(
                "recovery_other_wallet",
                f"De herstelaanvraag voor {lost} gaat naar {pending.replacement}, niet naar {new}. "
                "Controleer het adres, of trek de aanvraag in en vraag opnieuw aan.",
                f"The recovery request for {lost} goes to {pending.replacement}, not to {new}. Check the "
                "address, or cancel the request and request again.",
                field="new_wallet",
                replacement=pending.replacement,
            )
        now = chain.head().timestamp
        if now < pending.executable_at:
            raise Conflict(
                "recovery_not_due",
                f"De wachttijd loopt nog: uitvoeren kan vanaf {_date(pending.executable_at)}.",
                f"The delay has not passed: it can be executed from {_date(pending.executable_at)}.",
                field="lost_wallet",
                executable_at=pending.executable_at,
            )
        participants = chain.participants([lost, new])
        if not participants[lost].frozen:
            raise Conflict(
                "wallet_not_frozen",
                f"Wallet {lost} is intussen ontdooid. Bevries hem opnieuw, of trek de aanvraag in.",
                f"Wallet {lost} was unfrozen meanwhile. Freeze it again, or cancel the request.",
                field="lost_wallet",
            )
        try:
            ensure_wallet_free(session, new, {a for a, p in participants.items() if p.registered})
        except Conflict as refusal:
            refusal.field = "new_wallet"
            raise
        _refuse_while_paused(operator)
        return [Call(OPERATOR, ContractCall(Contract.REGISTRY, "executeRecovery", [lost]))]

    request = {"lost_wallet": lost, "new_wallet": new, "reason": _reason(reason, False)}
    return _record(session, "recovery_execute", key, request, requested_by, plan)


def cancel_recovery(
    session: Session,
    operator: Operator,
    *,
    lost_wallet: str,
    reason: str,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Withdraws a pending recovery request (the registry's `cancelRecovery`, which the admin or the lost
    key itself may call; here the operator key, which must hold the registry's admin role)."""
    lost = checked_address(lost_wallet, "lost_wallet")
    checked_reason = _reason(reason, True)
    require_operator(operator, "recovery_cancel")

    def plan() -> list[Call]:
        _require_role(operator, Contract.REGISTRY, "DEFAULT_ADMIN_ROLE", OPERATOR)
        _pending_recovery(operator, lost)
        return [Call(OPERATOR, ContractCall(Contract.REGISTRY, "cancelRecovery", [lost]))]

    request = {"lost_wallet": lost, "reason": checked_reason}
    return _record(session, "recovery_cancel", key, request, requested_by, plan)


def finish(session: Session, items: list[OutboxItem]) -> None:
    """The operations' ended items (in the outbox's write transaction): a confirmed recovery moves the
    record's wallet address, so the database follows the chain exactly once."""
    for item in items:
        if item.status != OutboxStatus.DONE or item.kind != ContractCall.kind:
            continue
        call = item.payload
        if call.get("function") != "executeRecovery" or call.get("contract") != Contract.REGISTRY:
            continue
        operation = session.get(ChainOperation, item.subject_id or 0)
        if operation is None:
            continue
        lost, new = operation.request["lost_wallet"], operation.request["new_wallet"]
        found = _holder_of(session, lost)
        if found is None:
            continue
        if _holder_of(session, new) is not None:
            # Checked before queueing; a record that took the address since must not break the outbox.
            log.error(
                "recovered wallet %s -> %s: the new address belongs to another record; not moved", lost, new
            )
            continue
        found[0].wallet_address = new


# --------------------------------------------------------------------------------------------------
# Reclaiming expired coins
# --------------------------------------------------------------------------------------------------

MAX_HOLDERS = 10_000


def _date(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, ValueError, OSError):  # a uint64 expiry beyond year 9999
        return f"unix {timestamp}"


def _indexed_holders(session: Session, chain: Chain, coin: str, expiry: int) -> list[str]:
    """Every account the index shows with a balance of `coin`, once the index has read past the expiry
    (after it no transfer can change a balance, so the list is complete)."""
    indexed = last_indexed_block(session, chain.deployment.start_block)
    indexed_time = chain.block_time(max(indexed, 0)) or 0
    if indexed_time < expiry:
        raise Conflict(
            "index_behind",
            "De index van de keten is nog niet bij de vervaldatum van de munt. Probeer het over een "
            "minuut opnieuw, of geef de houders zelf op.",
            "The chain index has not yet reached the coin's expiry. Try again in a minute, or give "
            "the holders yourself.",
            field="holders",
        )
    return list(
        session.scalars(
            select(Balance.account).where(Balance.coin == coin, Balance.amount > 0).order_by(Balance.account)
        ).all()
    )


def reclaim_expired(
    session: Session,
    operator: Operator,
    *,
    coin: str,
    holders: list[str] | None,
    credit_minter: bool,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Burns what holders have left of an expired coin (the issuer's `reclaimExpired`, in chunks of
    RECLAIM_CHUNK holders); `holders` None: every holder with a balance in the index. The total returns
    to the backend minter's allowance when `credit_minter`. Merchants are left out during the coin's
    redemption grace (they redeem their coins themselves); after it the chain turns what a merchant still
    holds into a payout, which the index records as one the service owes (payouts.record_expiry_payouts)."""
    require_operator(operator, "reclaim_expired")
    facts = catalogue(session).resolve(coin)
    if holders is not None:
        if not 1 <= len(holders) <= MAX_HOLDERS:
            raise InvalidInput(
                "holders_count",
                f"Geef 1 tot {MAX_HOLDERS} houders, of null voor alle houders.",
                f"Give 1 to {MAX_HOLDERS} holders, or null for every holder.",
                field="holders",
                maximum=MAX_HOLDERS,
            )
        holders = list(dict.fromkeys(checked_address(h, f"holders[{i}]") for i, h in enumerate(holders)))
    given = holders

    def plan() -> list[Call]:
        _require_role(operator, Contract.ISSUER, "MASTER_MINTER_ROLE", OPERATOR)
        if facts.expiry == 0:
            raise Conflict(
                "coin_never_expires",
                f"Munt {facts.symbol} verloopt nooit; er valt niets terug te halen.",
                f"Coin {facts.symbol} never expires; there is nothing to reclaim.",
                field="coin",
            )
        now = operator.chain.now()
        if now < facts.expiry:
            raise Conflict(
                "coin_not_expired",
                f"Munt {facts.symbol} verloopt pas op {_date(facts.expiry)}. Haal de munten daarna terug.",
                f"Coin {facts.symbol} expires only on {_date(facts.expiry)}. Reclaim the coins after that.",
                field="coin",
                expiry=facts.expiry,
            )
        credited = ZERO_ADDRESS
        if credit_minter:
            credited = operator.keys[MINTER]
            if not operator.chain.has_role(Contract.ISSUER, "MINTER_ROLE", credited):
                raise Conflict(
                    "minter_not_configured",
                    "De minter van de service is geen minter; het bedrag kan niet terug naar zijn budget. "
                    "Stuur credit_minter: false om alleen terug te halen.",
                    "The service's minter is not a minter; the amount cannot return to its allowance. "
                    "Send credit_minter: false to reclaim only.",
                    field="credit_minter",
                )
        targets = (
            given
            if given is not None
            else _indexed_holders(session, operator.chain, facts.address, facts.expiry)
        )
        merchants_waiting = 0
        if targets and now < facts.redeemable_until:
            found = operator.chain.participants(targets)
            merchants_waiting = sum(found[holder].kind == Kind.MERCHANT for holder in targets)
            targets = [holder for holder in targets if found[holder].kind != Kind.MERCHANT]
        if not targets and merchants_waiting:
            until = _date(facts.redeemable_until)
            raise Conflict(
                "merchants_in_grace",
                f"Alleen ondernemers hebben nog {facts.symbol}; zij mogen die tot {until} zelf inwisselen. "
                "Daarna worden hun munten bij het terughalen een uitbetaling in euro's.",
                f"Only merchants still hold {facts.symbol}; they may redeem it themselves until {until}. "
                "After that, reclaiming turns their coins into payouts in euros.",
                field="coin",
                redeemable_until=facts.redeemable_until,
            )
        if not targets:
            raise Conflict(
                "nothing_to_reclaim",
                f"Niemand heeft nog {facts.symbol}; er valt niets terug te halen.",
                f"Nobody holds {facts.symbol} any more; there is nothing to reclaim.",
                field="holders",
            )
        return [
            Call(
                OPERATOR,
                ContractCall(
                    Contract.ISSUER,
                    "reclaimExpired",
                    [facts.address, targets[i : i + RECLAIM_CHUNK], credited],
                ),
            )
            for i in range(0, len(targets), RECLAIM_CHUNK)
        ]

    request = {"coin": facts.address, "holders": holders, "credit_minter": credit_minter}
    return _record(session, "reclaim_expired", key, request, requested_by, plan)


# --------------------------------------------------------------------------------------------------
# A new coin
# --------------------------------------------------------------------------------------------------


def create_coin(
    session: Session,
    operator: Operator,
    *,
    name: str,
    symbol: str,
    purpose: str,
    area: str,
    expiry: int | None,
    person_to_person: bool,
    redemption_grace_days: int = 0,
    holding_cap_cents: int = 0,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Creates a coin with the factory (its admin role): one live coin per purpose and area, and a
    symbol no live coin uses (the API finds coins by symbol). `redemption_grace_days`: how long after
    expiry merchants may still redeem it for euros (only with an expiry); `holding_cap_cents`: the most a
    resident may hold (0: no cap)."""
    require_operator(operator, "create_coin")
    name = checked_text(name, "name", "de naam", "the name")
    symbol = symbol.strip().upper()
    if not (2 <= len(symbol) <= 11 and symbol.isascii() and symbol.isalnum()):
        raise InvalidInput(
            "symbol_invalid",
            "Een symbool heeft 2 tot 11 letters en cijfers (zoals GKW).",
            "A symbol has 2 to 11 letters and digits (such as GKW).",
            field="symbol",
        )
    purpose = purpose.strip().upper()
    area = checked_area(area)
    if not area.startswith(("GM", "WK")):
        raise InvalidInput(
            "coin_area_invalid",
            f"Een munt geldt in een gemeente (GM…) of een wijk (WK…), niet in '{area}'.",
            f"A coin is for a gemeente (GM…) or a wijk (WK…), not for '{area}'.",
            field="area",
        )
    expiry = int(expiry or 0)
    grace, cap = _checked_grace(redemption_grace_days, expiry), _checked_cap(holding_cap_cents)
    coins = catalogue(session)

    def plan() -> list[Call]:
        chain = operator.chain
        _require_role(operator, Contract.FACTORY, "DEFAULT_ADMIN_ROLE", OPERATOR)
        purpose_id = chain.purpose_id(purpose)
        if purpose_id is None:
            raise InvalidInput(
                "purpose_unknown",
                f"Doel '{purpose}' bestaat niet (zoals LOCAL_SPENDING of DEBT_SETTLEMENT).",
                f"Purpose '{purpose}' does not exist (such as LOCAL_SPENDING or DEBT_SETTLEMENT).",
                field="purpose",
            )
        now = chain.now()
        if expiry and expiry <= now:
            raise InvalidInput(
                "expiry_in_past",
                f"De vervaldatum ({_date(expiry)}) is al voorbij. Kies een latere, of geen.",
                f"The expiry ({_date(expiry)}) has passed. Choose a later one, or none.",
                field="expiry",
            )
        existing = chain.coin_for(purpose_id, area)
        if existing is not None and (chain.coin_expiry(existing) == 0 or now < chain.coin_expiry(existing)):
            raise Conflict(
                "coin_exists",
                f"Er is al een geldige munt voor {purpose} in {area} ({existing}).",
                f"A live coin for {purpose} in {area} already exists ({existing}).",
                field="area",
                coin=existing,
            )
        for taken in coins.with_symbol(symbol):
            if taken.live(now):
                raise Conflict(
                    "symbol_in_use",
                    f"Het symbool {symbol} hoort al bij een geldige munt ({taken.address}). Kies een ander.",
                    f"Symbol {symbol} already belongs to a live coin ({taken.address}). Choose another.",
                    field="symbol",
                    coin=taken.address,
                )
        spec = [name, symbol, purpose_id, "0x" + to_bytes8(area).hex(), expiry, person_to_person, grace, cap]
        return [Call(OPERATOR, ContractCall(Contract.FACTORY, "createCoin", [spec]))]

    request = {
        "name": name,
        "symbol": symbol,
        "purpose": purpose,
        "area": area,
        "expiry": expiry,
        "person_to_person": person_to_person,
        "redemption_grace_days": redemption_grace_days,
        "holding_cap_cents": cap,
    }
    return _record(session, "create_coin", key, request, requested_by, plan)


def _checked_grace(days: int, expiry: int) -> int:
    """The redemption grace in seconds: whole days, up to a year, and only for a coin that expires."""
    if not 0 <= days <= MAX_REDEMPTION_GRACE_DAYS:
        raise InvalidInput(
            "redemption_grace_invalid",
            f"De inwisseltermijn is 0 tot {MAX_REDEMPTION_GRACE_DAYS} dagen.",
            f"The redemption grace is 0 to {MAX_REDEMPTION_GRACE_DAYS} days.",
            field="redemption_grace_days",
        )
    if days and not expiry:
        raise InvalidInput(
            "redemption_grace_without_expiry",
            "Een inwisseltermijn voor ondernemers na de vervaldatum kan alleen bij een munt die vervalt. "
            "Geef een vervaldatum, of laat de termijn weg.",
            "A redemption grace for merchants after expiry needs a coin that expires. Give an expiry, or "
            "leave the grace out.",
            field="redemption_grace_days",
        )
    return days * 24 * 3600


def _checked_cap(cents: int) -> int:
    if not 0 <= cents <= MAX_HOLDING_CAP_CENTS:
        raise InvalidInput(
            "holding_cap_invalid",
            "Het maximum per inwoner is 0 (geen maximum) of een positief bedrag in centen.",
            "The holding cap per resident is 0 (no cap) or a positive amount in cents.",
            field="holding_cap_cents",
        )
    return cents


# --------------------------------------------------------------------------------------------------
# The backend minter's allowance
# --------------------------------------------------------------------------------------------------


def change_minter_allowance(
    session: Session,
    operator: Operator,
    increase: bool,
    *,
    amount_cents: int,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Raises (the issuer's `increaseMinterAllowance`, which also makes the backend's key a minter) or
    lowers (`decreaseMinterAllowance`, down to 0 at most) the backend minter's allowance by an amount.
    Never an absolute value: that would overwrite what an expiry reclaim credited back meanwhile."""
    kind = "minter_allowance_increase" if increase else "minter_allowance_decrease"
    require_operator(operator, kind)
    minter = operator.keys[MINTER]
    if amount_cents <= 0:
        raise InvalidInput(
            "amount_not_positive",
            "Het bedrag moet meer dan 0 zijn.",
            "The amount must be more than 0.",
            field="amount_cents",
        )

    def plan() -> list[Call]:
        _require_role(operator, Contract.ISSUER, "MASTER_MINTER_ROLE", OPERATOR)
        if not increase and not operator.chain.has_role(Contract.ISSUER, "MINTER_ROLE", minter):
            raise Conflict(
                "minter_not_configured",
                "De minter van de service is geen minter; er is geen ruimte om te verlagen.",
                "The service's minter is not a minter; there is no allowance to lower.",
                field="amount_cents",
            )
        function = "increaseMinterAllowance" if increase else "decreaseMinterAllowance"
        return [Call(OPERATOR, ContractCall(Contract.ISSUER, function, [minter, amount_cents]))]

    request = {"minter": minter, "amount_cents": amount_cents}
    return _record(session, kind, key, request, requested_by, plan)
