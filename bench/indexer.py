"""The indexer's ingest rate: our contracts' events read from anvil into SQLite and into PostgreSQL, from
an empty database until caught up, beside what the node alone takes to answer eth_getLogs for them in the
same run.

    .venv/bin/python bench/indexer.py [--residents 2000] [--grants 30000] [--payments 20000]
        [--per-block 100] [--empty-between 9] [--databases sqlite,postgres] [--profile DIR]

The chain. An anvil of its own (port 8615, SOCIALCOIN_BENCH_INDEXER_CHAIN_PORT; brownie network
socialcoin-bench-indexer, SOCIALCOIN_BENCH_INDEXER_NETWORK, declared on that port as `make networks` does),
with the contracts and the demo municipality deployed by the project's brownie scripts, then filled with real
transactions of our contracts, each leaving its real logs:
- --residents residents and a merchant per 50 of them registered (registerBatch, 500 a transaction:
  ParticipantRegistered each);
- --grants rewards granted by the minter (grantBatch, 200 a transaction: RewardGranted and the mint's
  Transfer each), alternately in the wijk coin GKW and the debt coin ARS;
- --payments transactions by residents: three in four pay a merchant in GKW (pay: Transfer and
  PaymentMade), one in four settles a debt in ARS (settleDebt: Transfer and DebtSettled).
Residents and merchants hold no keys here: anvil sends for them (anvil_autoImpersonateAccount, gas price 0),
so that the chain fills in seconds rather than the minutes signing would take; the contracts check and log
exactly as for signed transactions. Transactions go --per-block to a block (fewer when their gas would not
fit; automine off, then evm_mine), each busy block followed by --empty-between empty ones (default none:
anvil takes about 30 ms to mine one at this state size, and the indexer reads 2,000 blocks in one
eth_getLogs, so they cost it little). Every transaction is checked to have succeeded.

The measure. For each database, a fresh one (SQLite: a file; PostgreSQL: a database of its own on the server
tools/postgres.sh starts, dropped at the end) migrated as the service does, and the service's own Indexer as
the bootstrap builds it (its settings' defaults: confirmations, blocks per round, what it records beside the
events), timed by Indexer.run_until_caught_up from the deployment's first block to the head: every round's
eth_getLogs, block headers, decoding, companions, balances and writes. Checked afterwards: the index holds
exactly the chain's logs of our contracts. Printed: `indexer events/s (sqlite): N` and
`indexer events/s (postgres): N`.

Baselines, in the same run and over the same block ranges: eth_getLogs alone (the node's answers, read as
JSON: what no indexer reading logs over JSON-RPC can beat) and decoding alone (EventDecoder on those logs in
memory). The indexer's rate is printed as a share of each, with the CPU seconds the indexer's process, anvil
and the database server used during the run, and the rate those imply on free cores (events / their sum: the
three work one after another). Target: >= 20,000 events/s on each database, reported ("target met" or
"target MISSED by ..."), never asserted; the script exits 0 either way. The machine's load average is
printed: other work on a 2-core machine moves these figures.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A script's folder comes first on sys.path: never let bench/ stand in for another module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
# bench/service.py reads its port and network from these when it is loaded.
os.environ["SOCIALCOIN_BENCH_CHAIN_PORT"] = os.environ.get("SOCIALCOIN_BENCH_INDEXER_CHAIN_PORT", "8615")
os.environ["SOCIALCOIN_BENCH_NETWORK"] = os.environ.get(
    "SOCIALCOIN_BENCH_INDEXER_NETWORK", "socialcoin-bench-indexer"
)

TARGET = 20_000  # events/s
REGISTRATIONS_PER_TX = 500
GRANTS_PER_TX = 200
RESIDENTS_PER_MERCHANT = 50
GAS_PER_PAYMENT = 300_000  # a bound, well above what a payment uses; the block's limit is 300M
GAS_PER_BATCH = 30_000_000  # a bound for a batch of 200 grants or 500 registrations
# Declared gas a block takes: under anvil's 300M limit, so that nothing stays pending.
GAS_PER_BLOCK = 290_000_000
SEND_PER_REQUEST = 100  # transactions in one JSON-RPC batch
GEITENKAMP = "WK020201"


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# bench/service.py: anvil with the deployment, the brownie network, on this script's port.
service = load_module("socialcoin_bench_service", ROOT / "bench" / "service.py")
databases = service.load_test_helper("databases")


# --------------------------------------------------------------------------------------------------
# Filling the chain
# --------------------------------------------------------------------------------------------------


def address_of(label: str) -> str:
    """A participant's address, made up from a label: nobody holds its key (anvil sends for it)."""
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(text=f"bench indexer|{label}")[-20:])


@dataclass
class Filler:
    """Sends our contracts' transactions through anvil for any address, a block at a time."""

    chain: Any  # socialcoin.chain.gateway.Chain
    per_block: int
    empty_between: int
    pending: list[dict[str, Any]]
    nonces: dict[str, int]
    gas: int = 0
    blocks: int = 0
    transactions: int = 0

    @classmethod
    def on(cls, chain: Any, per_block: int, empty_between: int) -> Filler:
        chain.rpc("anvil_autoImpersonateAccount", [True])
        chain.rpc("evm_setAutomine", [False])
        return cls(chain, per_block, empty_between, [], {})

    def call(self, sender: str, to: str, contract: Any, function: str, args: list[Any], gas: int) -> None:
        if len(self.pending) >= self.per_block or self.gas + gas > GAS_PER_BLOCK:
            self.mine()
        data = self.chain.abis.function(contract, function).encode(args)
        nonce = self.nonces.get(sender)
        if nonce is None:
            nonce = int(self.chain.rpc("eth_getTransactionCount", [sender, "pending"]), 16)
        self.nonces[sender] = nonce + 1
        self.pending.append(
            {
                "from": sender,
                "to": to,
                "data": "0x" + data.hex(),
                "gas": hex(gas),
                "gasPrice": "0x0",
                "nonce": hex(nonce),
            }
        )
        self.gas += gas

    def mine(self) -> None:
        """Mines what is pending into one block (then the empty ones) and checks that each succeeded."""
        if not self.pending:
            return
        for start in range(0, len(self.pending), SEND_PER_REQUEST):
            chunk = self.pending[start : start + SEND_PER_REQUEST]
            self.chain.rpc_batch([("eth_sendTransaction", [tx]) for tx in chunk])
        self.chain.rpc("evm_mine", [])
        receipts = self.chain.rpc("eth_getBlockReceipts", ["latest"])
        failed = [r["transactionHash"] for r in receipts if int(r["status"], 16) != 1]
        if len(receipts) != len(self.pending) or failed:
            raise RuntimeError(
                f"a block mined {len(receipts)} of {len(self.pending)} transactions, failed: {failed[:3]}"
            )
        self.transactions += len(self.pending)
        self.pending, self.gas = [], 0
        self.blocks += 1
        if self.empty_between:
            self.chain.rpc("anvil_mine", [hex(self.empty_between)])
            self.blocks += self.empty_between

    def close(self) -> None:
        self.mine()
        self.chain.rpc("evm_setAutomine", [True])


def fill(chain: Any, demo: dict, args: argparse.Namespace) -> dict[str, int]:
    """Registers, grants and pays through our contracts; returns how many of each were sent."""
    from eth_utils import keccak

    from socialcoin.areas import to_bytes8
    from socialcoin.chain.constants import Kind, Purpose, purpose_set
    from socialcoin.chain.contracts import Contract

    deployment, people, coins = chain.deployment, demo["demo"], demo["coins"]
    residents = [address_of(f"resident {i}") for i in range(args.residents)]
    merchants = [address_of(f"merchant {i}") for i in range(max(1, args.residents // RESIDENTS_PER_MERCHANT))]
    record = keccak(text="bench indexer record")
    registrations = [
        (account, int(Kind.RESIDENT), to_bytes8(f"BU020201{i % 10:02d}"), 0, record)
        for i, account in enumerate(residents)
    ] + [
        (account, int(Kind.MERCHANT), to_bytes8(GEITENKAMP), purpose_set(Purpose.LOCAL_SPENDING), record)
        for account in merchants
    ]
    filler = Filler.on(chain, args.per_block, args.empty_between)
    admin, minter = people["admin"], people["minter"]
    for start in range(0, len(registrations), REGISTRATIONS_PER_TX):
        chunk = registrations[start : start + REGISTRATIONS_PER_TX]
        filler.call(admin, deployment.registry, Contract.REGISTRY, "registerBatch", [chunk], GAS_PER_BATCH)
    grant_value = 10_00
    filler.call(
        admin,
        deployment.issuer,
        Contract.ISSUER,
        "increaseMinterAllowance",
        [minter, args.grants * grant_value],
        GAS_PER_PAYMENT,
    )
    filler.mine()
    grants = [
        (
            coins["GKW" if i % 2 == 0 else "ARS"],
            residents[(i // 2) % len(residents)],
            grant_value,
            keccak(text=f"bench indexer|grant {i}"),
        )
        for i in range(args.grants)
    ]
    for start in range(0, len(grants), GRANTS_PER_TX):
        chunk = grants[start : start + GRANTS_PER_TX]
        filler.call(minter, deployment.issuer, Contract.ISSUER, "grantBatch", [chunk], GAS_PER_BATCH)
    filler.mine()
    # Each payment moves a little of what the grants gave (a resident holds grants / residents / 2 of each).
    settled = 0
    for i in range(args.payments):
        payer = residents[i % len(residents)]
        reference = keccak(text=f"bench indexer|payment {i}")
        if i % 4 == 3:
            filler.call(payer, coins["ARS"], Contract.COIN, "settleDebt", [1, reference], GAS_PER_PAYMENT)
            settled += 1
        else:
            merchant = merchants[i % len(merchants)]
            filler.call(payer, coins["GKW"], Contract.COIN, "pay", [merchant, 1, reference], GAS_PER_PAYMENT)
    filler.close()
    return {
        "participants": len(registrations),
        "grants": len(grants),
        "payments": args.payments - settled,
        "debt settlements": settled,
        "transactions": filler.transactions,
        "blocks": filler.blocks,
    }


# --------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------


def block_ranges(first: int, last: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(first, last + 1, size):
        yield start, min(last, start + size - 1)


def our_logs_alone(chain: Any, ranges: list[tuple[int, int]]) -> tuple[list[dict[str, Any]], float]:
    """Every log in the ranges (eth_getLogs as the indexer asks it), and the seconds it took."""
    started = time.perf_counter()
    logs: list[dict[str, Any]] = []
    for first, last in ranges:
        logs += chain.rpc("eth_getLogs", [{"fromBlock": hex(first), "toBlock": hex(last)}])
    return logs, time.perf_counter() - started


def decode_alone(indexer: Any, logs: list[dict[str, Any]]) -> tuple[int, float]:
    """The indexer's decoding of every log of our contracts, in memory (no node, no database): (how many
    logs, seconds)."""
    from socialcoin.chain.events import checksummed

    coins = set(indexer.deployment.coins.values())
    checksummed.cache_clear()
    started = time.perf_counter()
    decoded = 0
    for entry in logs:
        kind = indexer._kind(checksummed(entry["address"]), coins)
        if kind is not None and indexer.decoder.decode(kind, entry) is not None:
            decoded += 1
    return decoded, time.perf_counter() - started


def database(kind: str, work: Path) -> AbstractContextManager[str]:
    """A new empty database of `kind` (sqlite, or postgres on the server tools/postgres.sh starts)."""
    server = None
    if kind == "postgres":
        script = ["bash", str(ROOT / "tools" / "postgres.sh")]
        server = subprocess.run(script, capture_output=True, text=True, check=True).stdout.strip()
    return databases.empty_database(work, "bench_indexer", server)


@dataclass
class Run:
    events: int
    seconds: float
    cpu: dict[str, float]  # CPU seconds during the run: this process, anvil, the database server

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def cpu_seconds(process: Any) -> float:
    times = process.cpu_times()
    return times.user + times.system


def server_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL processes serving `database` (ours alone: its name is the run's own)."""
    import psutil

    total = 0.0
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and database in " ".join(process.info["cmdline"] or ()):
            total += cpu_seconds(process)
    return total


def index_from_empty(settings: Any, expected: int, anvil_pid: int, profile: Path | None) -> Run:
    """The service's indexer from an empty (migrated) database until caught up; checks what it stored."""
    import psutil
    from sqlalchemy import func, select

    from socialcoin.bootstrap import bootstrap
    from socialcoin.chain.events import checksummed
    from socialcoin.db.models import ChainEvent

    runtime = bootstrap(settings)
    try:
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(ChainEvent)) == 0
        postgres = runtime.engine.dialect.name == "postgresql"
        database = runtime.engine.url.database or ""
        checksummed.cache_clear()  # each database starts cold, as a fresh process would
        profiler = cProfile.Profile() if profile is not None else None
        anvil = psutil.Process(anvil_pid)
        before = (time.process_time(), cpu_seconds(anvil), server_cpu(database) if postgres else 0.0)
        started = time.perf_counter()
        if profiler is not None:
            profiler.runcall(runtime.indexer.run_until_caught_up)
        else:
            runtime.indexer.run_until_caught_up()
        seconds = time.perf_counter() - started
        after = (time.process_time(), cpu_seconds(anvil), server_cpu(database) if postgres else 0.0)
        if profiler is not None and profile is not None:
            profiler.dump_stats(profile)
        with runtime.sessions() as session:
            stored = session.scalar(select(func.count()).select_from(ChainEvent)) or 0
        if stored != expected:
            raise RuntimeError(f"the index holds {stored} events, the chain {expected} logs of our contracts")
        used = [b - a for a, b in zip(before, after, strict=True)]
        cpu = {"indexer": used[0], "anvil": used[1]} | ({"postgres": used[2]} if postgres else {})
        return Run(stored, seconds, cpu)
    finally:
        runtime.close()


def timed(label: str, step: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = step()
    print(f"  {label} in {time.perf_counter() - started:.1f} s (not measured)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=2_000)
    parser.add_argument("--grants", type=int, default=30_000, help="rewards granted (2 events each)")
    parser.add_argument("--payments", type=int, default=20_000, help="payments and debt settlements (2 each)")
    parser.add_argument("--per-block", type=int, default=100, help="transactions in each busy block")
    parser.add_argument("--empty-between", type=int, default=0, help="empty blocks after each busy one")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics of each run into DIR")
    args = parser.parse_args()
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown or not databases or args.residents < 1 or args.per_block < 1 or args.empty_between < 0:
        parser.error("--databases takes sqlite and/or postgres; --residents and --per-block at least 1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")

    print(f"Indexer ingest rate (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    rates: dict[str, float] = {}
    node = None
    work = Path(tempfile.mkdtemp(prefix="socialcoin-bench-indexer-"))
    try:
        if not service.port_free(service.CHAIN_PORT):
            raise RuntimeError(f"port {service.CHAIN_PORT} is in use")
        chainnode = service.load_chainnode()
        service.ensure_network()
        node = chainnode.ChainNode(service.CHAIN_PORT)
        node.start()
        deployment = timed("deployed the contracts and the demo", lambda: chainnode.deploy_demo(node))

        from socialcoin.chain.gateway import Chain
        from socialcoin.settings import Settings

        settings = Settings(
            environment="test",
            database_url=f"sqlite:///{work / 'unused.db'}",
            rpc_url=node.url,
            deployment_file=deployment,
            evidence_dir=work / "evidence",
        )
        chain = Chain.connect(node.url, deployment, settings.build_dir, timeout=120)
        demo = json.loads(deployment.read_text())
        sent = timed("filled the chain", lambda: fill(chain, demo, args))
        print("  " + ", ".join(f"{count:,} {what}" for what, count in sent.items()))

        from socialcoin.chain.indexer import Indexer
        from socialcoin.db.base import make_engine, make_sessions

        # The indexer as the bootstrap makes it, for its decoder and range size (its database is never used).
        indexer = Indexer(make_sessions(make_engine(settings.database_url)), chain)
        head = chain.block_number()
        ranges = list(block_ranges(chain.deployment.start_block, head, indexer.max_blocks))
        our_logs_alone(chain, ranges)  # the node's first answers over a range are slower: not counted
        logs, fetch_seconds = our_logs_alone(chain, ranges)
        decoded, decode_seconds = decode_alone(indexer, logs)
        fetch_rate, decode_rate = len(logs) / fetch_seconds, decoded / decode_seconds
        print(
            f"  blocks {chain.deployment.start_block}-{head} in {len(ranges)} ranges of "
            f"{indexer.max_blocks}: {len(logs):,} logs, {decoded:,} of them our contracts' events"
        )
        print(f"  baseline: eth_getLogs alone {fetch_seconds:.2f} s, {fetch_rate:,.0f} events/s")
        print(f"  baseline: decoding alone {decode_seconds:.2f} s, {decode_rate:,.0f} events/s")

        for name in databases:
            with database(name, work) as url:
                profile = args.profile / f"indexer-{name}.prof" if args.profile else None
                if args.profile:
                    args.profile.mkdir(parents=True, exist_ok=True)
                run = index_from_empty(
                    settings.model_copy(update={"database_url": url}), decoded, node.process.pid, profile
                )
            rates[name] = run.rate
            cpu = ", ".join(f"{who} {seconds:.2f} s" for who, seconds in run.cpu.items())
            print(
                f"  {name}: {run.events:,} events in {run.seconds:.2f} s "
                f"({run.rate / fetch_rate:.2f} of the eth_getLogs rate, "
                f"{run.rate / decode_rate:.2f} of the decoding rate); CPU: {cpu}"
            )
            print(f"indexer events/s ({name}): {run.rate:.0f}")
            # The indexer, anvil and the database server work one after another: with cores of their own the
            # run would take about the sum of their CPU seconds (less, where COPY streams beside the client).
            print(f"  {name} on free cores: about {run.events / sum(run.cpu.values()):,.0f} events/s")
            if profile is not None:
                pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
    except Exception:  # noqa: BLE001 - a benchmark reports; it does not fail the build
        print(f"ERROR: the benchmark could not finish (its files: {work}):")
        traceback.print_exc(file=sys.stdout)
        work = Path()  # keep the files
    finally:
        if node is not None:
            node.stop()
        if work != Path():
            shutil.rmtree(work, ignore_errors=True)

    print("Targets:")
    for name in databases:
        if name in rates:
            rate = rates[name]
            found = service.verdict(rate >= TARGET, f"{TARGET - rate:,.0f} events/s")
            print(f"  indexer events/s ({name}) >= {TARGET:,}: {rate:,.0f}, {found}")
        else:
            print(f"  indexer events/s ({name}): not measured")
    print(f"(load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
    sys.exit(0)
