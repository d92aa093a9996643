"""The outbox and the indexer when the chain restarts or reorganises.

Restart: anvil's state is dumped and loaded into a new anvil process while the workers run; the
transactions that sat in the old node's pool are gone and must be sent again (the same bytes), and
nothing may be minted twice. Reorganisation: anvil snapshots and reverts (evm_snapshot/evm_revert,
then different blocks) make blocks disappear under the indexer and the outbox; the indexer must
rewind and equal the chain, and with confirmations it must never show an event that is not yet
confirmed.

The restart tests run an anvil of their own on SOCIALCOIN_TEST_RESTART_PORT (8591), started from the
suite's chain's deployed state; the reorganisation tests use the suite's chain (snapshot and reverted
around each test).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from eth_utils import event_abi_to_log_topic, keccak, to_checksum_address
from sqlalchemy import create_engine, func, select

from chainnode import ChainNode
from contracts import contracts
from queueing import queue_attested
from socialcoin.bootstrap import bootstrap
from socialcoin.chain import indexer
from socialcoin.db.base import Base, transaction
from socialcoin.db.migrate import stamp_head
from socialcoin.db.models import Balance, ChainEvent, ChainTx, IndexedBlock, OutboxItem
from socialcoin.runtime import Runtime
from socialcoin.settings import Settings
from test_crash_recovery import assert_minted_exactly_once, chain_state, sign_claims


def restart_settings(node: ChainNode, database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        rpc_url=node.url,
        deployment_file=node.deployment_file,
        evidence_dir=tmp_path / "evidence",
    )


def start_runtime(settings, **changes) -> Runtime:
    engine = create_engine(settings.database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    stamp_head(settings.database_url)
    return bootstrap(settings.model_copy(update=changes))


# --------------------------------------------------------------------------------------------------
# The index against the chain
# --------------------------------------------------------------------------------------------------


def our_logs(runtime: Runtime, demo: dict, to_block: int) -> set[tuple]:
    """Every log of our contracts up to `to_block`, as (block, block hash, tx hash, log index)."""
    gateway = contracts(runtime)
    topics = {
        "0x" + event_abi_to_log_topic(e).hex()
        for name in ("ParticipantRegistry", "ActivityIssuer", "CoinFactory", "SocialCoin")
        for e in gateway.abis[name]
        if e["type"] == "event"
    }
    deployment = gateway.deployment
    addresses = [deployment.registry, deployment.issuer, deployment.factory, *demo["coins"].values()]
    logs = gateway.web3.provider.make_request(
        "eth_getLogs",
        [{"fromBlock": hex(deployment.start_block), "toBlock": hex(to_block), "address": addresses}],
    )["result"]
    return {
        (int(e["blockNumber"], 16), e["blockHash"], e["transactionHash"], int(e["logIndex"], 16))
        for e in logs
        if e["topics"] and e["topics"][0] in topics
    }


def assert_index_equals_chain(runtime: Runtime, demo: dict) -> None:
    """The indexed events are exactly the chain's up to head - confirmations, and every indexed balance
    (and every holder the chain's Transfer logs name) is the coin's balanceOf at that block."""
    web3 = contracts(runtime).web3
    confirmed = web3.eth.block_number - runtime.indexer.confirmations
    with runtime.sessions() as session:
        assert runtime.indexer.last_block(session) == confirmed
        indexed = {
            (e.block_number, e.block_hash, e.tx_hash, e.log_index)
            for e in session.scalars(select(ChainEvent))
        }
        balances = {(b.coin, b.account): int(b.amount) for b in session.scalars(select(Balance))}
        transfers = session.scalars(select(ChainEvent).where(ChainEvent.event == "Transfer")).all()
        holders = {(e.contract, e.args[side]) for e in transfers for side in ("from", "to")}
    chain = our_logs(runtime, demo, confirmed)
    assert indexed - chain == set(), "indexed events the chain does not have (up to the confirmed block)"
    assert chain - indexed == set(), "events on the chain the index misses"
    holders = {(coin, to_checksum_address(account)) for coin, account in holders} | set(balances)
    holders.discard(None)
    zero = "0x0000000000000000000000000000000000000000"
    for coin, account in sorted(holders):
        if account == zero:
            continue
        on_chain = contracts(runtime).coin(coin).functions.balanceOf(account).call(block_identifier=confirmed)
        assert balances.get((coin, account), 0) == on_chain, (coin, account)


def send(function, sender: str) -> str:
    """A transaction from one of the node's unlocked development accounts, mined; its hash."""
    web3 = function.w3
    tx_hash = function.transact({"from": sender, "gasPrice": 0})
    assert web3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.01)["status"] == 1
    return "0x" + bytes(tx_hash).hex()


def admin_mint(runtime: Runtime, demo: dict, resident: str, coin: str, amount: int, reason: str) -> str:
    issuer = contracts(runtime).issuer
    return send(
        issuer.functions.adminMint(demo["coins"][coin], demo["demo"][resident], amount, keccak(text=reason)),
        demo["demo"]["minter"],
    )


def pay_bakery(runtime: Runtime, demo: dict, resident: str, amount: int, reference: str) -> str:
    coin = contracts(runtime).coin(demo["coins"]["GKW"])
    return send(
        coin.functions.pay(demo["demo"]["bakery"], amount, keccak(text=reference)), demo["demo"][resident]
    )


def indexed_tx_hashes(runtime: Runtime) -> set[str]:
    with runtime.sessions() as session:
        return set(session.scalars(select(ChainEvent.tx_hash)).all())


def count_items(runtime: Runtime, *statuses: str) -> int:
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status.in_(statuses))
        )


def wait_until(condition, timeout: float = 60, message: str = "", between=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {message}")
        if between is not None:
            between()
        time.sleep(0.05)


# --------------------------------------------------------------------------------------------------
# Restart
# --------------------------------------------------------------------------------------------------


def test_a_chain_restart_in_the_middle_of_work_loses_nothing_and_doubles_nothing(
    restart_node, database_url, tmp_path
):
    demo = json.loads(restart_node.deployment_file.read_text())
    runtime = start_runtime(
        restart_settings(restart_node, database_url, tmp_path), confirmations=1, mint_batch_size=25
    )
    claims = sign_claims(demo, 300, "restart")
    waves = [claims[:100], claims[100:200], claims[200:]]
    before = chain_state(contracts(runtime), demo)

    def enqueue(wave):
        with transaction(runtime.sessions) as session:
            queue_attested(session, wave)

    def mine():
        restart_node.mine(1)  # the confirmation depth needs blocks after the last transaction

    # Which transactions the outbox sends (again) once the node is back.
    resent: list[str] = []
    restarted = threading.Event()
    send = runtime.outbox._send

    def recording_send(tx):
        if restarted.is_set():
            resent.append(tx.tx_hash)
        send(tx)

    runtime.outbox._send = recording_send
    runtime.start_workers(interval=0.05)
    try:
        enqueue(waves[0])
        wait_until(lambda: count_items(runtime, "done") == 100, message="first wave", between=mine)

        # The node stops mining; the second wave is signed and sent into its pool, then the node restarts
        # from its saved state: what was mined survives, the pool does not.
        restart_node.rpc("evm_setAutomine", [False])
        enqueue(waves[1])
        wait_until(lambda: count_items(runtime, "submitted") == 100, message="second wave sent")
        wait_until(lambda: len(_tx_hashes(runtime, "sent")) == 4, message="second wave in the pool")
        in_pool = _tx_hashes(runtime, "sent")
        assert all(restart_node.rpc("eth_getTransactionByHash", [h])["blockNumber"] is None for h in in_pool)

        restart_node.dump_state(tmp_path / "state.json")
        restart_node.stop()
        restarted.set()
        restart_node.start(load_state=tmp_path / "state.json")  # the workers go on meanwhile

        enqueue(waves[2])
        wait_until(lambda: count_items(runtime, "done") == 300, message="all waves", between=mine)
        wait_until(
            lambda: _indexed_to(runtime) >= contracts(runtime).web3.eth.block_number - 1,
            message="indexer caught up",
        )
    finally:
        runtime.stop_workers()

    try:
        # The new node had lost its pool: the outbox sent those transactions again, as the very same bytes.
        assert in_pool <= set(resent), "the transactions in the old node's pool were not sent again"
        assert all(restart_node.rpc("eth_getTransactionReceipt", [h])["status"] == "0x1" for h in in_pool)
        assert_minted_exactly_once(runtime, demo, claims, before)
        runtime.indexer.run_until_caught_up()
        assert_index_equals_chain(runtime, demo)
        with runtime.sessions() as session:
            minted = session.scalar(
                select(func.count())
                .select_from(ChainEvent)
                .where(ChainEvent.event == "ActivityMinted", ChainEvent.block_number > before["block"])
            )
        assert minted == 300
    finally:
        runtime.close()


def _indexed_to(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return runtime.indexer.last_block(session)


def test_the_indexer_resumes_after_a_restart_of_the_chain_and_of_itself(restart_node, database_url, tmp_path):
    demo = json.loads(restart_node.deployment_file.read_text())
    settings = restart_settings(restart_node, database_url, tmp_path)
    runtime = start_runtime(settings)
    admin_mint(runtime, demo, "resident_anna", "GKW", 300, "before")
    runtime.indexer.run_until_caught_up()
    runtime.close()
    hashes = {n: restart_node.rpc("eth_getBlockByNumber", [hex(n), False])["hash"] for n in range(1, 6)}

    restart_node.dump_and_restart(tmp_path / "state.json")
    runtime = start_runtime(settings)
    try:
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(IndexedBlock)) > 0
        # anvil keeps its blocks across the restart, so the index has nothing to rewind.
        assert hashes == {
            n: restart_node.rpc("eth_getBlockByNumber", [hex(n), False])["hash"] for n in range(1, 6)
        }
        pay_bakery(runtime, demo, "resident_anna", 120, "after restart")
        admin_mint(runtime, demo, "resident_bram", "ASC", 80, "after restart")
        runtime.indexer.run_until_caught_up()  # a duplicate (tx hash, log index) would fail to insert
        assert_index_equals_chain(runtime, demo)
    finally:
        runtime.close()


# --------------------------------------------------------------------------------------------------
# Reorganisations
# --------------------------------------------------------------------------------------------------


# The indexer reads a range's logs in pieces of LOG_BLOCKS_PER_REQUEST blocks, the next asked while the last
# is decoded: with 1, every range of these tests is read in several pieces.
PIECES = pytest.mark.parametrize("log_blocks_per_request", [indexer.LOG_BLOCKS_PER_REQUEST, 1])


@pytest.fixture
def log_blocks_per_request(request, monkeypatch):
    monkeypatch.setattr(indexer, "LOG_BLOCKS_PER_REQUEST", request.param)
    return request.param


@PIECES
@pytest.mark.parametrize("new_branch", ["shorter", "longer"])
def test_the_indexer_rewinds_blocks_that_disappear_and_then_equals_the_chain(
    settings, chain, demo, new_branch, log_blocks_per_request
):
    runtime = start_runtime(settings)
    try:
        runtime.indexer.run_until_caught_up()
        fork = chain.snapshot()
        abandoned = {
            admin_mint(runtime, demo, "resident_anna", "GKW", 500, "abandoned 1"),
            pay_bakery(runtime, demo, "resident_anna", 250, "abandoned sale"),
            admin_mint(runtime, demo, "resident_chaima", "ASC", 700, "abandoned 2"),
        }
        chain.mine(2)
        runtime.indexer.run_until_caught_up()
        assert abandoned <= indexed_tx_hashes(runtime)
        assert_index_equals_chain(runtime, demo)

        chain.revert(fork)
        kept = {admin_mint(runtime, demo, "resident_bram", "GKW", 900, "the other branch")}
        if new_branch == "longer":
            kept.add(pay_bakery(runtime, demo, "resident_bram", 400, "other branch sale"))
            chain.mine(6)
        runtime.indexer.run_until_caught_up()
        assert not abandoned & indexed_tx_hashes(runtime)
        assert kept <= indexed_tx_hashes(runtime)
        assert_index_equals_chain(runtime, demo)
    finally:
        runtime.close()


def test_with_confirmations_the_indexer_shows_only_confirmed_events_and_rewinds_deep_reorgs(
    settings, chain, demo
):
    runtime = start_runtime(settings, confirmations=3)

    def step() -> None:
        runtime.indexer.run_once()
        head = contracts(runtime).web3.eth.block_number
        with runtime.sessions() as session:
            newest = session.scalar(select(func.max(ChainEvent.block_number)))
        assert newest is None or newest <= head - 3, "an event from an unconfirmed block is shown"
        assert_index_equals_chain(runtime, demo)

    try:
        runtime.indexer.run_until_caught_up()
        step()

        # A shallow reorganisation (2 blocks, within the depth): the index never sees them.
        fork = chain.snapshot()
        shallow = {
            admin_mint(runtime, demo, "resident_anna", "GKW", 11, "shallow 1"),
            admin_mint(runtime, demo, "resident_bram", "ARS", 12, "shallow 2"),
        }
        step()
        assert not shallow & indexed_tx_hashes(runtime)
        chain.revert(fork)
        replaced = admin_mint(runtime, demo, "resident_chaima", "ASC", 13, "instead")
        chain.mine(1)  # the head back where it was: the other branch is as long as the abandoned one
        step()
        assert replaced not in indexed_tx_hashes(runtime)
        chain.mine(3)
        step()
        assert replaced in indexed_tx_hashes(runtime) and not shallow & indexed_tx_hashes(runtime)

        # A deep reorganisation (5 blocks, beyond the depth): the index showed two of them and rewinds.
        fork = chain.snapshot()
        deep = [admin_mint(runtime, demo, "resident_anna", "ASC", 20 + i, f"deep {i}") for i in range(5)]
        step()
        assert set(deep[:2]) <= indexed_tx_hashes(runtime) and not set(deep[2:]) & indexed_tx_hashes(runtime)
        chain.revert(fork)
        other = [pay_bakery(runtime, demo, "resident_anna", 30 + i, f"other {i}") for i in range(3)]
        chain.mine(3)
        step()
        assert not set(deep) & indexed_tx_hashes(runtime)
        assert set(other) <= indexed_tx_hashes(runtime)
    finally:
        runtime.close()


@PIECES
def test_a_reorganisation_while_the_indexer_reads_a_range_is_caught(
    settings, chain, demo, monkeypatch, log_blocks_per_request
):
    """The chain switches branches between the indexer's first eth_getLogs and its next calls (with pieces
    of one block: while the next piece is being read)."""
    runtime = start_runtime(settings)
    try:
        runtime.indexer.run_until_caught_up()
        fork = chain.snapshot()
        abandoned = admin_mint(runtime, demo, "resident_anna", "GKW", 40, "read then abandoned")
        chain.mine(1)
        indexer_chain = runtime.indexer.chain
        rpc = indexer_chain.rpc
        switched = []

        def get_logs_then_switch(method, params, **kwargs):
            answer = rpc(method, params, **kwargs)
            if method == "eth_getLogs" and not switched:
                switched.append(True)
                chain.revert(fork)
                admin_mint(runtime, demo, "resident_bram", "GKW", 41, "the branch that stays")
                chain.mine(1)
            return answer

        monkeypatch.setattr(indexer_chain, "rpc", get_logs_then_switch)
        runtime.indexer.run_until_caught_up()
        assert switched
        assert abandoned not in indexed_tx_hashes(runtime)
        assert_index_equals_chain(runtime, demo)
    finally:
        runtime.close()


def test_the_outbox_sends_again_a_transaction_whose_block_was_reorganised_away(settings, chain, demo):
    runtime = start_runtime(settings, confirmations=3)
    try:
        claims = sign_claims(demo, 60, "reorg")
        before = chain_state(contracts(runtime), demo)
        with transaction(runtime.sessions) as session:
            queue_attested(session, claims)
        fork = chain.snapshot()
        runtime.outbox.submit()
        wait_until(
            lambda: runtime.outbox.confirm() == 0 and _tx_statuses(runtime) == {"mined"},
            message="the batch mined, not yet confirmed",
        )
        (mined,) = _tx_hashes(runtime)

        chain.revert(fork)  # the block with the batch disappears; anvil forgets the transaction
        chain.mine(2)  # and the chain goes on without it
        assert chain.rpc("eth_getTransactionByHash", [mined]) is None
        for _ in range(50):
            runtime.outbox.run_once()
            if count_items(runtime, "done") == len(claims):
                break
            chain.mine(1)
        else:
            raise AssertionError(
                f"outbox stuck: items {count_items(runtime, 'submitted')} submitted, "
                f"transactions {_tx_statuses(runtime)}"
            )
        assert _tx_hashes(runtime) == {mined}, "sent again as the same transaction"
        assert_minted_exactly_once(runtime, demo, claims, before)
    finally:
        runtime.close()


def _tx_statuses(runtime: Runtime) -> set[str]:
    with runtime.sessions() as session:
        return set(session.scalars(select(ChainTx.status)).all())


def _tx_hashes(runtime: Runtime, status: str | None = None) -> set[str]:
    query = (
        select(ChainTx.tx_hash) if status is None else select(ChainTx.tx_hash).where(ChainTx.status == status)
    )
    with runtime.sessions() as session:
        return set(session.scalars(query).all())
