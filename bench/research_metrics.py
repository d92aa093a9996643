"""All research figures (socialcoin.research.metrics.all_figures) on a synthetic ledger of 1M transfers.

    .venv/bin/python bench/research_metrics.py [--transfers 1000000] [--seed 11]

The ledger (seeded, no chain): about 10,000 residents in 8 wijken of one gemeente, 300 merchants, 20
organisations, 3 coins (a gemeente-wide and a wijk spending coin, a debt-settlement coin) over 18 months, with
the subtypes mixed as a running scheme would have them (mostly payments; rewards, person-to-person, refunds,
debts, services, payouts, a few expiries and recoveries). Residents shop by habit: 85 % of their payments go
to one of 6 favourite shops in their own wijk, the rest to any merchant by popularity. Every payer holds what
it pays: the generator keeps balances, so the first-in-first-out trace sees a whole ledger. It is written to
Parquet in a temporary folder.

A child process reads it back and computes all_figures on it; it reports the wall time of that call, its CPU
time, and the child's peak resident set size (resource.getrusage(RUSAGE_SELF).ru_maxrss: the kernel's
high-water mark of the process's memory, numpy and Arrow buffers included, which tracemalloc does not see).
The peak includes the interpreter, the libraries and the loaded frames; the figure after "above the loaded
frames" subtracts the resident size measured just before the call. Baseline from the same child: one pandas
group-by sum of the transfers' value per coin and month (a single pass over the data), for the ratio.

Prints `metrics 1M transfers s: N` and `metrics 1M transfers peak MB: N` (with --transfers other than 1M,
the count in the label changes). Targets: under 10 s and within 2048 MB, reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# Never let this folder stand in for a standard module when this script imports others.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

TARGET_SECONDS = 10.0
TARGET_MB = 2048.0
START = pd.Timestamp("2025-01-01", tz="UTC")
MONTHS = 18
WIJKEN = [f"WK0202{w:02d}" for w in range(1, 9)]
FAVOURITES = 6

# Share of each kind of event the generator draws (a payer lacking the balance earns a reward instead).
MIX = {
    "activity_reward": 0.14,
    "reward_grant": 0.05,
    "admin_mint": 0.004,
    "payment": 0.58,
    "person_to_person": 0.08,
    "refund": 0.02,
    "debt_settlement": 0.045,
    "service_redemption": 0.03,
    "merchant_payout": 0.045,
    "expiry_reclaim": 0.004,
    "recovery": 0.002,
}
SARAFU = {
    "activity_reward": "DISBURSEMENT",
    "reward_grant": "DISBURSEMENT",
    "admin_mint": "DISBURSEMENT",
    "payment": "STANDARD",
    "person_to_person": "STANDARD",
    "refund": "STANDARD",
    "debt_settlement": "RECLAMATION",
    "service_redemption": "RECLAMATION",
    "merchant_payout": "AGENT_OUT",
    "expiry_reclaim": "RECLAMATION",
    "recovery": None,
}
ZERO = "0x0000000000000000000000000000000000000000"


def address(i: int) -> str:
    return "0x" + f"{i:040x}"


def synthetic_ledger(count: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    residents, merchants, organisations = 10_000, 300, 20
    people = residents + merchants + organisations
    wijk = rng.integers(0, len(WIJKEN), people)
    buurt = rng.integers(1, 6, people)
    areas = [f"BU{WIJKEN[w][2:]}{b:02d}" for w, b in zip(wijk, buurt, strict=True)]
    kinds = ["resident"] * residents + ["merchant"] * merchants + ["organisation"] * organisations
    addresses = [address(i + 1) for i in range(people)]
    # Recovered wallets get fresh addresses after these.
    spare = iter(address(people + 1 + i) for i in range(count))
    participants = pd.DataFrame(
        {
            "address": pd.array(addresses, dtype="string"),
            "kind": pd.Categorical(kinds),
            "area": pd.array(areas, dtype="string"),
            "registered_at": START,
            "replaced_by": pd.array([""] * people, dtype="string"),
        }
    )
    coin_ids = [address(0xC0 + i) for i in range(3)]
    coins = pd.DataFrame(
        {
            "coin": pd.array(coin_ids, dtype="string"),
            "symbol": pd.array(["GRO", "WIJK", "SCHULD"], dtype="string"),
            "name": pd.array(["Gemeentemunt", "Wijkmunt", "Schuldmunt"], dtype="string"),
            "purpose": pd.Categorical(["LOCAL_SPENDING", "LOCAL_SPENDING", "DEBT_SETTLEMENT"]),
            "area": pd.array(["GM0202", WIJKEN[0], "GM0202"], dtype="string"),
            "expiry": pd.Series([pd.NaT] * 3, dtype="datetime64[ns, UTC]"),
            "person_to_person": [True, True, False],
            "holding_cap": np.array([0, 50_000, 0], dtype=np.int64),
            "created_at": START,
        }
    )

    kinds_drawn = rng.choice(list(MIX), size=count, p=np.array(list(MIX.values())) / sum(MIX.values()))
    coin_drawn = rng.choice(3, size=count, p=[0.6, 0.25, 0.15])
    # Residents and merchants by popularity (a few merchants take much of the trade).
    payer = rng.integers(0, residents, count)
    merchant_weight = rng.pareto(1.5, merchants) + 1
    merchant = residents + rng.choice(merchants, size=count, p=merchant_weight / merchant_weight.sum())
    other_resident = rng.integers(0, residents, count)
    amount = np.maximum(1, rng.lognormal(6.5, 0.8, count).astype(np.int64))
    share = rng.uniform(0.2, 1.0, count)
    # Shopping is a habit: each resident has FAVOURITES shops in their own wijk and pays one of them 85 % of
    # the time; otherwise any merchant by popularity.
    wijk_members = [
        np.flatnonzero(wijk[residents : residents + merchants] == w) + residents for w in range(len(WIJKEN))
    ]
    favourite = np.array(
        [rng.choice(wijk_members[wijk[r]], size=FAVOURITES) for r in range(residents)], dtype=np.int64
    )
    habitual = rng.random(count) < 0.85
    pick = rng.integers(0, FAVOURITES, count)

    balances: dict[tuple[int, str], int] = {}
    recovered: list[tuple[str, str, str]] = []
    current = addresses[:]
    rows_source, rows_target, rows_value, rows_kind, rows_coin = [], [], [], [], []

    def add(kind: str, coin: int, source: str, target: str, value: int) -> None:
        rows_kind.append(kind)
        rows_coin.append(coin)
        rows_source.append(source)
        rows_target.append(target)
        rows_value.append(value)
        if source != ZERO:
            balances[(coin, source)] -= value
        if target != ZERO:
            balances[(coin, target)] = balances.get((coin, target), 0) + value

    def reward(i: int, coin: int, who: int) -> None:
        add("activity_reward", coin, ZERO, current[who], int(amount[i]) * 2)

    for i in range(count):
        kind, coin, who = kinds_drawn[i], int(coin_drawn[i]), int(payer[i])
        if coin == 1 and wijk[who] != 0:  # the wijk coin is for the first wijk's residents only
            coin = 0
        resident = current[who]
        held = balances.get((coin, resident), 0)
        if kind in ("activity_reward", "reward_grant"):
            add(kind, coin, ZERO, resident, int(amount[i]) * 2)
        elif kind == "admin_mint":
            add(kind, coin, ZERO, resident, int(amount[i]) * 5)
        elif kind in ("payment", "person_to_person") and coin != 2:
            value = min(held, int(amount[i]))
            if value <= 0:
                reward(i, coin, who)
                continue
            if kind == "payment":
                shop = favourite[who, pick[i]] if habitual[i] else merchant[i]
                add(kind, coin, resident, current[shop], value)
            else:
                add(kind, coin, resident, current[int(other_resident[i])], value)
        elif kind == "refund" and coin != 2:
            shop = current[int(merchant[i])]
            value = min(balances.get((coin, shop), 0), int(amount[i]) // 2)
            if value <= 0:
                reward(i, coin, who)
                continue
            add(kind, coin, shop, resident, value)
        elif kind == "merchant_payout" and coin != 2:
            shop = current[int(merchant[i])]
            value = int(balances.get((coin, shop), 0) * share[i])
            if value <= 0:
                reward(i, coin, who)
                continue
            add(kind, coin, shop, ZERO, value)
        elif kind in ("debt_settlement", "service_redemption", "expiry_reclaim"):
            burn_coin = 2 if kind == "debt_settlement" else coin
            value = balances.get((burn_coin, resident), 0)
            value = value if kind == "expiry_reclaim" else int(value * share[i])
            if value <= 0:
                reward(i, burn_coin, who)
                continue
            add(kind, burn_coin, resident, ZERO, value)
        elif kind == "recovery":
            fresh = next(spare)
            for c in range(3):
                value = balances.get((c, resident), 0)
                if value > 0:
                    add("recovery", c, resident, fresh, value)
            current[who] = fresh
            recovered.append((resident, fresh, areas[who]))
        else:
            reward(i, coin, who)

    # A recovery writes one transfer per coin held: cut back to exactly `count` (a prefix of a whole ledger
    # is a whole ledger).
    n = min(len(rows_value), count)
    rows_source, rows_target, rows_value = rows_source[:n], rows_target[:n], rows_value[:n]
    rows_kind, rows_coin = rows_kind[:n], rows_coin[:n]
    seconds = np.sort(rng.uniform(0, MONTHS * 30.4 * 86_400, n))
    kinds_col = pd.Categorical(rows_kind)
    transfers = pd.DataFrame(
        {
            "block_number": np.arange(n, dtype=np.int64) // 8 + 1,
            "block_time": START + pd.to_timedelta(seconds, unit="s"),
            "tx_hash": pd.array([f"0x{i:064x}" for i in range(n)], dtype="string"),
            "log_index": np.arange(n, dtype=np.int64) % 8,
            "coin": pd.array(np.array(coin_ids, dtype=object)[rows_coin], dtype="string"),
            "source": pd.array(rows_source, dtype="string"),
            "target": pd.array(rows_target, dtype="string"),
            "value": np.array(rows_value, dtype=np.int64),
            "subtype": kinds_col,
            "transfer_subtype": pd.Categorical(pd.Series(rows_kind).map(SARAFU)),
            "reference": pd.array([""] * n, dtype="string"),
            "activity_id": pd.array(
                np.where(np.array(rows_kind) == "activity_reward", "0x" + "ac" * 31 + "01", ""),
                dtype="string",
            ),
        }
    )
    if recovered:
        lost, fresh, where = zip(*recovered, strict=True)
        replaced = dict(zip(lost, fresh, strict=True))
        participants["replaced_by"] = pd.array(
            participants["address"].map(replaced).fillna(""), dtype="string"
        )
        added = pd.DataFrame(
            {
                "address": pd.array(fresh, dtype="string"),
                "kind": "resident",
                "area": pd.array(where, dtype="string"),
                "registered_at": START,
                "replaced_by": pd.array([""] * len(fresh), dtype="string"),
            }
        )
        participants = pd.concat([participants.astype({"kind": str}), added], ignore_index=True)
    participants["kind"] = participants["kind"].astype("category")
    return transfers, participants, coins


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def child(folder: Path) -> None:
    """Runs in a fresh process: reads the ledger, times all_figures and the baseline, prints JSON."""
    from socialcoin.research.metrics import all_figures

    transfers = pd.read_parquet(folder / "transfers.parquet")
    participants = pd.read_parquet(folder / "participants.parquet")
    coins = pd.read_parquet(folder / "coins.parquet")
    loaded = current_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    figures = all_figures(transfers, participants, coins)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = rss_mb()
    # Where the time goes (after the measured call, so it does not count in it).
    from socialcoin.research import metrics, network
    from socialcoin.research.frames import prepare

    prepared = prepare(transfers, participants, coins)
    parts = {}
    for name, work in (
        ("trace", lambda: metrics.Traced(prepared).tallies),
        ("network", lambda: network.network_figures(prepared)),
    ):
        begun = time.perf_counter()
        work()
        parts[name] = time.perf_counter() - begun
    started = time.perf_counter()
    transfers.groupby(["coin", transfers["block_time"].dt.month])["value"].sum()
    baseline = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": peak,
                "parts": parts,
                "loaded_mb": loaded,
                "baseline": baseline,
                "rows": {name: len(frame) for name, frame in figures.items()},
                "lm3": figures["lm3"][["symbol", "lm3"]].to_dict("records"),
                "summary": figures["network_summary"].iloc[0].to_dict(),
                "cycles": figures["network_cycles"].set_index("length")["cycles"].to_dict(),
            },
            default=str,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    started = time.perf_counter()
    transfers, participants, coins = synthetic_ledger(args.transfers, args.seed)
    print(
        f"synthetic ledger: {len(transfers):,} transfers, {len(participants):,} participants, "
        f"{len(coins)} coins in {time.perf_counter() - started:.1f} s; subtypes: "
        + ", ".join(f"{k} {v:,}" for k, v in transfers["subtype"].value_counts().items())
    )
    with tempfile.TemporaryDirectory(prefix="socialcoin-bench-research-") as tmp:
        folder = Path(tmp)
        transfers.to_parquet(folder / "transfers.parquet")
        participants.to_parquet(folder / "participants.parquet")
        coins.to_parquet(folder / "coins.parquet")
        del transfers, participants, coins
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(folder)], capture_output=True, text=True, cwd=ROOT
        )
    if done.returncode != 0:
        print(f"metrics run failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    label = "1M" if args.transfers == 1_000_000 else f"{args.transfers:,}"
    seconds, peak = result["seconds"], result["peak_mb"]
    print(f"metrics {label} transfers s: {seconds:.2f}")
    print(f"metrics {label} transfers peak MB: {peak:.0f}")
    # On a shared machine the wall time includes waiting for a core; the CPU time does not.
    print(f"  CPU time of that call: {result['cpu']:.2f} s")
    print(
        f"  above the loaded frames: {peak - result['loaded_mb']:.0f} MB "
        f"(loaded: {result['loaded_mb']:.0f} MB)"
    )
    print(
        f"  baseline (one group-by sum per coin and month): {result['baseline']:.3f} s; "
        f"all figures = {seconds / result['baseline']:.0f}x baseline"
    )
    print(
        "  of which (timed again apart): " + ", ".join(f"{k} {v:.2f} s" for k, v in result["parts"].items())
    )
    print(f"  rows per figure: {result['rows']}")
    print(f"  lm3: {result['lm3']}")
    print(f"  network: {result['summary']}; cycles by length: {result['cycles']}")
    for name, value, target, unit in (
        ("time", seconds, TARGET_SECONDS, "s"),
        ("peak memory", peak, TARGET_MB, "MB"),
    ):
        verdict = "target met" if value <= target else f"target MISSED by {value - target:.1f} {unit}"
        print(f"  {name}: {verdict} (target {target:g} {unit})")


if __name__ == "__main__":
    main()
