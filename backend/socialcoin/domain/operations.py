"""Chain administration through the backend: pause and unpause, freeze and unfreeze wallets, recover a
lost wallet, reclaim expired coins, create a coin and set the backend minter's allowance.

Each is a ChainOperation (kind, the request with its reason, who asked) with one or more outbox items
("call"), signed by the operator key (SOCIALCOIN_OPERATOR_KEY: the registry's PAUSER and COMPLIANCE
roles, the issuer's MASTER_MINTER role, the factory's admin role) or, for freezing, by the registrar.
Everything the chain would refuse and that can be known beforehand (the signer's role, the state of the
system, the coin, the wallets) is checked first, so a refusal is a 4xx and nothing is queued; what the
chain refuses later becomes the operation's error code. The same idempotency key returns the same
operation; with a different request it is refused.

A recovery also moves the wallet address of the resident, merchant or organisation in the database once
the chain has confirmed it (`on_outbox_item`, registered in runtime.py). A wallet the service keeps
(custodial) is refused: its new key would have to be sealed under the resident's PIN, which an admin
does not have, and an address whose key the service does not hold would leave the resident unable to
pay or sign in with the PIN.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eth_utils import keccak, to_checksum_address
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD

from ..areas import to_bytes8
from ..chain.outbox import Outbox
from ..db.models import Balance, ChainOperation, ChainTx, Merchant, Organisation, OutboxItem, Resident
from .admission import (
    WALLET_OWNERS,
    checked_address,
    checked_area,
    checked_text,
    ensure_wallet_free,
    registered_on_chain,
    resolve_coin,
    wallet_in_use,
)
from .errors import Conflict, DomainError, InvalidInput, not_found
from .programmes import chain_read, coin_facts
from .signing import chain_now, checked_key, key_reused

if TYPE_CHECKING:
    from ..chain.gateway import Gateway
    from ..runtime import Runtime

log = logging.getLogger(__name__)

KEY_PREFIX = "chainop"
OPERATOR = "operator"
REGISTRAR = "registrar"
MAX_WALLETS = 500
# Holders per reclaimExpired transaction: ~25,000 gas each keeps a transaction near 5M gas.
RECLAIM_CHUNK = 200
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DEFAULT_ADMIN_ROLE = bytes(32)


def role_id(name: str) -> bytes:
    return keccak(text=name)


class OperatorKeyMissing(DomainError):
    status = 503


# --------------------------------------------------------------------------------------------------
# The operation and its state
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One outbox item: who signs and the ContractCall payload."""

    signer: str
    contract: str
    function: str
    args: list[Any]

    @property
    def payload(self) -> dict[str, Any]:
        return {"contract": self.contract, "function": self.function, "args": self.args}


@dataclass(frozen=True)
class OperationView:
    operation: ChainOperation
    status: str  # pending | done | failed
    tx_hashes: list[str]
    error_code: str | None
    error_detail: str | None
    result: dict[str, Any] | None


# Custom errors these operations can meet on chain after they were queued (the state moved in between).
REVERTS: dict[str, tuple[str, str]] = {
    "EnforcedPause": ("Socialcoin stond al stil.", "Socialcoin was already paused."),
    "ExpectedPause": ("Socialcoin stond niet stil.", "Socialcoin was not paused."),
    "RegistryAlreadyFrozen": (
        "Een van de wallets was al bevroren.",
        "One of the wallets was already frozen.",
    ),
    "RegistryNotFrozen": ("Een van de wallets was niet bevroren.", "One of the wallets was not frozen."),
    "RegistryNotRegistered": ("Een wallet is niet aangemeld.", "A wallet is not registered."),
    "RegistryAlreadyRegistered": (
        "De nieuwe wallet was al aangemeld.",
        "The new wallet was already registered.",
    ),
    "AccessControlUnauthorizedAccount": (
        "De sleutel van de service heeft de rol hiervoor niet (meer).",
        "The service's key does not (or no longer) hold the role for this.",
    ),
    "FactoryLiveCoinExists": (
        "Er is al een geldige munt voor dit doel en gebied.",
        "A live coin for this purpose and area already exists.",
    ),
    "FactoryExpiryInPast": ("De vervaldatum was al voorbij.", "The expiry had already passed."),
    "CoinNotExpired": ("De munt was nog niet verlopen.", "The coin had not expired yet."),
    "IssuerNotAMinter": ("De minter van de service is geen minter.", "The service's minter is not a minter."),
}


def error_texts(code: str | None) -> tuple[str | None, str | None]:
    """A failed operation's error in Dutch and English."""
    if code is None:
        return None, None
    return REVERTS.get(code, (f"De keten weigerde dit ({code}).", f"The chain refused this ({code})."))


def view(session: Session, gateway: Gateway, operation: ChainOperation) -> OperationView:
    """The operation's state from its outbox items: failed when one failed, done when all are."""
    items = session.scalars(
        select(OutboxItem)
        .where(OutboxItem.idempotency_key.in_(operation.outbox_keys))
        .order_by(OutboxItem.id)
    ).all()
    tx_ids = [item.tx_id for item in items if item.tx_id is not None]
    hashes = dict(session.execute(select(ChainTx.id, ChainTx.tx_hash).where(ChainTx.id.in_(tx_ids))).all())
    failed = next((item for item in items if item.status == "failed"), None)
    if failed is not None:
        status = "failed"
    elif items and all(item.status == "done" for item in items):
        status = "done"
    else:
        status = "pending"
    result = None
    if status == "done" and operation.kind == "create_coin" and tx_ids:
        result = {"coin": _created_coin(gateway, hashes[tx_ids[0]])}
    code = None if failed is None else failed.error_code or "failed"
    return OperationView(
        operation=operation,
        status=status,
        tx_hashes=[hashes[tx_id] for tx_id in dict.fromkeys(tx_ids)],
        error_code=code,
        error_detail=None if failed is None else failed.error_detail,
        result=result,
    )


def _created_coin(gateway: Gateway, tx_hash: str) -> str | None:
    with chain_read():
        receipt = gateway.web3.eth.get_transaction_receipt(tx_hash)
    events = gateway.factory.events.CoinCreated().process_receipt(receipt, errors=DISCARD)
    return to_checksum_address(events[0]["args"]["coin"]) if events else None


def get_operation(session: Session, operation_id: int) -> ChainOperation:
    operation = session.get(ChainOperation, operation_id)
    if operation is None:
        raise not_found("Beheeropdracht", "operation", operation_id)
    return operation


# --------------------------------------------------------------------------------------------------
# Recording: idempotent, checked before anything is queued
# --------------------------------------------------------------------------------------------------


def _record(
    session: Session,
    kind: str,
    key: str | None,
    request: dict[str, Any],
    requested_by: int | None,
    plan: Callable[[], list[Call]],
) -> ChainOperation:
    """The earlier operation under `key` (the same request), or a new one whose calls `plan` checks and
    returns; nothing is written when `plan` refuses."""
    key = checked_key(key) if key is not None else f"auto:{uuid.uuid4().hex}"
    request = {"kind": kind, **request}
    earlier = session.scalar(select(ChainOperation).where(ChainOperation.idempotency_key == key))
    if earlier is not None:
        if earlier.request != request:
            raise key_reused()
        return earlier
    calls = plan()
    operation = ChainOperation(
        kind=kind, idempotency_key=key, request=request, outbox_keys=[], requested_by=requested_by
    )
    session.add(operation)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "operation_in_progress",
            "Een verzoek met deze Idempotency-Key wordt al behandeld. Herhaal het straks voor het antwoord.",
            "A request with this Idempotency-Key is being handled. Repeat it shortly for its answer.",
            field="Idempotency-Key",
        ) from exc
    keys = [f"{KEY_PREFIX}:{operation.id}:{n}" for n in range(len(calls))]
    for item_key, call in zip(keys, calls, strict=True):
        Outbox.enqueue(session, item_key, "call", call.signer, call.payload)
    operation.outbox_keys = keys
    return operation


# The brownie script that does the same with the municipality's own key, for when the service has none.
SCRIPTS = {
    "pause": "pause.py",
    "unpause": "unpause.py",
    "recover": "recover.py",
    "reclaim_expired": "reclaim.py",
    "create_coin": "create_coin.py",
    "minter_allowance": "minter_budget.py",
}


def _signer_address(runtime: Runtime, signer: str) -> str:
    return runtime.outbox.signers[signer].address


def require_operator(runtime: Runtime, kind: str) -> None:
    """503 operator_key_missing, naming the brownie script to use instead, when the service has no
    operator key."""
    if OPERATOR in runtime.outbox.signers:
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


def _require_role(runtime: Runtime, contract_name: str, role: str, signer: str) -> None:
    contract = {
        "ParticipantRegistry": runtime.gateway.registry,
        "ActivityIssuer": runtime.gateway.issuer,
        "CoinFactory": runtime.gateway.factory,
    }[contract_name]
    address = _signer_address(runtime, signer)
    role_bytes = DEFAULT_ADMIN_ROLE if role == "DEFAULT_ADMIN_ROLE" else role_id(role)
    with chain_read():
        held = contract.functions.hasRole(role_bytes, address).call()
    if not held:
        raise Conflict(
            "signer_role_missing",
            f"De sleutel van de service ({address}) heeft op {contract_name} de rol {role} niet. Laat de "
            "gemeente die rol toekennen, of gebruik het brownie-script met de sleutel van de gemeente.",
            f"The service's key ({address}) does not hold {role} on {contract_name}. Have the municipality "
            "grant that role, or use the brownie script with the municipality's key.",
            signer=address,
            role=role,
            contract=contract_name,
        )


def _pending_operations(session: Session, kinds: tuple[str, ...]) -> list[ChainOperation]:
    keys = session.scalars(
        select(OutboxItem.idempotency_key).where(
            OutboxItem.status.in_(("pending", "submitted")),
            OutboxItem.idempotency_key.like(f"{KEY_PREFIX}:%"),
        )
    ).all()
    ids = {int(key.split(":")[1]) for key in keys}
    if not ids:
        return []
    return list(
        session.scalars(
            select(ChainOperation).where(ChainOperation.id.in_(ids), ChainOperation.kind.in_(kinds))
        ).all()
    )


def _reason(reason: str | None, required: bool) -> str | None:
    if reason is None and not required:
        return None
    return checked_text(reason or "", "reason", "een reden", "a reason")


# --------------------------------------------------------------------------------------------------
# Pause
# --------------------------------------------------------------------------------------------------


def set_paused(
    runtime: Runtime,
    session: Session,
    paused: bool,
    *,
    key: str | None,
    reason: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Pauses (or unpauses) every coin: refused when it already is, or while another pause or unpause
    is on its way."""
    kind = "pause" if paused else "unpause"
    require_operator(runtime, kind)

    def plan() -> list[Call]:
        _require_role(runtime, "ParticipantRegistry", "PAUSER_ROLE", OPERATOR)
        for pending in _pending_operations(session, ("pause", "unpause")):
            raise Conflict(
                "operation_pending",
                f"Opdracht {pending.id} ({pending.kind}) is nog onderweg. Wacht tot die klaar is.",
                f"Operation {pending.id} ({pending.kind}) is still on its way. Wait until it is done.",
                operation_id=pending.id,
            )
        with chain_read():
            now_paused = runtime.gateway.registry.functions.paused().call()
        if now_paused == paused:
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
        return [Call(OPERATOR, "ParticipantRegistry", kind, [])]

    return _record(session, kind, key, {"reason": _reason(reason, False)}, requested_by, plan)


# --------------------------------------------------------------------------------------------------
# Freeze and unfreeze (the registrar's role)
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
    runtime: Runtime,
    session: Session,
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
    reason = _reason(reason, True)

    def plan() -> list[Call]:
        _require_role(runtime, "ParticipantRegistry", "REGISTRAR_ROLE", REGISTRAR)
        unknown, unchanged = [], []
        with chain_read(), runtime.gateway.web3.batch_requests() as batch:
            for wallet in wallets:
                batch.add(runtime.gateway.registry.functions.participant(wallet))
            answers = batch.execute()
        for wallet, (kind_, _area, _purposes, is_frozen, _hash) in zip(wallets, answers, strict=True):
            if int(kind_) == 0:
                unknown.append(wallet)
            elif bool(is_frozen) == frozen:
                unchanged.append(wallet)
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
        return [Call(REGISTRAR, "ParticipantRegistry", kind, [wallets])]

    return _record(session, kind, key, {"wallet_addresses": wallets, "reason": reason}, requested_by, plan)


# --------------------------------------------------------------------------------------------------
# Recovery of a lost wallet
# --------------------------------------------------------------------------------------------------


def _holder_of(session: Session, address: str) -> tuple[Resident | Merchant | Organisation, str, str] | None:
    """The record holding this wallet address, with how to name its owner (Dutch, English)."""
    for model, nl, en in WALLET_OWNERS:
        row = session.scalar(select(model).where(model.wallet_address == address))
        if row is not None:
            return row, nl, en
    return None


def recover(
    runtime: Runtime,
    session: Session,
    *,
    lost_wallet: str,
    new_wallet: str,
    reason: str,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Moves a lost wallet's registration and its balance in every coin to a new address (the registry's
    `recover`, which calls each coin's `recoverBalance`); once confirmed, the record in the database
    follows. A wallet the service keeps is refused (see the module's docstring)."""
    lost = checked_address(lost_wallet, "lost_wallet")
    new = checked_address(new_wallet, "new_wallet")
    reason = _reason(reason, True)
    require_operator(runtime, "recover")
    if lost == new:
        raise InvalidInput(
            "same_wallet",
            "De nieuwe wallet is dezelfde als de verloren wallet.",
            "The new wallet is the same as the lost one.",
            field="new_wallet",
        )

    def plan() -> list[Call]:
        _require_role(runtime, "ParticipantRegistry", "COMPLIANCE_ROLE", OPERATOR)
        found = _holder_of(session, lost)
        if found is not None and getattr(found[0], "wallet_custody", "own") == "custodial":
            _row, nl, en = found
            raise Conflict(
                "wallet_is_custodial",
                f"Deze wallet bewaart de gemeente voor {nl}: de sleutel staat versleuteld onder de pincode "
                "en raakt niet kwijt. Naar een ander adres verplaatsen kan de service niet: van dat adres "
                "heeft zij de sleutel niet, en de eigenaar zou dan niet meer met de pincode kunnen betalen "
                "of inloggen. Bevries de wallet als dat nodig is (POST /municipality/chain/freeze).",
                f"The municipality keeps this wallet for {en}: its key is stored encrypted under the PIN and "
                "is not lost. The service cannot move it to another address: it would not hold that "
                "address's key, and the owner could no longer pay or sign in with the PIN. Freeze the "
                "wallet if needed (POST /municipality/chain/freeze).",
                field="lost_wallet",
            )
        if not registered_on_chain(runtime.gateway, lost):
            raise InvalidInput(
                "wallet_not_registered",
                f"Wallet {lost} is niet aangemeld bij de munt; er valt niets te herstellen.",
                f"Wallet {lost} is not registered; there is nothing to recover.",
                field="lost_wallet",
            )
        service_keys = {account.address for account in runtime.outbox.signers.values()}
        try:
            if new in service_keys:
                raise wallet_in_use("deze service", "this service")
            ensure_wallet_free(session, new, runtime.gateway)
        except Conflict as refusal:
            refusal.field = "new_wallet"
            raise
        return [Call(OPERATOR, "ParticipantRegistry", "recover", [lost, new])]

    request = {"lost_wallet": lost, "new_wallet": new, "reason": reason}
    return _record(session, "recover", key, request, requested_by, plan)


def on_outbox_item(session: Session, item: OutboxItem) -> None:
    """Outbox listener: a confirmed recovery moves the record's wallet address (in the outbox's
    transaction, so the database follows the chain exactly once)."""
    if item.status != "done" or not item.idempotency_key.startswith(f"{KEY_PREFIX}:"):
        return
    if item.payload.get("function") != "recover" or item.payload.get("contract") != "ParticipantRegistry":
        return
    lost, new = item.payload["args"]
    found = _holder_of(session, lost)
    if found is None:
        return
    if _holder_of(session, new) is not None:
        # Checked before queueing; a record that took the address since must not break the outbox.
        log.error(
            "recovered wallet %s -> %s: the new address belongs to another record; not moved", lost, new
        )
        return
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


def _indexed_holders(runtime: Runtime, session: Session, coin: str, expiry: int) -> list[str]:
    """Every account the index shows with a balance of `coin`, once the index has read past the expiry
    (after it no transfer can change a balance, so the list is complete)."""
    indexed = runtime.indexer.last_block(session)
    with chain_read():
        indexed_time = int(runtime.gateway.web3.eth.get_block(max(indexed, 0))["timestamp"])
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
    runtime: Runtime,
    session: Session,
    *,
    coin: str,
    holders: list[str] | None,
    credit_minter: bool,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Burns what holders have left of an expired coin (the issuer's `reclaimExpired`, in chunks of
    RECLAIM_CHUNK holders); `holders` None: every holder with a balance in the index. The total returns
    to the backend minter's allowance when `credit_minter`."""
    require_operator(runtime, "reclaim_expired")
    address = resolve_coin(runtime.gateway, coin)
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

    def plan() -> list[Call]:
        _require_role(runtime, "ActivityIssuer", "MASTER_MINTER_ROLE", OPERATOR)
        facts = coin_facts(runtime.gateway, address)
        if facts.expiry == 0:
            raise Conflict(
                "coin_never_expires",
                f"Munt {facts.symbol} verloopt nooit; er valt niets terug te halen.",
                f"Coin {facts.symbol} never expires; there is nothing to reclaim.",
                field="coin",
            )
        with chain_read():
            now = chain_now(runtime.gateway)
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
            credited = _signer_address(runtime, "minter")
            with chain_read():
                is_minter = runtime.gateway.issuer.functions.hasRole(role_id("MINTER_ROLE"), credited).call()
            if not is_minter:
                raise Conflict(
                    "minter_not_configured",
                    "De minter van de service is geen minter; het bedrag kan niet terug naar zijn budget. "
                    "Stuur credit_minter: false om alleen terug te halen.",
                    "The service's minter is not a minter; the amount cannot return to its allowance. "
                    "Send credit_minter: false to reclaim only.",
                    field="credit_minter",
                )
        targets = (
            holders if holders is not None else _indexed_holders(runtime, session, address, facts.expiry)
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
                "ActivityIssuer",
                "reclaimExpired",
                [address, targets[i : i + RECLAIM_CHUNK], credited],
            )
            for i in range(0, len(targets), RECLAIM_CHUNK)
        ]

    request = {"coin": address, "holders": holders, "credit_minter": credit_minter}
    return _record(session, "reclaim_expired", key, request, requested_by, plan)


# --------------------------------------------------------------------------------------------------
# A new coin
# --------------------------------------------------------------------------------------------------


def _purpose_id(gateway: Gateway, code: str) -> int:
    try:
        with chain_read():
            return int(gateway.registry.functions.purposeId(code.encode().ljust(32, b"\0")[:32]).call())
    except (ContractCustomError, ContractLogicError) as exc:
        raise InvalidInput(
            "purpose_unknown",
            f"Doel '{code}' bestaat niet (zoals LOCAL_SPENDING of DEBT_SETTLEMENT).",
            f"Purpose '{code}' does not exist (such as LOCAL_SPENDING or DEBT_SETTLEMENT).",
            field="purpose",
        ) from exc


def _live(gateway: Gateway, coin: str, now: int) -> bool:
    expiry = int(gateway.coin(coin).functions.expiry().call())
    return expiry == 0 or now < expiry


def create_coin(
    runtime: Runtime,
    session: Session,
    *,
    name: str,
    symbol: str,
    purpose: str,
    area: str,
    expiry: int | None,
    person_to_person: bool,
    key: str | None,
    requested_by: int | None,
) -> ChainOperation:
    """Creates a coin with the factory (its admin role): one live coin per purpose and area, and a
    symbol no live coin uses (the API finds coins by symbol)."""
    require_operator(runtime, "create_coin")
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

    def plan() -> list[Call]:
        gateway = runtime.gateway
        _require_role(runtime, "CoinFactory", "DEFAULT_ADMIN_ROLE", OPERATOR)
        purpose_id = _purpose_id(gateway, purpose)
        with chain_read():
            now = chain_now(gateway)
            if expiry and expiry <= now:
                raise InvalidInput(
                    "expiry_in_past",
                    f"De vervaldatum ({_date(expiry)}) is al voorbij. Kies een latere, of geen.",
                    f"The expiry ({_date(expiry)}) has passed. Choose a later one, or none.",
                    field="expiry",
                )
            existing = gateway.factory.functions.coinFor(purpose_id, to_bytes8(area)).call()
            if int(existing, 16) != 0 and _live(gateway, existing, now):
                raise Conflict(
                    "coin_exists",
                    f"Er is al een geldige munt voor {purpose} in {area} ({existing}).",
                    f"A live coin for {purpose} in {area} already exists ({existing}).",
                    field="area",
                    coin=existing,
                )
            for address in gateway.coins():
                contract = gateway.coin(address)
                if contract.functions.symbol().call().upper() == symbol and _live(gateway, address, now):
                    raise Conflict(
                        "symbol_in_use",
                        f"Het symbool {symbol} hoort al bij een geldige munt ({address}). Kies een ander.",
                        f"Symbol {symbol} already belongs to a live coin ({address}). Choose another.",
                        field="symbol",
                        coin=address,
                    )
        spec = [name, symbol, purpose_id, "0x" + to_bytes8(area).hex(), expiry, person_to_person]
        return [Call(OPERATOR, "CoinFactory", "createCoin", [spec])]

    request = {
        "name": name,
        "symbol": symbol,
        "purpose": purpose,
        "area": area,
        "expiry": expiry,
        "person_to_person": person_to_person,
    }
    return _record(session, "create_coin", key, request, requested_by, plan)


# --------------------------------------------------------------------------------------------------
# The backend minter's allowance
# --------------------------------------------------------------------------------------------------


def set_minter_allowance(
    runtime: Runtime, session: Session, *, allowance_cents: int, key: str | None, requested_by: int | None
) -> ChainOperation:
    """Sets the backend minter's allowance (the issuer's `configureMinter`, which replaces the earlier
    one and makes it a minter if it was not)."""
    require_operator(runtime, "minter_allowance")
    minter = _signer_address(runtime, "minter")

    def plan() -> list[Call]:
        _require_role(runtime, "ActivityIssuer", "MASTER_MINTER_ROLE", OPERATOR)
        return [Call(OPERATOR, "ActivityIssuer", "configureMinter", [minter, allowance_cents])]

    request = {"minter": minter, "allowance_cents": allowance_cents}
    return _record(session, "minter_allowance", key, request, requested_by, plan)
