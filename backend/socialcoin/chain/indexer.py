"""Reads our contracts' events into the database, with a confirmation depth, resuming where it
stopped, and rewinding when the chain reorganises.

The indexer follows every block up to `head - confirmations`. It keeps the hash of each block that
had our events and of the last block of each round; when a stored hash no longer matches the chain,
it deletes what it read from the abandoned blocks and rebuilds the balances from what remains.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from web3._utils.events import get_event_data

from ..db.base import transaction
from ..db.models import Balance, ChainEvent, IndexedBlock
from .constants import ZERO_ADDRESS
from .gateway import Gateway

log = logging.getLogger(__name__)

ZERO = "0x0000000000000000000000000000000000000000"
KEEP_BLOCK_HASHES = 1024


def _hash(data: Any, field: str = "hash") -> str:
    return "0x" + bytes(HexBytes(data[field])).hex()


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _link_companions(events: list[ChainEvent]) -> None:
    """Gives each Transfer its companion: the issuer's event logged just before a mint, or the coin's
    event logged just after any other Transfer (DebtSettled, PaymentMade, BalanceRecovered...). A
    transaction's logs all sit in one block, so `events` (whole blocks) holds both."""
    at = {(e.tx_hash, e.log_index): e for e in events}
    for event in events:
        if event.event != "Transfer":
            continue
        step = -1 if event.args["from"] == ZERO_ADDRESS else 1
        companion = at.get((event.tx_hash, event.log_index + step))
        if companion is not None:
            event.companion_event, event.companion_args = companion.event, companion.args


class Indexer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: Gateway,
        *,
        confirmations: int = 0,
        max_blocks_per_round: int = 2_000,
    ):
        self.sessions = sessions
        self.gateway = gateway
        self.web3 = gateway.web3
        self.confirmations = confirmations
        self.max_blocks = max_blocks_per_round
        self._events = self._event_abis()
        deployment = gateway.deployment
        self._fixed = {deployment.registry, deployment.issuer, deployment.factory}

    def _event_abis(self) -> dict[tuple[str, bytes], dict[str, Any]]:
        """(contract kind, topic0) -> event ABI"""
        found = {}
        for kind, name in (
            ("registry", "ParticipantRegistry"),
            ("issuer", "ActivityIssuer"),
            ("factory", "CoinFactory"),
            ("coin", "SocialCoin"),
        ):
            for item in self.gateway.abis[name]:
                if item["type"] == "event":
                    found[(kind, event_abi_to_log_topic(item))] = item
        return found

    # -- state ------------------------------------------------------------------------------------------

    def last_block(self, session: Session) -> int:
        last = session.scalar(select(func.max(IndexedBlock.number)))
        return self.gateway.deployment.start_block - 1 if last is None else last

    def known_coins(self, session: Session) -> set[str]:
        rows = session.scalars(
            select(ChainEvent.args).where(
                ChainEvent.contract == self.gateway.deployment.registry, ChainEvent.event == "CoinAdded"
            )
        ).all()
        return {to_checksum_address(args["coin"]) for args in rows}

    # -- one round ----------------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Reads the next range of confirmed blocks; returns how many events it stored."""
        with self.sessions() as session:
            self._rewind_if_reorganised(session)
            last = self.last_block(session)
            coins = self.known_coins(session)
        head = self.web3.eth.block_number - self.confirmations
        if head <= last:
            return 0
        first, end = last + 1, min(head, last + self.max_blocks)
        end_block = self.web3.eth.get_block(end)
        logs = self.web3.eth.get_logs({"fromBlock": first, "toBlock": end})
        blocks = {end: end_block}
        for entry in logs:
            if entry["blockNumber"] not in blocks:
                blocks[entry["blockNumber"]] = self.web3.eth.get_block(entry["blockNumber"])
        # The chain can switch branches while this round reads (between the end block, the logs and their
        # blocks): then the logs may come from blocks the chain no longer has, or miss the new branch's.
        # The range is stored only if its last block did not change and every log's block is the chain's.
        if self._chain_hash(end) != _hash(end_block) or any(
            _hash(entry, "blockHash") != _hash(blocks[entry["blockNumber"]]) for entry in logs
        ):
            log.warning("the chain changed while blocks %s-%s were read; reading them again", first, end)
            return 0
        stored: list[ChainEvent] = []
        with transaction(self.sessions) as session:
            hashes = {end: _hash(end_block)}
            for entry in logs:
                address = to_checksum_address(entry["address"])
                kind = self._kind(address, coins)
                if kind is None:
                    continue
                abi = self._events.get((kind, bytes(entry["topics"][0]))) if entry["topics"] else None
                if abi is None:
                    continue
                decoded = get_event_data(self.web3.codec, abi, entry)
                number = entry["blockNumber"]
                hashes[number] = _hash(entry, "blockHash")
                args = _plain(dict(decoded["args"]))
                event = ChainEvent(
                    block_number=number,
                    block_hash=hashes[number],
                    tx_hash="0x" + bytes(entry["transactionHash"]).hex(),
                    log_index=entry["logIndex"],
                    contract=address,
                    event=decoded["event"],
                    args=args,
                    block_time=datetime.fromtimestamp(blocks[number]["timestamp"], UTC),
                    from_account=args.get("from"),
                    to_account=args.get("to"),
                )
                session.add(event)
                stored.append(event)
                if kind == "registry" and event.event == "CoinAdded":
                    coins.add(to_checksum_address(event.args["coin"]))
                if kind == "coin" and event.event == "Transfer":
                    self._apply_transfer(session, address, event.args)
            _link_companions(stored)
            for number, block_hash in hashes.items():
                session.merge(IndexedBlock(number=number, block_hash=block_hash))
            session.execute(
                delete(IndexedBlock).where(
                    IndexedBlock.number < end - KEEP_BLOCK_HASHES,
                    IndexedBlock.number != self.last_block(session),
                )
            )
        return len(stored)

    def run_until_caught_up(self) -> None:
        while True:
            self.run_once()
            with self.sessions() as session:
                if self.last_block(session) >= self.web3.eth.block_number - self.confirmations:
                    return

    def _kind(self, address: str, coins: set[str]) -> str | None:
        deployment = self.gateway.deployment
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
    def _apply_transfer(session: Session, coin: str, args: dict[str, Any]) -> None:
        value = int(args["value"])
        for account, delta in ((args["from"], -value), (args["to"], value)):
            if account == ZERO:
                continue
            row = session.get(Balance, (coin, account))
            if row is None:
                row = Balance(coin=coin, account=account, amount=0)
                session.add(row)
            row.amount = int(row.amount) + delta

    def rebuild_balances(self, session: Session) -> None:
        session.execute(delete(Balance))
        session.flush()
        transfers = session.scalars(
            select(ChainEvent)
            .where(ChainEvent.event == "Transfer")
            .order_by(ChainEvent.block_number, ChainEvent.log_index)
        ).all()
        for event in transfers:
            self._apply_transfer(session, event.contract, event.args)

    # -- reorganisations -------------------------------------------------------------------------------------

    def _rewind_if_reorganised(self, session: Session) -> None:
        # Every round checks the newest stored hash only; the older ones are read after a mismatch.
        newest = session.scalars(select(IndexedBlock).order_by(IndexedBlock.number.desc()).limit(1)).first()
        if newest is None or self._chain_hash(newest.number) == newest.block_hash:
            return
        older = session.scalars(
            select(IndexedBlock)
            .where(IndexedBlock.number < newest.number)
            .order_by(IndexedBlock.number.desc())
        ).all()
        keep = self.gateway.deployment.start_block - 1
        for block in older:
            if self._chain_hash(block.number) == block.block_hash:
                keep = block.number
                break
        log.warning("chain reorganised: rewinding the index from block %s to %s", newest.number, keep)
        session.execute(delete(ChainEvent).where(ChainEvent.block_number > keep))
        session.execute(delete(IndexedBlock).where(IndexedBlock.number > keep))
        self.rebuild_balances(session)
        session.commit()

    def _chain_hash(self, number: int) -> str | None:
        try:
            block = self.web3.eth.get_block(number)
        except Exception:  # noqa: BLE001 - a block the chain no longer has
            return None
        return _hash(block)
