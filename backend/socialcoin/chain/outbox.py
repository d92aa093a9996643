"""Every write to the chain goes through here: recorded, then signed, sent, mined and confirmed.

1. `enqueue` records an OutboxItem under an idempotency key, in the caller's database transaction.
   Calling it again with the same key returns the same item: nothing is ever queued twice.
2. `submit` takes pending items per signing key, groups the batchable ones (attested mints,
   registrations) into one call, simulates it (a refusal fails only the item it names), signs it with
   the next nonce, and stores the signed transaction and the items' link to it in one database
   transaction *before* sending.
3. `confirm` reads receipts; after `confirmations` blocks the items are done and listeners run (in the
   same database transaction).
4. `reconcile` (run first, every round) makes a crash at any point harmless: a stored transaction that
   the chain does not know is sent again as the same bytes, so it can be mined at most once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from ..db.base import transaction
from ..db.models import ChainTx, OutboxItem
from .errors import ChainRevert
from .gateway import Gateway

log = logging.getLogger(__name__)

Listener = Callable[[Session, OutboxItem], None]
MAX_ATTEMPTS = 3


class OutboxConflict(Exception):
    """The idempotency key is taken by an item with a different request."""


@dataclass(frozen=True)
class Call:
    """A contract call ready to sign."""

    function: Any  # web3 ContractFunction


# --------------------------------------------------------------------------------------------------
# What each kind of item becomes on chain
# --------------------------------------------------------------------------------------------------


def _bytes(value: str | bytes) -> bytes:
    return bytes(HexBytes(value))


def _attestation(payload: dict[str, Any]) -> tuple:
    a = payload["attestation"]
    return (
        a["resident"],
        a["coin"],
        int(a["amount"]),
        _bytes(a["activityId"]),
        _bytes(a["claimId"]),
        _bytes(a["evidenceHash"]),
        int(a["deadline"]),
    )


def _registration(payload: dict[str, Any]) -> tuple:
    return (
        payload["account"],
        int(payload["kind"]),
        _bytes(payload["area"]),
        int(payload["purposes"]),
        _bytes(payload["recordHash"]),
    )


class Kind:
    """How items of one kind become a contract call, and which item a refusal points at."""

    batchable = False

    def call(self, gateway: Gateway, payloads: list[dict[str, Any]]) -> Call:
        raise NotImplementedError

    def culprit(self, revert: ChainRevert, payloads: list[dict[str, Any]]) -> int | None:
        """Index of the item a refusal names, if it names one."""
        return 0 if len(payloads) == 1 else None


class MintAttested(Kind):
    batchable = True

    def call(self, gateway, payloads):
        return Call(
            gateway.issuer.functions.mintBatch(
                [_attestation(p) for p in payloads], [_bytes(p["signature"]) for p in payloads]
            )
        )

    def culprit(self, revert, payloads):
        claim = revert.arguments.get("claimId")
        if claim is not None:
            for index, payload in enumerate(payloads):
                if _bytes(payload["attestation"]["claimId"]) == _bytes(claim):
                    return index
        account = revert.arguments.get("account") or revert.arguments.get("to")
        if account is not None:
            for index, payload in enumerate(payloads):
                if payload["attestation"]["resident"].lower() == str(account).lower():
                    return index
        return super().culprit(revert, payloads)


class Register(Kind):
    batchable = True

    def call(self, gateway, payloads):
        return Call(gateway.registry.functions.registerBatch([_registration(p) for p in payloads]))

    def culprit(self, revert, payloads):
        account = revert.arguments.get("account")
        if account is not None:
            for index, payload in enumerate(payloads):
                if payload["account"].lower() == str(account).lower():
                    return index
        return super().culprit(revert, payloads)


class ContractCall(Kind):
    """Any single call: payload {"contract": name or coin address, "function": name, "args": [...]}.
    Byte arguments are hex strings; they are converted by the function's ABI."""

    def call(self, gateway, payloads):
        (payload,) = payloads
        target = payload["contract"]
        contract = {
            "ParticipantRegistry": gateway.registry,
            "ActivityIssuer": gateway.issuer,
            "CoinFactory": gateway.factory,
        }.get(target) or gateway.coin(target)
        function = contract.get_function_by_name(payload["function"])
        inputs = function.abi["inputs"]
        args = [_convert(arg, spec) for arg, spec in zip(payload["args"], inputs, strict=True)]
        return Call(function(*args))


def _convert(value: Any, spec: dict[str, Any]) -> Any:
    kind = spec["type"]
    if kind.endswith("[]"):
        inner = dict(spec, type=kind[:-2])
        return [_convert(v, inner) for v in value]
    if kind == "tuple":
        return tuple(_convert(v, c) for v, c in zip(value, spec["components"], strict=True))
    if kind.startswith("bytes"):
        return _bytes(value)
    if kind.startswith(("uint", "int")):
        return int(value)
    return value


KINDS: dict[str, Kind] = {"mint_attested": MintAttested(), "register": Register(), "call": ContractCall()}


# --------------------------------------------------------------------------------------------------
# The outbox
# --------------------------------------------------------------------------------------------------


class Outbox:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: Gateway,
        signers: dict[str, LocalAccount],
        *,
        batch_size: int = 200,
        confirmations: int = 0,
    ):
        self.sessions = sessions
        self.gateway = gateway
        self.web3 = gateway.web3
        self.signers = signers
        self.batch_size = batch_size
        self.confirmations = confirmations
        self.listeners: list[Listener] = []
        self._chain_id = gateway.web3.eth.chain_id

    # -- recording ---------------------------------------------------------------------------------

    @staticmethod
    def enqueue(session: Session, key: str, kind: str, signer: str, payload: dict[str, Any]) -> OutboxItem:
        """Records an intended write (idempotent by `key`) in the caller's transaction."""
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        existing = session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))
        if existing is not None:
            if existing.kind != kind or existing.payload != payload:
                raise OutboxConflict(key)
            return existing
        item = OutboxItem(idempotency_key=key, kind=kind, signer=signer, payload=payload)
        session.add(item)
        session.flush()
        return item

    # -- the work loop -------------------------------------------------------------------------------

    def run_once(self) -> int:
        """One round: reconcile, submit what is pending, confirm what is mined. Returns how many items
        reached an end state (done or failed) in this round."""
        self.reconcile()
        self.submit()
        return self.confirm()

    def run_until_idle(self, max_rounds: int = 10_000) -> None:
        for _ in range(max_rounds):
            self.run_once()
            with self.sessions() as session:
                open_items = session.scalar(
                    select(func.count()).select_from(OutboxItem).where(OutboxItem.status.in_(("pending", "submitted")))
                )
            if not open_items:
                return
        raise RuntimeError("outbox did not drain")

    # -- 1. reconcile ---------------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Sends again every stored transaction the node does not know (after a crash, a node restart)."""
        with self.sessions() as session:
            unsent = session.scalars(select(ChainTx).where(ChainTx.status.in_(("signed", "sent")))).all()
        for tx in unsent:
            if tx.status == "sent" and self._receipt(tx.tx_hash) is not None:
                continue
            if self._known(tx.tx_hash):
                continue
            self._send(tx)

    # -- 2. submit ------------------------------------------------------------------------------------

    def submit(self) -> None:
        with self.sessions() as session:
            pending = session.scalars(
                select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id)
            ).all()
        groups: dict[tuple[str, str], list[OutboxItem]] = defaultdict(list)
        for item in pending:
            groups[(item.signer, item.kind)].append(item)
        for (signer, kind_name), items in groups.items():
            kind = KINDS[kind_name]
            size = self.batch_size if kind.batchable else 1
            for start in range(0, len(items), size):
                self._submit_batch(signer, kind, items[start : start + size])

    def _submit_batch(self, signer: str, kind: Kind, items: list[OutboxItem]) -> None:
        account = self.signers[signer]
        while items:
            payloads = [item.payload for item in items]
            call = kind.call(self.gateway, payloads)
            try:
                gas = call.function.estimate_gas({"from": account.address, "gasPrice": 0})
            except (ContractCustomError, ContractLogicError) as exc:
                revert = self._revert(exc)
                culprit = kind.culprit(revert, payloads)
                if culprit is None:
                    self._fail(items, revert)
                    return
                self._fail([items[culprit]], revert)
                items = items[:culprit] + items[culprit + 1 :]
                continue
            self._sign_and_send(account, call, gas, items)
            return

    def _sign_and_send(self, account: LocalAccount, call: Call, gas: int, items: list[OutboxItem]) -> None:
        with transaction(self.sessions) as session:
            nonce = self._next_nonce(session, account.address)
            unsigned = call.function.build_transaction(
                {
                    "from": account.address,
                    "nonce": nonce,
                    "gas": gas + gas // 5 + 50_000,
                    "gasPrice": 0,
                    "chainId": self._chain_id,
                }
            )
            signed = account.sign_transaction(unsigned)
            tx = ChainTx(
                sender=account.address,
                nonce=nonce,
                tx_hash="0x" + bytes(signed.hash).hex(),
                raw=bytes(signed.raw_transaction),
            )
            session.add(tx)
            session.flush()
            for item in items:
                stored = session.get(OutboxItem, item.id)
                stored.status = "submitted"
                stored.tx_id = tx.id
                stored.attempts += 1
        self._send(tx)

    def _next_nonce(self, session: Session, sender: str) -> int:
        stored = session.scalar(select(func.max(ChainTx.nonce)).where(ChainTx.sender == sender))
        on_chain = self.web3.eth.get_transaction_count(sender, "pending")
        return max(on_chain, -1 if stored is None else stored + 1)

    def _send(self, tx: ChainTx) -> None:
        try:
            self.web3.eth.send_raw_transaction(tx.raw)
        except (Web3RPCError, ValueError) as exc:
            # "already known" / "nonce too low": the node has it, or mined it; confirm() will tell.
            log.info("send of %s answered %s", tx.tx_hash, exc)
        with transaction(self.sessions) as session:
            stored = session.get(ChainTx, tx.id)
            if stored.status == "signed":
                stored.status = "sent"

    # -- 3. confirm -----------------------------------------------------------------------------------

    def confirm(self) -> int:
        finished = 0
        head = self.web3.eth.block_number
        with self.sessions() as session:
            # "signed" too: a crash can fall between sending and noting that it was sent.
            open_txs = session.scalars(
                select(ChainTx).where(ChainTx.status.in_(("signed", "sent", "mined")))
            ).all()
        for tx in open_txs:
            receipt = self._receipt(tx.tx_hash)
            if receipt is None:
                continue
            deep_enough = head - receipt["blockNumber"] >= self.confirmations
            with transaction(self.sessions) as session:
                stored = session.get(ChainTx, tx.id)
                stored.block_number = receipt["blockNumber"]
                stored.gas_used = receipt["gasUsed"]
                items = session.scalars(select(OutboxItem).where(OutboxItem.tx_id == tx.id)).all()
                if receipt["status"] != 1:
                    stored.status = "reverted"
                    for item in items:
                        # Simulated fine, reverted on chain (the state moved in between): try again.
                        item.status = "pending" if item.attempts < MAX_ATTEMPTS else "failed"
                        item.error_code = "TransactionReverted"
                        item.tx_id = None if item.status == "pending" else item.tx_id
                        if item.status == "failed":
                            finished += 1
                            self._notify(session, item)
                    continue
                stored.status = "confirmed" if deep_enough else "mined"
                if deep_enough:
                    for item in items:
                        item.status = "done"
                        finished += 1
                        self._notify(session, item)
        return finished

    # -- helpers ----------------------------------------------------------------------------------------

    def _fail(self, items: Iterable[OutboxItem], revert: ChainRevert) -> None:
        with transaction(self.sessions) as session:
            for item in items:
                stored = session.get(OutboxItem, item.id)
                stored.status = "failed"
                stored.error_code = revert.name
                stored.error_detail = str(revert)
                self._notify(session, stored)

    def _notify(self, session: Session, item: OutboxItem) -> None:
        for listener in self.listeners:
            listener(session, item)

    def _revert(self, exc: Exception) -> ChainRevert:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return self.gateway.abis.decode_revert(bytes(HexBytes(data)))
        return ChainRevert("ContractLogicError", {"message": str(exc)})

    def _receipt(self, tx_hash: str):
        try:
            return self.web3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def _known(self, tx_hash: str) -> bool:
        try:
            self.web3.eth.get_transaction(tx_hash)
            return True
        except TransactionNotFound:
            return False
