"""The `socialcoin` command on spreadsheets of 10,000 rows, end to end, beside a baseline from the same run.

    .venv/bin/python bench/csv_batches.py [--rows 10000] [--baseline 200]

(Named csv_batches.py, not csv.py: a script's folder comes first on sys.path, so a bench/csv.py would stand
in for the standard library's csv module in every script of bench/.)

Starts an anvil of its own (port 8595; SOCIALCOIN_BENCH_CSV_CHAIN_PORT), deploys the contracts and the demo
municipality (brownie network socialcoin-bench-csv, declared on its port by tools/networks.py), loads the
backend's demo data into a fresh SQLite database and serves the backend (`python -m socialcoin.server serve`,
API and workers, port 8596; SOCIALCOIN_BENCH_CSV_API_PORT). Then, each timed from start to exit of the
command, which returns once everything is confirmed on chain:

(a) `socialcoin admit` of N residents, each with a custodial wallet awaiting activation (the usual case:
    the letters carry activation codes), registered on chain through the outbox (registerBatch).
    Prints `csv admit N s: S`.
(b) `socialcoin mint` of N rewards, one per resident of (a) (1 to 3 tasks at 1 euro of a new task
    activity), minted through the outbox (grantBatch). Checked on chain: N RewardGranted events with N
    distinct claim ids. Prints `csv mint N s: S`.
Baseline: admitting --baseline residents the way without the command, one POST /municipality/residents
at a time (own wallets: less work per row than (a)), then waiting until the lookup shows every one
registered on chain; scaled per row to N for the ratio.

Targets: (a) and (b) under 30 s for 10,000 rows. They are reported ("target met" / "target MISSED by"),
not asserted: the script exits 0 either way, also when a step fails (it prints the error).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Never let this folder stand in for a standard module (see above) when this script imports others.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
# bench/service.py reads its ports and network from these when it is loaded (load_service_bench).
os.environ["SOCIALCOIN_BENCH_CHAIN_PORT"] = os.environ.get("SOCIALCOIN_BENCH_CSV_CHAIN_PORT", "8595")
os.environ["SOCIALCOIN_BENCH_API_PORT"] = os.environ.get("SOCIALCOIN_BENCH_CSV_API_PORT", "8596")
os.environ["SOCIALCOIN_BENCH_NETWORK"] = "socialcoin-bench-csv"

TARGET_SECONDS = 30.0


def load_service_bench():
    """bench/service.py by path: its anvil, network, database and server helpers, on this script's ports."""
    spec = importlib.util.spec_from_file_location("socialcoin_bench_service", ROOT / "bench" / "service.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_cli(env: dict[str, str], *args: str) -> tuple[float, dict]:
    """Runs `socialcoin ... --json` to its end: (seconds, its JSON answer)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "socialcoin"), *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"socialcoin {args[0]} ended with {done.returncode}: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def write_csv(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def load_cli_test_helpers():
    """tests/cli/conftest.py by path: the backend and activity set-up the CLI tests use."""
    spec = importlib.util.spec_from_file_location(
        "socialcoin_cli_helpers", ROOT / "tests" / "cli" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def baseline(http, count: int) -> float:
    """Seconds to admit `count` residents one POST at a time and see them all registered on chain."""
    from eth_account import Account

    wallets = [Account.create().address for _ in range(count)]
    cases = [f"BASE-{i:05d}" for i in range(count)]
    started = time.perf_counter()
    for case, wallet in zip(cases, wallets, strict=True):
        answer = http.post(
            "/municipality/residents",
            json={
                "name": "Basis",
                "case_number": case,
                "area": "BU02020101",
                "wallet_address": wallet,
                "consent": True,
            },
        )
        answer.raise_for_status()
    while True:
        states = http.post("/municipality/residents/lookup", json={"case_numbers": cases}).json()
        if all(state["onchain"] in ("done", "failed") for state in states):
            break
        time.sleep(0.05)
    return time.perf_counter() - started


def granted_claims(node, issuer: str, from_block: int) -> list[str]:
    from eth_utils import keccak

    topic = "0x" + keccak(text="RewardGranted(address,address,bytes32,uint256,address)").hex()
    logs = node.rpc("eth_getLogs", [{"address": issuer, "fromBlock": hex(from_block), "topics": [topic]}])
    return [log["topics"][3] for log in logs]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000, help="residents admitted and rewards minted")
    parser.add_argument("--baseline", type=int, default=200, help="residents admitted one request at a time")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")

    import httpx

    service = load_service_bench()
    print(f"CSV batch benchmarks (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    results: dict[str, float] = {}
    node = server = None
    work = Path(tempfile.mkdtemp(prefix="socialcoin-bench-csv-"))
    try:
        for port in (service.CHAIN_PORT, service.API_PORT):
            if not service.port_free(port):
                raise RuntimeError(f"port {port} is in use")
        chainnode = service.load_chainnode()
        service.ensure_network()
        node = chainnode.ChainNode(service.CHAIN_PORT)
        node.start()
        deployment = chainnode.deploy_demo(node)
        demo = json.loads(deployment.read_text())
        helpers = load_cli_test_helpers()
        env, token = helpers.prepared_backend(work, node.url, deployment)
        server = service.start_server(env, work / "server.log")
        url = f"http://127.0.0.1:{service.API_PORT}"
        cli_env = {**env, "SOCIALCOIN_API_URL": url, "SOCIALCOIN_TOKEN": token}
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600)

        n = args.rows
        cases = [f"2026-{i:06d}" for i in range(n)]
        residents = write_csv(
            work / "bewoners.csv",
            "dossiernummer;naam;wijk;email",
            [f"{case};Bewoner {i};BU020201{1 + i % 9:02d};" for i, case in enumerate(cases)],
        )
        print(f"(a) socialcoin admit: {n} residents with custodial wallets, until registered on chain")
        seconds, answer = run_cli(cli_env, "admit", str(residents))
        counts = answer["counts"]
        if (counts["new"], counts["done"]) != (n, n):
            raise RuntimeError(f"admit did not register every resident: {counts}")
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in answer["seconds"].items())
        print(f"  {n} residents in {seconds:.2f} s ({phases}): {n / seconds:.0f} rows/s")
        print(f"csv admit {n} s: {seconds:.1f}")
        results["admit"] = seconds

        (activity,) = helpers.task_activities(
            http, demo["coins"]["GKW"], "Klussen in de wijk", budget_cents=40_000_00
        )
        rewards = write_csv(
            work / "beloningen.csv",
            "dossiernummer;activiteit;eenheden;claimkenmerk",
            [f"{case};{activity};{1 + i % 3};2026-03/klus/{i:06d}" for i, case in enumerate(cases)],
        )
        first_block = int(node.rpc("eth_blockNumber"), 16) + 1
        print(f"(b) socialcoin mint: {n} rewards, until minted on chain")
        seconds, answer = run_cli(cli_env, "mint", str(rewards))
        counts = answer["counts"]
        claims = granted_claims(node, demo["contracts"]["ActivityIssuer"], first_block)
        if counts["minted"] != n or len(claims) != n or len(set(claims)) != n:
            raise RuntimeError(f"mint: {counts}, {len(claims)} RewardGranted, {len(set(claims))} distinct")
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in answer["seconds"].items())
        print(
            f"  {n} rewards in {seconds:.2f} s ({phases}): {n / seconds:.0f} rows/s; on chain {n} claim ids"
        )
        print(f"csv mint {n} s: {seconds:.1f}")
        results["mint"] = seconds

        print(
            f"baseline: {args.baseline} residents one POST /municipality/residents at a time, until on chain"
        )
        base = baseline(http, args.baseline)
        scaled = base / args.baseline * n
        ratio = scaled / results["admit"]
        print(
            f"  {args.baseline} in {base:.2f} s: {args.baseline / base:.0f} rows/s; scaled to {n}: "
            f"{scaled:.0f} s; csv admit is {ratio:.1f}x faster per row"
        )
        http.close()
    except Exception:  # noqa: BLE001 - a benchmark reports; it does not fail the build
        print(f"ERROR: the benchmark could not finish (its files, the server log too: {work}):")
        traceback.print_exc(file=sys.stdout)
    else:
        shutil.rmtree(work, ignore_errors=True)
    finally:
        if server is not None:
            service.stop(server)
        if node is not None:
            node.stop()

    print("Targets:")
    for name in ("admit", "mint"):
        if name in results:
            seconds = results[name]
            verdict = service.verdict(seconds < TARGET_SECONDS, f"{seconds - TARGET_SECONDS:.1f} s")
            print(f"  csv {name} {args.rows} < {TARGET_SECONDS:.0f} s: {seconds:.1f} s, {verdict}")
        else:
            print(f"  csv {name}: not measured")
    print(f"(load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
    sys.exit(0)
