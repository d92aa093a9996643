"""Reads our contracts' events into the database, with a confirmation depth, resuming where it
stopped, and rewinding when the chain reorganises.

The indexer follows every block up to `head - confirmations`. It keeps the hash of each block that
had our events and of the last block of each round; when a stored hash no longer matches the chain,
it deletes what it read from the abandoned blocks and rebuilds the balances from what remains.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ..db.base import insert_for, insert_many, transaction
from ..db.models import Balance, ChainEvent, IndexedBlock
from .constants import ZERO_ADDRESS
from .contracts import Contract
from .events import EventDecoder, checksummed
from .gateway import Chain

log = logging.getLogger(__name__)

KEEP_BLOCK_HASHES = 1024
BALANCES_PER_QUERY = 500
BLOCKS_PER_REQUEST = 200
# A round reads its range's logs in pieces of this many blocks, so that decoding starts early (see _read).
LOG_BLOCKS_PER_REQUEST = 50


class BlockMissing(LookupError):
    """The node has no block with this number (any more)."""


def last_indexed_block(session: Session, start_block: int) -> int:
    """The newest block the index has read (start_block - 1 before the first round)."""
    last = session.scalar(select(func.max(IndexedBlock.number)))
    return start_block - 1 if last is None else last


def link_companions(rows: list[dict[str, Any]]) -> None:
    """Gives each Transfer row its companion: the issuer's event logged just before a mint, or the coin's
    event logged just after any other Transfer (DebtSettled, PaymentMade, BalanceRecovered...). A
    transaction's logs all sit in one block, so `rows` (whole blocks) holds both."""
    at = {(r["tx_hash"], r["log_index"]): r for r in rows}
    for row in rows:
        if row["event"] != "Transfer":
            continue
        step = -1 if row["args"]["from"] == ZERO_ADDRESS else 1
        companion = at.get((row["tx_hash"], row["log_index"] + step))
        if companion is not None:
            row["companion_event"], row["companion_args"] = companion["event"], companion["args"]


class Indexer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        chain: Chain,
        *,
        confirmations: int = 0,
        max_blocks_per_round: int = 2_000,
        on_stored: Callable[[Session, list[dict[str, Any]]], None] | None = None,
    ):
        """`on_stored(session, rows)` sees each round's new event rows in the round's write transaction
        (the domain's consequences of events, given by the bootstrap: this package imports no domain)."""
        self.sessions = sessions
        self.on_stored = on_stored
        self.chain = chain
        self.deployment = chain.deployment
        self.confirmations = confirmations
        self.max_blocks = max_blocks_per_round
        self.decoder = EventDecoder(
            {
                "registry": chain.abis[Contract.REGISTRY],
                "issuer": chain.abis[Contract.ISSUER],
                "factory": chain.abis[Contract.FACTORY],
                "coin": chain.abis[Contract.COIN],
            }
        )

    # -- state ------------------------------------------------------------------------------------------

    def last_block(self, session: Session) -> int:
        return last_indexed_block(session, self.deployment.start_block)

    def known_coins(self, session: Session) -> set[str]:
        rows = session.scalars(
            select(ChainEvent.args).where(
                ChainEvent.contract == self.deployment.registry, ChainEvent.event == "CoinAdded"
            )
        ).all()
        return {checksummed(args["coin"]) for args in rows}

    # -- one round ----------------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Reads the next range of confirmed blocks; returns how many events it stored."""
        self._rewind_if_reorganised()
        with self.sessions() as session:
            last = self.last_block(session)
            coins = self.known_coins(session)
        head = self.chain.block_number() - self.confirmations
        if head <= last:
            return 0
        first, end = last + 1, min(head, last + self.max_blocks)
        end_block = self._block(end)
        blocks = {end: end_block}
        rows: list[dict[str, Any]] = []
        transfers: list[tuple[str, dict[str, Any]]] = []
        consistent = True
        for logs, their_blocks in self._read(first, end):
            blocks.update(their_blocks)
            # The chain can switch branches while this round reads (between the end block, the logs and
            # their blocks): then the logs may come from blocks the chain no longer has, or miss the new
            # branch's. The range is stored only if every log's block is the chain's and its last block
            # did not change.
            consistent = all(
                entry["blockHash"] == blocks[int(entry["blockNumber"], 16)]["hash"] for entry in logs
            )
            if not consistent:
                break  # the round is read again: the pieces still asked for are not needed
            self._rows(logs, blocks, coins, rows, transfers)
        if not consistent or self._chain_hash(end) != end_block["hash"]:
            log.warning("the chain changed while blocks %s-%s were read; reading them again", first, end)
            return 0
        link_companions(rows)
        with transaction(self.sessions) as session:
            insert_many(session, ChainEvent, rows)
            if rows and self.on_stored is not None:
                self.on_stored(session, rows)
            self._apply_transfers(session, transfers)
            upsert = insert_for(session)(IndexedBlock.__table__)
            upsert = upsert.on_conflict_do_update(
                index_elements=["number"], set_={"block_hash": upsert.excluded.block_hash}
            )
            session.execute(upsert, [{"number": n, "block_hash": b["hash"]} for n, b in blocks.items()])
            session.execute(
                delete(IndexedBlock).where(
                    IndexedBlock.number < end - KEEP_BLOCK_HASHES,
                    IndexedBlock.number != self.last_block(session),
                )
            )
        return len(rows)

    def _read(self, first: int, end: int) -> Iterator[tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]]:
        """The logs of blocks first..end with the headers of their blocks (except `end`'s, read before), in
        pieces of LOG_BLOCKS_PER_REQUEST blocks in order. A long range's next pieces are asked by a thread of
        their own while the caller decodes the previous one: the node's answering and our decoding overlap."""

        def piece(start: int) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
            stop = min(end, start + LOG_BLOCKS_PER_REQUEST - 1)
            logs = self.chain.rpc("eth_getLogs", [{"fromBlock": hex(start), "toBlock": hex(stop)}])
            numbers = sorted({int(entry["blockNumber"], 16) for entry in logs} - {end})
            return logs, dict(zip(numbers, self._blocks(numbers), strict=True))

        starts = range(first, end + 1, LOG_BLOCKS_PER_REQUEST)
        if len(starts) == 1:
            yield piece(first)
            return
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexer-read")
        try:
            yield from reader.map(piece, starts)
        finally:
            reader.shutdown(cancel_futures=True)

    def _rows(
        self,
        logs: list[dict[str, Any]],
        blocks: dict[int, dict[str, Any]],
        coins: set[str],
        rows: list[dict[str, Any]],
        transfers: list[tuple[str, dict[str, Any]]],
    ) -> None:
        """Adds to `rows` the rows to store for the logs of our contracts, and to `transfers` the (coin, args)
        of each Transfer. A coin added in these logs counts from its CoinAdded on (`coins` grows)."""
        numbers = {int(entry["blockNumber"], 16) for entry in logs}
        times = {n: datetime.fromtimestamp(int(blocks[n]["timestamp"], 16), UTC) for n in numbers}
        for entry in logs:
            address = checksummed(entry["address"])
            kind = self._kind(address, coins)
            decoded = self.decoder.decode(kind, entry) if kind is not None else None
            if decoded is None:
                continue
            name, args = decoded
            number = int(entry["blockNumber"], 16)
            rows.append(
                {
                    "block_number": number,
                    "block_hash": blocks[number]["hash"],
                    "tx_hash": entry["transactionHash"],
                    "log_index": int(entry["logIndex"], 16),
                    "contract": address,
                    "event": name,
                    "args": args,
                    "block_time": times[number],
                    "from_account": args.get("from"),
                    "to_account": args.get("to"),
                    "companion_event": None,  # set for Transfers by link_companions
                    "companion_args": None,
                }
            )
            if kind == "registry" and name == "CoinAdded":
                coins.add(checksummed(args["coin"]))
            if kind == "coin" and name == "Transfer":
                transfers.append((address, args))

    def run_until_caught_up(self) -> None:
        while True:
            self.run_once()
            with self.sessions() as session:
                last = self.last_block(session)
            if last >= self.chain.block_number() - self.confirmations:
                return

    def _kind(self, address: str, coins: set[str]) -> str | None:
        deployment = self.deployment
        if address == deployment.registry:
            return "registry"
        if address == deployment.issuer:
            return "issuer"
        if address == deployment.factory:
            return "factory"
        if address in coins:
            return "coin"
        return None

    # -- balances --------------------------------------------------------------------------------------------

    @staticmethod
    def _apply_transfers(session: Session, transfers: list[tuple[str, dict[str, Any]]]) -> None:
        """Adds what (coin, Transfer args) moved to the balances: one change per account and coin."""
        deltas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # coin -> account -> delta
        for coin, args in transfers:
            value = int(args["value"])
            if args["from"] != ZERO_ADDRESS:
                deltas[coin][args["from"]] -= value
            if args["to"] != ZERO_ADDRESS:
                deltas[coin][args["to"]] += value
        for coin, changes in deltas.items():
            accounts = list(changes)
            for start in range(0, len(accounts), BALANCES_PER_QUERY):
                chunk = accounts[start : start + BALANCES_PER_QUERY]
                held = session.scalars(
                    select(Balance).where(Balance.coin == coin, Balance.account.in_(chunk))
                ).all()
                for row in held:
                    row.amount = int(row.amount) + changes.pop(row.account)
            insert_many(
                session,
                Balance,
                [{"coin": coin, "account": account, "amount": delta} for account, delta in changes.items()],
            )

    def rebuild_balances(self, session: Session) -> None:
        session.execute(delete(Balance))
        session.flush()
        transfers = session.execute(
            select(ChainEvent.contract, ChainEvent.args)
            .where(ChainEvent.event == "Transfer")
            .order_by(ChainEvent.block_number, ChainEvent.log_index)
        ).all()
        self._apply_transfers(session, [(coin, args) for coin, args in transfers])

    # -- reorganisations -------------------------------------------------------------------------------------

    def _rewind_if_reorganised(self) -> None:
        """Compares the stored block hashes with the chain's (the newest each round; older ones after a
        mismatch) and deletes what was read from blocks the chain no longer has. The chain is asked
        before the write transaction."""
        newest = select(IndexedBlock.number, IndexedBlock.block_hash).order_by(IndexedBlock.number.desc())
        with self.sessions() as session:
            stored = session.execute(newest.limit(1)).all()
        if not stored or self._chain_hash(stored[0].number) == stored[0].block_hash:
            return
        with self.sessions() as session:
            stored = session.execute(newest).all()
        keep = self.deployment.start_block - 1
        for number, block_hash in stored[1:]:
            if self._chain_hash(number) == block_hash:
                keep = number
                break
        log.warning("chain reorganised: rewinding the index from block %s to %s", stored[0].number, keep)
        with transaction(self.sessions) as session:
            session.execute(delete(ChainEvent).where(ChainEvent.block_number > keep))
            session.execute(delete(IndexedBlock).where(IndexedBlock.number > keep))
            self.rebuild_balances(session)

    def _blocks(self, numbers: list[int]) -> list[dict[str, Any]]:
        """Block headers, BLOCKS_PER_REQUEST to a JSON-RPC batch."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(numbers), BLOCKS_PER_REQUEST):
            chunk = numbers[start : start + BLOCKS_PER_REQUEST]
            found += self.chain.rpc_batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
        for number, block in zip(numbers, found, strict=True):
            if block is None:
                raise BlockMissing(number)
        return found

    def _block(self, number: int) -> dict[str, Any]:
        """The block header as the node sends it (hex fields): cheaper than web3's formatted block."""
        block = self.chain.rpc("eth_getBlockByNumber", [hex(number), False])
        if block is None:
            raise BlockMissing(number)
        return block

    def _chain_hash(self, number: int) -> str | None:
        try:
            return self._block(number)["hash"]
        except BlockMissing:  # a block the chain no longer has
            return None
