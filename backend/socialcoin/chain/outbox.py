"""Every write to the chain goes through here: recorded, then signed, sent, mined and confirmed.

1. `enqueue` records an OutboxItem under an idempotency key, in the caller's database transaction.
   Calling it again with the same key returns the same item: nothing is ever queued twice.
2. `submit` takes pending items per signing key, groups the batchable ones (attested mints, granted
   rewards, registrations) into one call, simulates it (a refusal fails only the item it names), signs
   it with the next nonce, and stores the signed transaction and the items' link to it in one database
   transaction *before* sending. It does not wait for one batch to be mined before sending the next.
3. `confirm` reads receipts; after `confirmations` blocks the items are done and listeners run (in the
   same database transaction).
4. `reconcile` (run first, every round) makes a crash at any point harmless: a stored transaction that
   the chain does not know is sent again as the same bytes, so it can be mined at most once. That
   includes one seen mined whose block then left the chain (a reorganisation, a node restarted from
   older state).

Speed: calls are ABI-encoded with (faster_)eth_abi directly (web3's contract layer took ~0.4 s to
encode one batch of 200 attestations); a batch is simulated with one eth_call under a gas limit that the call
itself proves sufficient (eth_estimateGas runs the batch a dozen times over); the nonce is read from
the node once per round; item rows are updated in bulk.
"""

from __future__ import annotations

import logging
import os
import signal
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import function_abi_to_4byte_selector, get_abi_input_types
from hexbytes import HexBytes
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

try:  # the compiled eth_abi (it comes with eth-brownie): ~7x faster on a batch of 200 attestations
    from faster_eth_abi import encode as abi_encode
except ImportError:  # pragma: no cover
    from eth_abi import encode as abi_encode

from ..db.base import transaction
from ..db.models import ChainTx, OutboxItem
from .errors import ChainRevert
from .gateway import Gateway

log = logging.getLogger(__name__)

Listener = Callable[[Session, OutboxItem], None]
# Called once with every item of a transaction (or a failed group) that reached an end state: for
# listeners that update thousands of rows, where one query per item would take minutes.
BatchListener = Callable[[Session, list[OutboxItem]], None]
MAX_ATTEMPTS = 3
# A batch's gas limit: BASE_GAS plus its kind's gas_per_item for each item, used when a simulation
# under that limit succeeds (otherwise eth_estimateGas decides).
BASE_GAS = 100_000
OPEN_TX = ("signed", "sent", "mined")


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
class Call:
    """A contract call ready to sign: the contract's address and the ABI-encoded calldata."""

    to: str
    data: bytes


def encode_call(contract: Contract, name: str, args: list[Any]) -> Call:
    """`contract.name(*args)` encoded with eth_abi (arguments already in their ABI types)."""
    found = [e for e in contract.abi if e.get("type") == "function" and e.get("name") == name]
    if len(found) != 1:
        raise ValueError(f"{name!r}: {len(found)} functions of that name")
    selector = function_abi_to_4byte_selector(found[0])
    return Call(contract.address, selector + abi_encode(get_abi_input_types(found[0]), args))


# --------------------------------------------------------------------------------------------------
# What each kind of item becomes on chain
# --------------------------------------------------------------------------------------------------


def _bytes(value: str | bytes) -> bytes:
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        return bytes.fromhex(value[2:])  # the usual case, and ~10x faster than HexBytes
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


def _grant(payload: dict[str, Any]) -> tuple:
    return (payload["coin"], payload["to"], int(payload["amount"]), _bytes(payload["claimId"]))


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
    # An upper bound of the gas one item takes in a batch; None: always ask eth_estimateGas.
    gas_per_item: int | None = None

    def call(self, gateway: Gateway, payloads: list[dict[str, Any]]) -> Call:
        raise NotImplementedError

    def culprit(self, revert: ChainRevert, payloads: list[dict[str, Any]]) -> int | None:
        """Index of the item a refusal names, if it names one."""
        return 0 if len(payloads) == 1 else None


class MintAttested(Kind):
    batchable = True
    gas_per_item = 100_000  # measured ~43,000 (fresh claim id), ~60,000 for a resident's first coins

    def call(self, gateway, payloads):
        return encode_call(
            gateway.issuer,
            "mintBatch",
            [[_attestation(p) for p in payloads], [_bytes(p["signature"]) for p in payloads]],
        )

    def culprit(self, revert, payloads):
        found = _mint_culprit(revert, [p["attestation"] for p in payloads], "resident")
        return super().culprit(revert, payloads) if found is None else found


class MintGranted(Kind):
    """Rewards without an attestation, payload {"coin", "to", "amount", "claimId"}: one grantBatch."""

    batchable = True
    gas_per_item = 80_000  # measured ~40,500 per grant in a batch of 100, more for a resident's first coins

    def call(self, gateway, payloads):
        return encode_call(gateway.issuer, "grantBatch", [[_grant(p) for p in payloads]])

    def culprit(self, revert, payloads):
        found = _mint_culprit(revert, payloads, "to")
        coin = revert.arguments.get("coin")  # IssuerUnknownCoin
        if found is None and coin is not None:
            found = next((i for i, p in enumerate(payloads) if p["coin"].lower() == str(coin).lower()), None)
        return super().culprit(revert, payloads) if found is None else found


def _mint_culprit(revert: ChainRevert, mints: list[dict[str, Any]], recipient: str) -> int | None:
    """The mint a refusal names: by its claim id (IssuerClaimAlreadyUsed), else by its recipient
    (IssuerNotAResident's account, CoinTransferRefused's to)."""
    claim = revert.arguments.get("claimId")
    if claim is not None:
        for index, mint in enumerate(mints):
            if _bytes(mint["claimId"]) == _bytes(claim):
                return index
    account = revert.arguments.get("account") or revert.arguments.get("to")
    if account is not None:
        for index, mint in enumerate(mints):
            if mint[recipient].lower() == str(account).lower():
                return index
    return None


class Register(Kind):
    batchable = True
    gas_per_item = 150_000

    def call(self, gateway, payloads):
        return encode_call(gateway.registry, "registerBatch", [[_registration(p) for p in payloads]])

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
        inputs = contract.get_function_by_name(payload["function"]).abi["inputs"]
        args = [_convert(arg, spec) for arg, spec in zip(payload["args"], inputs, strict=True)]
        return encode_call(contract, payload["function"], args)


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


KINDS: dict[str, Kind] = {
    "mint_attested": MintAttested(),
    "mint_granted": MintGranted(),
    "register": Register(),
    "call": ContractCall(),
}


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
        self.batch_listeners: list[BatchListener] = []
        self._chain_id = gateway.web3.eth.chain_id
        self._nonces: dict[str, int] = {}  # next nonce per sender, read from the node once per round

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

    @staticmethod
    def enqueue_many(session: Session, items: Iterable[tuple[str, str, str, dict[str, Any]]]) -> int:
        """`enqueue` for many (key, kind, signer, payload) at once (a CSV of approvals, a programme's
        mints): one query for the keys already taken, one insert for the rest. Returns how many
        items it added; a key taken with a different request raises OutboxConflict."""
        wanted: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for key, kind, signer, payload in items:
            if kind not in KINDS:
                raise ValueError(f"unknown outbox kind {kind!r}")
            if wanted.setdefault(key, (kind, signer, payload)) != (kind, signer, payload):
                raise OutboxConflict(key)
        keys = list(wanted)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for existing in session.execute(
                select(OutboxItem.idempotency_key, OutboxItem.kind, OutboxItem.payload).where(
                    OutboxItem.idempotency_key.in_(chunk)
                )
            ):
                kind, _, payload = wanted.pop(existing.idempotency_key)
                if existing.kind != kind or existing.payload != payload:
                    raise OutboxConflict(existing.idempotency_key)
        if wanted:
            session.execute(
                insert(OutboxItem),
                [
                    {"idempotency_key": key, "kind": kind, "signer": signer, "payload": payload}
                    for key, (kind, signer, payload) in wanted.items()
                ],
            )
        return len(wanted)

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
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.status.in_(("pending", "submitted")))
                )
            if not open_items:
                return
        raise RuntimeError("outbox did not drain")

    # -- 1. reconcile ---------------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Sends again every stored transaction the node does not know (after a crash, a node restart, or
        a reorganisation that took away the block it was mined in), in nonce order."""
        with self.sessions() as session:
            unsent = session.scalars(
                select(ChainTx).where(ChainTx.status.in_(OPEN_TX)).order_by(ChainTx.sender, ChainTx.nonce)
            ).all()
        for tx in unsent:
            if tx.status != "signed" and self._receipt(tx.tx_hash) is not None:
                continue
            if tx.status == "mined":
                # Its block is gone: unconfirmed again, and the items wait for it as before.
                log.warning(
                    "transaction %s (nonce %s) left the chain; sending it again", tx.tx_hash, tx.nonce
                )
                with transaction(self.sessions) as session:
                    session.get(ChainTx, tx.id).status = "sent"
            if self._known(tx.tx_hash):
                continue
            self._send(tx)

    # -- 2. submit ------------------------------------------------------------------------------------

    def submit(self) -> None:
        """Signs and sends every pending item, batch after batch, without waiting for any to be mined."""
        with self.sessions() as session:
            pending = session.scalars(
                select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id)
            ).all()
        groups: dict[tuple[str, str], list[OutboxItem]] = defaultdict(list)
        for item in pending:
            groups[(item.signer, item.kind)].append(item)
        self._nonces.clear()
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
                gas = self._gas(account.address, call, kind, len(items))
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

    def _gas(self, sender: str, call: Call, kind: Kind, count: int) -> int:
        """Simulates the call and returns the gas limit to sign it with; a refusal raises."""
        request = {"from": sender, "to": call.to, "data": call.data, "gasPrice": 0}
        if kind.gas_per_item is not None:
            limit = BASE_GAS + kind.gas_per_item * count
            try:
                self.web3.eth.call({**request, "gas": limit})
                return limit  # the very call ran within `limit` on the current state
            except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
                data = getattr(exc, "data", None)
                if isinstance(data, str) and len(data) > 2:
                    raise  # a refusal with the contract's reason: no need to run it again
                # Out of gas under the bound ("execution reverted", data 0x), or a refusal without a
                # reason: eth_estimateGas decides (and raises the refusal again if it is one).
        gas = self.web3.eth.estimate_gas(request)
        return gas + gas // 5 + 50_000

    def _sign_and_send(self, account: LocalAccount, call: Call, gas: int, items: list[OutboxItem]) -> None:
        with transaction(self.sessions) as session:
            nonce = self._next_nonce(session, account.address)
            signed = account.sign_transaction(
                {
                    "to": call.to,
                    "data": call.data,
                    "value": 0,
                    "nonce": nonce,
                    "gas": gas,
                    "gasPrice": 0,
                    "chainId": self._chain_id,
                }
            )
            tx = ChainTx(
                sender=account.address,
                nonce=nonce,
                tx_hash="0x" + bytes(signed.hash).hex(),
                raw=bytes(signed.raw_transaction),
            )
            session.add(tx)
            session.flush()
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_([item.id for item in items]))
                .values(status="submitted", tx_id=tx.id, attempts=OutboxItem.attempts + 1)
            )
        self._nonces[account.address] = nonce + 1
        _crash_point("stored")
        self._send(tx)

    def _next_nonce(self, session: Session, sender: str) -> int:
        stored = session.scalar(select(func.max(ChainTx.nonce)).where(ChainTx.sender == sender))
        if sender not in self._nonces:
            self._nonces[sender] = self.web3.eth.get_transaction_count(sender, "pending")
        return max(self._nonces[sender], -1 if stored is None else stored + 1)

    def _send(self, tx: ChainTx) -> None:
        try:
            self.web3.eth.send_raw_transaction(tx.raw)
        except (Web3RPCError, ValueError) as exc:
            # "already known" / "nonce too low": the node has it, or mined it; confirm() will tell.
            log.info("send of %s answered %s", tx.tx_hash, exc)
        _crash_point("sent")
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
                    finished += self._notify_all(session, [item for item in items if item.status == "failed"])
                    continue
                stored.status = "confirmed" if deep_enough else "mined"
                if deep_enough:
                    for item in items:
                        item.status = "done"
                    finished += self._notify_all(session, items)
        return finished

    def _notify_all(self, session: Session, items: list[OutboxItem]) -> int:
        """Runs the listeners for items that reached an end state. The items' rows are written first, in
        one statement: a listener's first query would otherwise flush them one by one."""
        session.flush()
        for item in items:
            self._notify(session, item)
        for batch_listener in self.batch_listeners:
            batch_listener(session, items)
        return len(items)

    # -- helpers ----------------------------------------------------------------------------------------

    def _fail(self, items: Iterable[OutboxItem], revert: ChainRevert) -> None:
        with transaction(self.sessions) as session:
            failed = []
            for item in items:
                stored = session.get(OutboxItem, item.id)
                stored.status = "failed"
                stored.error_code = revert.name
                stored.error_detail = str(revert)
                failed.append(stored)
            self._notify_all(session, failed)

    def _notify(self, session: Session, item: OutboxItem) -> None:
        for listener in self.listeners:
            listener(session, item)

    def _revert(self, exc: Exception) -> ChainRevert:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return self.gateway.abis.decode_revert(bytes(HexBytes(data)))
        return ChainRevert("ContractLogicError", {"message": str(exc)})

    def _receipt(self, tx_hash: str) -> dict[str, int] | None:
        """blockNumber, gasUsed and status of a mined transaction; None while it is not mined."""
        receipt = self.gateway.rpc("eth_getTransactionReceipt", [tx_hash])
        if not receipt or receipt.get("blockNumber") is None:
            return None
        return {name: int(receipt[name], 16) for name in ("blockNumber", "gasUsed", "status")}

    def _known(self, tx_hash: str) -> bool:
        """Whether the node has the transaction (in its pool or mined)."""
        return self.gateway.rpc("eth_getTransactionByHash", [tx_hash]) is not None
