"""The simulation's rate: transactions of a synthetic economy (socialcoin.simulation) written through the
service's own paths (domain rules, custodial keys opened with the PIN, the outbox, the indexer) onto anvil,
beside what the PIN's key derivation alone allows in the same run.

    .venv/bin/python bench/simulation.py [--residents 40] [--months 2]

The chain. An anvil of its own (port 8620, SOCIALCOIN_BENCH_SIMULATION_CHAIN_PORT; brownie network
socialcoin-bench-simulation, SOCIALCOIN_BENCH_SIMULATION_NETWORK, declared on that port as `make networks`
does), with the contracts and the demo municipality deployed by the project's brownie scripts; the
simulation runs from its newest block on (its clock moved into the coming months).

The measure. A fresh SQLite database migrated as the service does (as `make run` uses), the economy run end
to end (set-up included: admissions, coins, activities, debts); printed: `simulated transactions/s (sqlite):
N`, the Transfer events the simulation sent per second of wall time, and how many seconds went to
scrypt (custodial wallets are sealed and opened with it: slow on purpose, one at a time per process,
domain/wallets.py). The baseline, measured in the same process: spends per second if each took
nothing but its scrypt derivation (the floor any custodial spend has here), and the rate's ratio to it. No
target: the figure tells how long `make run`'s history takes to write. The script exits 0 either way.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A script's folder comes first on sys.path: never let bench/ stand in for another module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ["SOCIALCOIN_BENCH_CHAIN_PORT"] = os.environ.get("SOCIALCOIN_BENCH_SIMULATION_CHAIN_PORT", "8620")
os.environ["SOCIALCOIN_BENCH_NETWORK"] = os.environ.get(
    "SOCIALCOIN_BENCH_SIMULATION_NETWORK", "socialcoin-bench-simulation"
)


def load_service():
    """bench/service.py: the anvil and deployment helpers the benchmarks share."""
    spec = importlib.util.spec_from_file_location("socialcoin_bench_service", ROOT / "bench" / "service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def scrypt_seconds(rounds: int = 10) -> float:
    """One derivation with the service's parameters, the median of `rounds`."""
    from socialcoin.domain.wallets import _SCRYPT

    took = []
    for i in range(rounds):
        started = time.perf_counter()
        hashlib.scrypt(b"12468|bench", salt=bytes([i]) * 16, **_SCRYPT)
        took.append(time.perf_counter() - started)
    return sorted(took)[rounds // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=40)
    parser.add_argument("--months", type=int, default=2)
    args = parser.parse_args()
    service = load_service()

    from socialcoin.bootstrap import bootstrap
    from socialcoin.domain.wallets import KEY_DERIVATIONS
    from socialcoin.settings import Settings
    from socialcoin.simulation import Config, ConfigError, run

    config = Config(residents=args.residents, months=args.months, merchants=max(4, args.residents // 8))
    try:
        config.check()
    except ConfigError as refused:
        sys.exit(f"bench/simulation.py: {refused}")
    print(f"Simulation rate (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    floor = 1 / scrypt_seconds()
    print(f"  baseline: {floor:,.1f} spends/s if each took only its scrypt derivation")
    chainnode = service.load_chainnode()
    service.ensure_network()
    if not service.port_free(service.CHAIN_PORT):
        sys.exit(f"bench/simulation.py: port {service.CHAIN_PORT} is in use")
    work = Path(tempfile.mkdtemp(prefix="socialcoin-bench-simulation-"))
    node = chainnode.ChainNode(service.CHAIN_PORT)
    node.start()
    try:
        deployment = chainnode.deploy_demo(node)
        url = f"sqlite:///{work / 'simulation.db'}"
        service.create_tables(url)
        settings = Settings(
            environment="test",
            database_url=url,
            rpc_url=node.url,
            deployment_file=deployment,
            evidence_dir=work / "evidence",
            outbox_retry_seconds=0,
        )
        runtime = bootstrap(settings)
        try:
            derived = KEY_DERIVATIONS.derived
            started = time.perf_counter()
            summary = run(runtime, config)
            seconds = time.perf_counter() - started
            derivations = KEY_DERIVATIONS.derived - derived
        finally:
            runtime.close()
    finally:
        node.stop()
        shutil.rmtree(work, ignore_errors=True)
    rate = summary.transactions / seconds
    print(
        f"  {summary.transactions:,} transactions in {seconds:.1f} s ({summary.started_at:%Y-%m-%d} to "
        f"{summary.ended_at:%Y-%m-%d}), {derivations:,} scrypt derivations (~{derivations / floor:.1f} s), "
        f"refused {sum(summary.refused.values())}, failed {summary.failed}"
    )
    print(f"simulated transactions/s (sqlite): {rate:,.1f}")
    print(f"  ratio to the scrypt-only baseline: {rate / floor:.2f}x")


if __name__ == "__main__":
    main()
