"""Every write to the chain goes through here: recorded, then signed, sent, mined and confirmed.

1. `enqueue` records an OutboxItem under an idempotency key, in the caller's write transaction. Calling it
   again with the same key and payload returns the same item: nothing is ever queued twice.
2. `submit` takes pending items per signing key, groups the batchable ones (attested mints, granted
   rewards, registrations) into one call, simulates it, signs it with the next nonce and the node's fees,
   and stores the signed transaction and the items' link to it in one write transaction *before* sending.
   A refusal that names an item fails only that item; one that names none is narrowed down by simulating
   halves, so the rest still goes through.
3. `confirm` reads receipts; after `confirmations` blocks the items are done, and `finish` (given by the
   bootstrap: the domain's code per origin) runs in the same write transaction.
4. `reconcile` (first, every round) makes a crash at any point harmless: a stored transaction that the
   node does not know is sent again, so it can be mined at most once. That includes one seen mined whose
   block then left the chain.

Nothing waits silently. A transaction the node refuses (a fee too low, a key without ether) is signed
again with the node's fees under the same nonce, with a warning naming its items; no later transaction
of that key is signed meanwhile, so no nonce gap opens. After `max_send_failures` refusals, or when a sent
transaction is not mined within `stuck_after` seconds, it is *stuck*: visible in /public/status, in
`socialcoin status` and to the municipality, who can `retry` it or `cancel` it (a no-op under its nonce, so
that later transactions flow; its items end cancelled). No database write lock is held while the node is
asked anything.
"""

from __future__ import annotations

import logging
import os
import signal
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ..db.base import transaction
from ..db.enums import OPEN_ITEM, OPEN_TX, Origin, OutboxStatus, TxStatus
from ..db.models import ChainTx, OutboxItem
from ..db.types import utcnow
from ..wakeups import after_commit
from .contracts import Call
from .errors import ChainRevert, ChainUnavailable
from .gateway import Chain, ChainRpcError, Fees
from .payloads import KINDS, AttestedMint, Grant, Kind, Payload, Relayed, payload_of, to_json

log = logging.getLogger(__name__)

# Called once with every item of a transaction (or a failed group) that reached an end state, in the
# outbox's write transaction: the domain finishes its rows (given per origin by the bootstrap).
Finisher = Callable[[Session, list[OutboxItem]], None]
# What an enqueue names as changed (wakeups.py): the outbox of this process starts its next round when the
# item is committed, instead of at the end of its pause.
WAKEUP_TOPIC = "outbox"
MAX_ATTEMPTS = 3  # times an item whose transaction reverted on chain is tried again
# A batch's gas limit: BASE_GAS plus its kind's gas_per_item for each item, used when a simulation
# under that limit succeeds (otherwise eth_estimateGas decides).
BASE_GAS = 100_000
NO_OP_GAS = 21_000


class OutboxConflict(Exception):
    """The idempotency key is taken by an item with a different request."""


_crash_counts: dict[str, int] = {}


def _crash_point(point: str) -> None:
    """Test-only hook: SOCIALCOIN_TEST_CRASH_AT=<point>:<n> kills this process (SIGKILL) the n-th time it
    passes `point` ("stored": a signed transaction committed, not yet sent; "sent": sent, not yet noted)."""
    target = os.environ.get("SOCIALCOIN_TEST_CRASH_AT", "")
    if target.partition(":")[0] == point:
        _crash_counts[point] = _crash_counts.get(point, 0) + 1
        if _crash_counts[point] >= int(target.partition(":")[2] or 1):
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Queued:
    """An item to enqueue: its key, what it asks, who signs, and the domain row it belongs to."""

    key: str
    payload: Payload
    signer: str
    origin: Origin
    subject_id: int | None = None

    def columns(self) -> dict[str, Any]:
        relayed = self.payload if isinstance(self.payload, Relayed) else None
        return {
            # What the item moves: out of a wallet (a relayed spend), or into one (a mint, which the
            # minter's allowance must cover while it is in flight).
            "amount": _amount(self.payload),
            "idempotency_key": self.key,
            "kind": self.payload.kind,
            "signer": self.signer,
            "payload": to_json(self.payload),
            "origin": self.origin,
            "subject_id": self.subject_id,
            "wallet": relayed.sender if relayed else None,
            "coin": relayed.coin if relayed else None,
            "auth_nonce": relayed.nonce if relayed else None,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
        }


def _amount(payload: Payload) -> int | None:
    if isinstance(payload, Relayed):
        return payload.value
    if isinstance(payload, Grant):
        return payload.amount
    if isinstance(payload, AttestedMint):
        return int(payload.attestation["amount"])
    return None


@dataclass(frozen=True)
class Policy:
    """When the outbox gives up waiting: refusals in a row, seconds unmined, and the pause between tries."""

    max_send_failures: int = 5
    stuck_after_seconds: float = 300.0
    retry_seconds: float = 2.0


class Outbox:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        chain: Chain,
        signers: dict[str, LocalAccount],
        *,
        finish: Finisher,
        batch_size: int = 200,
        confirmations: int = 0,
        policy: Policy | None = None,
    ):
        self.sessions = sessions
        self.chain = chain
        self.signers = signers
        self.finish = finish
        self.batch_size = batch_size
        self.confirmations = confirmations
        self.policy = policy or Policy()
        self._nonces: dict[str, int] = {}  # next nonce per sender, read from the node once per round

    # -- recording ---------------------------------------------------------------------------------

    @staticmethod
    def enqueue(
        session: Session,
        key: str,
        payload: Payload,
        *,
        signer: str,
        origin: Origin,
        subject_id: int | None = None,
    ) -> OutboxItem:
        """Records an intended write (idempotent by `key`) in the caller's write transaction."""
        queued = Queued(key, payload, signer, origin, subject_id)
        existing = session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))
        if existing is not None:
            if existing.kind != payload.kind or existing.payload != to_json(payload):
                raise OutboxConflict(key)
            return existing
        item = OutboxItem(**queued.columns())
        session.add(item)
        session.flush()
        after_commit(session, WAKEUP_TOPIC)
        return item

    @staticmethod
    def enqueue_many(session: Session, items: Iterable[Queued]) -> int:
        """`enqueue` for many at once (a month's rewards): one query for the keys already taken, one insert
        for the rest. Returns how many items it added; a key taken with a different request raises
        OutboxConflict."""
        wanted: dict[str, dict[str, Any]] = {}
        for queued in items:
            columns = queued.columns()
            if wanted.setdefault(queued.key, columns) != columns:
                raise OutboxConflict(queued.key)
        keys = list(wanted)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for existing in session.execute(
                select(OutboxItem.idempotency_key, OutboxItem.kind, OutboxItem.payload).where(
                    OutboxItem.idempotency_key.in_(chunk)
                )
            ):
                columns = wanted.pop(existing.idempotency_key)
                if existing.kind != columns["kind"] or existing.payload != columns["payload"]:
                    raise OutboxConflict(existing.idempotency_key)
        if wanted:
            session.execute(insert(OutboxItem), list(wanted.values()))
            after_commit(session, WAKEUP_TOPIC)
        return len(wanted)

    # -- the municipality's actions on a stuck transaction -------------------------------------------------

    @staticmethod
    def retry(tx: ChainTx) -> None:
        """Tries a stuck transaction again, signed anew with the node's fees (in the caller's transaction;
        the worker sends it)."""
        tx.status, tx.resign, tx.send_failures, tx.next_try_at, tx.sent_at = (
            TxStatus.SIGNED,
            True,
            0,
            None,
            None,
        )

    @staticmethod
    def cancel(tx: ChainTx) -> None:
        """Replaces a stuck transaction by a no-op under its nonce (signed and sent by the worker), so that
        later transactions of its key flow; its items end cancelled unless the original is mined first."""
        tx.status, tx.resign, tx.send_failures, tx.next_try_at, tx.sent_at = (
            TxStatus.CANCELLING,
            True,
            0,
            None,
            None,
        )

    # -- the work loop -------------------------------------------------------------------------------

    def run_once(self) -> int:
        """One round: reconcile, submit what is pending, confirm what is mined. Returns how many items
        reached an end state in this round."""
        self._nonces.clear()
        blocked = self.reconcile()
        self.submit(blocked)
        return self.confirm()

    def run_until_idle(self, max_rounds: int = 10_000) -> None:
        """Rounds until no item is open (a stuck transaction's items count as done waiting: they wait
        for the municipality)."""
        for _ in range(max_rounds):
            self.run_once()
            with self.sessions() as session:
                open_items = session.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .outerjoin(ChainTx, ChainTx.id == OutboxItem.tx_id)
                    .where(
                        OutboxItem.status.in_(OPEN_ITEM),
                        (ChainTx.status.is_(None)) | (ChainTx.status != TxStatus.STUCK),
                    )
                )
                stuck = session.scalar(
                    select(func.count()).select_from(ChainTx).where(ChainTx.status == TxStatus.STUCK)
                )
            if not open_items:
                return
            if stuck:
                # Items of a key with a stuck transaction wait for it; nothing else can move them.
                waiting = self._waiting_behind_stuck()
                if waiting >= (open_items or 0):
                    return
        raise RuntimeError("outbox did not drain")

    def _waiting_behind_stuck(self) -> int:
        with self.sessions() as session:
            stuck_senders = set(
                session.scalars(select(ChainTx.sender).where(ChainTx.status == TxStatus.STUCK)).all()
            )
            signers = [name for name, account in self.signers.items() if account.address in stuck_senders]
            return (
                session.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.status.in_(OPEN_ITEM), OutboxItem.signer.in_(signers))
                )
                or 0
            )

    # -- 1. reconcile ---------------------------------------------------------------------------------

    def reconcile(self) -> set[str]:
        """Sends (again) every stored transaction the node does not have, in nonce order: after a crash, a
        node restart, a reorganisation that took away its block, a refusal, a retry or a cancel. Returns the
        senders that must not sign new transactions this round (one of theirs waits or is stuck)."""
        with self.sessions() as session:
            open_txs = session.scalars(
                select(ChainTx)
                .where(ChainTx.status.in_((*OPEN_TX, TxStatus.STUCK)))
                .order_by(ChainTx.sender, ChainTx.nonce)
            ).all()
        blocked: set[str] = set()
        now = utcnow()
        for tx in open_txs:
            if tx.sender in blocked:
                continue  # a lower nonce of this key waits: this one would wait behind it anyway
            if tx.status == TxStatus.STUCK:
                blocked.add(tx.sender)
                continue
            if tx.resign or tx.status == TxStatus.SIGNED:
                if tx.next_try_at is not None and tx.next_try_at > now or not self._send(tx):
                    blocked.add(tx.sender)
                continue
            if self._mined(tx)[1] is not None:
                continue  # confirm() takes it from here
            if tx.status == TxStatus.MINED:
                # Its block is gone: unconfirmed again, and the items wait for it as before.
                log.warning(
                    "transaction %s (nonce %s) left the chain; sending it again", tx.tx_hash, tx.nonce
                )
                with transaction(self.sessions) as session:
                    session.get_one(ChainTx, tx.id).status = TxStatus.SENT
            elif self.chain.known(tx.tx_hash):
                if self._overdue(tx, now):
                    self._mark_stuck(tx, f"not mined within {self.policy.stuck_after_seconds:.0f} s")
                    blocked.add(tx.sender)
                continue
            if not self._send(tx):  # the node lost it (a restart): the very same bytes again
                blocked.add(tx.sender)
        return blocked

    def _overdue(self, tx: ChainTx, now: Any) -> bool:
        return tx.sent_at is not None and (now - tx.sent_at).total_seconds() > self.policy.stuck_after_seconds

    # -- 2. submit ------------------------------------------------------------------------------------

    def submit(self, blocked: set[str] | None = None) -> None:
        """Signs and sends every pending item, batch after batch, without waiting for any to be mined.
        Keys in `blocked` wait (one of their transactions is refused or stuck)."""
        blocked = blocked or set()
        with self.sessions() as session:
            pending = session.scalars(
                select(OutboxItem).where(OutboxItem.status == OutboxStatus.PENDING).order_by(OutboxItem.id)
            ).all()
        groups: dict[tuple[str, str], list[OutboxItem]] = defaultdict(list)
        for item in pending:
            groups[(item.signer, item.kind)].append(item)
        for (signer, kind_name), items in groups.items():
            account = self.signers.get(signer)
            if account is None:
                log.error("outbox items %s wait: no key for signer %r", [i.id for i in items[:5]], signer)
                continue
            kind = KINDS[kind_name]
            size = self.batch_size if kind.batchable else 1
            for start in range(0, len(items), size):
                if account.address in blocked:
                    break
                if not self._submit_batch(account, kind, items[start : start + size]):
                    blocked.add(account.address)

    def _submit_batch(self, account: LocalAccount, kind: Kind, items: list[OutboxItem]) -> bool:
        """Simulates, signs and sends `items` as one call (narrowing down a refusal); False when the node
        refused the transaction (its key then waits)."""
        payloads = [payload_of(item.kind, item.payload) for item in items]
        call = kind.call(self.chain, payloads)
        try:
            gas = self._gas(account.address, call, kind, len(items))
        except ChainRevert as revert:
            culprit = kind.culprit(revert, payloads)
            if culprit is not None:
                self._fail([items[culprit]], revert)
                rest = items[:culprit] + items[culprit + 1 :]
                return self._submit_batch(account, kind, rest) if rest else True
            # The refusal names no item: try each half on its own, until the culprits are alone.
            middle = len(items) // 2
            return self._submit_batch(account, kind, items[:middle]) and self._submit_batch(
                account, kind, items[middle:]
            )
        return self._sign_and_send(account, call, gas, items)

    def _gas(self, sender: str, call: Call, kind: Kind, count: int) -> int:
        """Simulates the call and returns the gas limit to sign it with; a refusal raises ChainRevert."""
        if kind.gas_per_item is not None:
            limit = BASE_GAS + kind.gas_per_item * count
            try:
                self.chain.simulate(sender, call, limit)
                return limit  # the very call ran within `limit` on the current state
            except ChainRevert as revert:
                if revert.name != "UnknownRevert" or revert.arguments.get("data") not in (None, "0x"):
                    raise  # a refusal with the contract's reason: no need to run it again
            except ChainRpcError:
                pass  # out of gas under the bound: eth_estimateGas decides (and raises a refusal again)
        gas = self.chain.estimate_gas(sender, call)
        return gas + gas // 5 + 50_000

    def _next_nonce(self, sender: str) -> int:
        if sender not in self._nonces:
            with self.sessions() as session:
                stored = session.scalar(select(func.max(ChainTx.nonce)).where(ChainTx.sender == sender))
            self._nonces[sender] = max(
                self.chain.transaction_count(sender, "pending"), -1 if stored is None else stored + 1
            )
        return self._nonces[sender]

    def _sign(self, account: LocalAccount, call: Call | None, gas: int, nonce: int, fees: Fees) -> Any:
        """A signed transaction of `call` (None: a no-op to the sender itself)."""
        fields: dict[str, Any] = {
            "to": account.address if call is None else call.to,
            "data": b"" if call is None else call.data,
            "value": 0,
            "nonce": nonce,
            "gas": gas,
            "chainId": self.chain.deployment.chain_id,
            **fees.fields(),
        }
        return account.sign_transaction(fields)

    def _sign_and_send(self, account: LocalAccount, call: Call, gas: int, items: list[OutboxItem]) -> bool:
        nonce = self._next_nonce(account.address)
        signed = self._sign(account, call, gas, nonce, self.chain.fees())
        with transaction(self.sessions) as session:
            tx = ChainTx(
                sender=account.address,
                nonce=nonce,
                tx_hash="0x" + bytes(signed.hash).hex(),
                raw=bytes(signed.raw_transaction),
                gas_limit=gas,
                earlier_hashes=[],
                resign=False,
                status=TxStatus.SIGNED,
                send_failures=0,
            )
            session.add(tx)
            session.flush()
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_([item.id for item in items]))
                .values(status=OutboxStatus.SUBMITTED, tx_id=tx.id, attempts=OutboxItem.attempts + 1)
            )
        self._nonces[account.address] = nonce + 1
        _crash_point("stored")
        return self._send(tx)

    def _send(self, tx: ChainTx) -> bool:
        """Sends a stored transaction (signed anew with the node's fees after a refusal, a retry or a
        cancel). False when the node refused it."""
        if tx.resign:
            tx = self._resign(tx)
        try:
            self.chain.send_raw(tx.raw)
        except ChainRpcError as exc:
            if _already_there(exc):  # the node has it (or mined it): confirm() will tell
                self._note_sent(tx)
                return True
            self._note_refused(tx, exc.message)
            return False
        _crash_point("sent")
        self._note_sent(tx)
        return True

    def _resign(self, tx: ChainTx) -> ChainTx:
        """The same nonce signed again, with the node's fees now: the original call, or a no-op to cancel."""
        account = next(a for a in self.signers.values() if a.address == tx.sender)
        fees = self.chain.fees()
        with transaction(self.sessions) as session:
            stored = session.get_one(ChainTx, tx.id)
            if stored.status == TxStatus.CANCELLING:
                signed = self._sign(account, None, NO_OP_GAS, stored.nonce, fees)
            else:
                items = session.scalars(select(OutboxItem).where(OutboxItem.tx_id == stored.id)).all()
                kind = KINDS[items[0].kind]
                call = kind.call(self.chain, [payload_of(i.kind, i.payload) for i in items])
                signed = self._sign(account, call, stored.gas_limit, stored.nonce, fees)
            new_hash = "0x" + bytes(signed.hash).hex()
            if new_hash != stored.tx_hash:
                stored.earlier_hashes = [*stored.earlier_hashes, stored.tx_hash]
                stored.tx_hash = new_hash
                stored.raw = bytes(signed.raw_transaction)
            stored.resign = False
            session.flush()
            session.expunge(stored)
        return stored

    def _note_sent(self, tx: ChainTx) -> None:
        with transaction(self.sessions) as session:
            stored = session.get_one(ChainTx, tx.id)
            if stored.status == TxStatus.SIGNED:
                stored.status = TxStatus.SENT
            if stored.sent_at is None:
                stored.sent_at = utcnow()
            stored.send_failures, stored.next_try_at = 0, None

    def _note_refused(self, tx: ChainTx, error: str) -> None:
        with transaction(self.sessions) as session:
            stored = session.get_one(ChainTx, tx.id)
            stored.send_failures += 1
            stored.resign = True  # with the node's fees then, which may have changed
            stored.last_error = error[:1000]
            pause = self.policy.retry_seconds * 2 ** min(stored.send_failures - 1, 5)
            stored.next_try_at = utcnow() + timedelta(seconds=pause)
            items = session.scalars(select(OutboxItem.id).where(OutboxItem.tx_id == stored.id)).all()
            log.warning(
                "the node refused transaction %s (nonce %s, items %s), %d time(s): %s",
                stored.tx_hash,
                stored.nonce,
                list(items),
                stored.send_failures,
                error,
            )
            if stored.send_failures >= self.policy.max_send_failures and stored.status != TxStatus.CANCELLING:
                stored.status = TxStatus.STUCK
                log.error("transaction %s (items %s) is stuck: %s", stored.tx_hash, list(items), error)

    def _mark_stuck(self, tx: ChainTx, why: str) -> None:
        with transaction(self.sessions) as session:
            stored = session.get_one(ChainTx, tx.id)
            if stored.status != TxStatus.CANCELLING:
                stored.status = TxStatus.STUCK
            stored.last_error = why
        log.error("transaction %s (nonce %s) is stuck: %s", tx.tx_hash, tx.nonce, why)

    # -- 3. confirm -----------------------------------------------------------------------------------

    def confirm(self) -> int:
        """Reads the receipts of open transactions; ends the items of those mined deep enough (or
        reverted, or cancelled). Returns how many items reached an end state."""
        finished = 0
        head = self.chain.block_number()
        with self.sessions() as session:
            # "signed" too: a crash can fall between sending and noting that it was sent.
            open_txs = session.scalars(
                select(ChainTx).where(ChainTx.status.in_((*OPEN_TX, TxStatus.STUCK)))
            ).all()
        for tx in open_txs:
            mined_hash, receipt = self._mined(tx)
            if receipt is None:
                continue
            cancelled = tx.status == TxStatus.CANCELLING and mined_hash == tx.tx_hash
            deep_enough = head - receipt.block_number >= self.confirmations
            with transaction(self.sessions) as session:
                stored = session.get_one(ChainTx, tx.id)
                stored.block_number = receipt.block_number
                stored.gas_used = receipt.gas_used
                if mined_hash != stored.tx_hash:  # an earlier signature of this nonce was mined
                    stored.earlier_hashes = [h for h in stored.earlier_hashes if h != mined_hash] + [
                        stored.tx_hash
                    ]
                    stored.tx_hash = mined_hash
                items = list(session.scalars(select(OutboxItem).where(OutboxItem.tx_id == tx.id)).all())
                ended: list[OutboxItem] = []
                if cancelled:
                    stored.status = TxStatus.CANCELLED
                    for item in items:
                        item.status, item.error_code = OutboxStatus.CANCELLED, "Cancelled"
                        item.error_detail = (
                            "cancelled by the municipality while stuck; nothing happened on chain"
                        )
                    ended = items
                elif not receipt.succeeded:
                    stored.status = TxStatus.REVERTED
                    for item in items:
                        # Simulated fine, reverted on chain (the state moved in between): try again.
                        retry = item.attempts < MAX_ATTEMPTS
                        item.status = OutboxStatus.PENDING if retry else OutboxStatus.FAILED
                        item.error_code = "TransactionReverted"
                        item.tx_id = None if retry else item.tx_id
                    ended = [item for item in items if item.status == OutboxStatus.FAILED]
                else:
                    stored.status = TxStatus.CONFIRMED if deep_enough else TxStatus.MINED
                    if deep_enough:
                        for item in items:
                            item.status = OutboxStatus.DONE
                        ended = items
                finished += self._finish(session, ended)
        return finished

    def _mined(self, tx: ChainTx) -> tuple[str, Any]:
        """The hash of this nonce's transaction that was mined (any signature of it), and its receipt."""
        for tx_hash in (tx.tx_hash, *reversed(tx.earlier_hashes or [])):
            receipt = self.chain.receipt(tx_hash)
            if receipt is not None:
                return tx_hash, receipt
        return tx.tx_hash, None

    def _finish(self, session: Session, items: list[OutboxItem]) -> int:
        """Runs the domain's finisher for items that reached an end state. Their rows are written first,
        in one statement: a finisher's first query would otherwise flush them one by one."""
        if items:
            session.flush()
            self.finish(session, items)
        return len(items)

    def _fail(self, items: Iterable[OutboxItem], revert: ChainRevert) -> None:
        with transaction(self.sessions) as session:
            failed = []
            for item in items:
                stored = session.get_one(OutboxItem, item.id)
                stored.status = OutboxStatus.FAILED
                stored.error_code = revert.name
                stored.error_detail = str(revert)
                failed.append(stored)
                log.warning(
                    "outbox item %s (%s) refused by the chain: %s", item.id, item.idempotency_key, revert
                )
            self._finish(session, failed)


def _already_there(exc: ChainRpcError) -> bool:
    message = exc.message.lower()
    return "already known" in message or "nonce too low" in message or "already imported" in message


__all__ = ["ChainUnavailable", "Finisher", "Outbox", "OutboxConflict", "Policy", "Queued"]
