"""The figures of community-currency research on our ledger: pure functions of the three frames of schema.py.

Every function takes the frames (transfers, participants, coins) and returns a tidy DataFrame; all_figures
returns them all by a stable name, computing the shared groundwork once. Definitions, units and sources are
in docs/research.md ("Figures"). Amounts are integer cents; a month is "YYYY-MM" in UTC.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np
import pandas as pd

from socialcoin.research import network
from socialcoin.research.frames import (
    BURN_SUBTYPES,
    REWARD_SUBTYPES,
    SPEND_SUBTYPES,
    Prepared,
    as_text,
    prepare,
    require,
    wijk_of,
    within,
)
from socialcoin.research.schema import Subtype

NS_PER_DAY = 86_400 * 10**9


def _per_coin(p: Prepared, frame: pd.DataFrame) -> pd.DataFrame:
    """Adds the coin's address, symbol, purpose and area in front of a frame keyed by coin index `c`."""
    described = p.coins[["coin", "symbol", "purpose", "area"]].astype(
        {"coin": "string", "symbol": "string", "purpose": "string", "area": "string"}
    )
    out = described.iloc[frame["c"].to_numpy()].reset_index(drop=True)
    return pd.concat([out, frame.drop(columns="c").reset_index(drop=True)], axis=1)


def _month_grid(p: Prepared) -> pd.DataFrame:
    """Every (coin, month) from the coin's first transfer to the ledger's last month: the rows a monthly
    table per coin has, also for months where nothing happened."""
    if not len(p.value):
        return pd.DataFrame({"c": pd.Series([], dtype=np.int64), "m": pd.Series([], dtype=np.int64)})
    first = pd.Series(p.month).groupby(p.coin).min()
    rows = [(c, m) for c, start in first.items() for m in range(int(start), len(p.months))]
    return pd.DataFrame(rows, columns=["c", "m"], dtype=np.int64)


def _sum_by(keys: list[np.ndarray], values: np.ndarray, names: list[str], value_name: str) -> pd.DataFrame:
    frame = pd.DataFrame(dict(zip(names, keys, strict=True)))
    frame[value_name] = values
    return frame.groupby(names, sort=True, observed=True)[value_name].sum().reset_index()


def _label_months(p: Prepared, frame: pd.DataFrame, column: str = "m", name: str = "month") -> pd.DataFrame:
    labels = pd.array(np.asarray(p.months, dtype=object)[frame[column].to_numpy()], "string")
    frame = frame.copy()
    frame[column] = labels
    return frame.rename(columns={column: name})


# Supply


def _supply(p: Prepared) -> pd.DataFrame:
    mint, burn = p.source == 0, p.target == 0
    grid = _month_grid(p)
    minted = _sum_by([p.coin[mint], p.month[mint]], p.value[mint], ["c", "m"], "minted")
    burned = _sum_by([p.coin[burn], p.month[burn]], p.value[burn], ["c", "m"], "burned")
    table = grid.merge(minted, how="left").merge(burned, how="left").fillna(0)
    table = table.astype({"minted": np.int64, "burned": np.int64}).sort_values(["c", "m"])
    table["circulating"] = (table["minted"] - table["burned"]).groupby(table["c"]).cumsum()
    return _per_coin(p, _label_months(p, table))


def supply(transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame) -> pd.DataFrame:
    """Per coin and month: cents minted, burned, and circulating at the month's end."""
    return _supply(prepare(transfers, participants, coins))


# Social value


def _social_value(p: Prepared, categories: pd.DataFrame | None) -> pd.DataFrame:
    t = p.transfers
    require(t, "transfers", ["activity_id"])
    reward = np.isin(p.subtype, REWARD_SUBTYPES) & (p.source == 0)
    areas = pd.Series(p.area[p.target[reward]], dtype=object)
    wijk = areas.map({a: wijk_of(a) for a in areas.unique()})
    frame = pd.DataFrame(
        {
            "m": p.month[reward],
            "wijk": wijk.to_numpy(),
            "activity_id": as_text(t["activity_id"].iloc[np.flatnonzero(reward)]),
            "resident": p.target[reward],
            "value": p.value[reward],
        }
    )
    keys = ["m", "wijk", "activity_id"]
    if categories is not None:
        if not {"activity_id", "category"} <= set(categories.columns):
            raise ValueError("the categories frame needs the columns 'activity_id' and 'category'")
        mapping = dict(
            zip(categories["activity_id"].astype(str), categories["category"].astype(str), strict=True)
        )
        frame["category"] = frame["activity_id"].map(mapping).fillna("uncategorised")
        keys = ["m", "wijk", "category", "activity_id"]
    grouped = frame.groupby(keys, sort=True)
    table = grouped.agg(value=("value", "sum"), rewards=("value", "size")).reset_index()
    # Distinct residents per group: count each (group, resident) pair once, on integer keys.
    group = grouped.ngroup().to_numpy()
    pairs = np.unique(group.astype(np.int64) * len(p.addresses) + frame["resident"].to_numpy())
    table["residents"] = np.bincount(pairs // len(p.addresses), minlength=len(table))
    return _label_months(p, table).astype({"wijk": "string", "activity_id": "string"})


def social_value(
    transfers: pd.DataFrame,
    participants: pd.DataFrame,
    coins: pd.DataFrame,
    categories: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per month, wijk (of the rewarded resident) and activity (and its category when `categories` maps
    activity_id -> category): cents minted as rewards, how many rewards, how many distinct residents."""
    return _social_value(prepare(transfers, participants, coins), categories)


# Velocity, holding time, local share


def _average_circulating(p: Prepared, until_ns: int) -> pd.DataFrame:
    """Per (coin, month) of the grid: the time-weighted mean of the coin's circulating supply over the month
    (up to `until_ns` for the last), in cents, and the length of that stretch in days."""
    grid = _month_grid(p)
    month_start = np.array([np.datetime64(m, "M").astype("datetime64[ns]") for m in p.months]).astype(
        np.int64
    )
    if not len(grid):
        return grid.assign(average_circulating=np.float64(0), days=np.float64(0))
    edge = (p.source == 0) | (p.target == 0)
    delta = np.where(p.source[edge] == 0, p.value[edge], -p.value[edge])
    # Breakpoints: every mint and burn, plus each month's start (a zero change) so no step crosses a month.
    c = np.concatenate([p.coin[edge], grid["c"].to_numpy(), np.unique(grid["c"])])
    t = np.concatenate(
        [p.time_ns[edge], month_start[grid["m"].to_numpy()], np.full(grid["c"].nunique(), until_ns)]
    )
    d = np.concatenate([delta, np.zeros(len(grid) + grid["c"].nunique(), dtype=np.int64)])
    order = np.lexsort((t, c))
    c, t, d = c[order], t[order], d[order]
    level = pd.Series(d).groupby(c).cumsum().to_numpy()
    following = np.append(t[1:], t[-1])
    same_coin = np.append(c[1:] == c[:-1], False)
    span = np.where(same_coin, np.minimum(following, until_ns) - np.minimum(t, until_ns), 0)
    m = np.searchsorted(month_start, t, side="right") - 1
    area = _sum_by([c, m], level.astype(np.float64) * span, ["c", "m"], "balance_ns")
    table = grid.merge(area, how="left").fillna(0.0)
    ends = np.append(month_start[1:], np.iinfo(np.int64).max)
    stretch = np.minimum(ends[table["m"]], until_ns) - month_start[table["m"]]
    stretch = np.maximum(stretch, 1)
    table["average_circulating"] = table["balance_ns"] / stretch
    table["days"] = stretch / NS_PER_DAY
    return table.drop(columns="balance_ns")


def _last_ns(p: Prepared) -> int:
    """When the ledger ends: its last transfer (the start of 1970 for an empty ledger)."""
    return int(p.time_ns.max()) if len(p.time_ns) else 0


def _velocity(p: Prepared) -> pd.DataFrame:
    table = _average_circulating(p, _last_ns(p))
    s = p.standard
    volume = _sum_by([p.coin[s], p.month[s]], p.value[s], ["c", "m"], "standard_volume")
    out = (p.source != 0) & (s | (p.target == 0))
    outflow = _sum_by([p.coin[out], p.month[out]], p.value[out], ["c", "m"], "outflow")
    table = (
        table.merge(volume, how="left")
        .merge(outflow, how="left")
        .fillna({"standard_volume": 0, "outflow": 0})
    )
    table = table.astype({"standard_volume": np.int64, "outflow": np.int64})
    positive = table["average_circulating"] > 0
    table["velocity"] = np.where(
        positive, table["standard_volume"] / table["average_circulating"].where(positive), np.nan
    )
    moving = table["outflow"] > 0
    table["holding_days"] = np.where(
        moving, table["average_circulating"] * table["days"] / table["outflow"].where(moving), np.nan
    )
    table = table[
        ["c", "m", "standard_volume", "average_circulating", "days", "velocity", "outflow", "holding_days"]
    ]
    return _per_coin(p, _label_months(p, table))


def velocity(transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame) -> pd.DataFrame:
    """Per coin and month: STANDARD volume (cents), time-weighted mean circulating supply (cents), velocity
    (volume / mean supply, per month), all outflow from holders (STANDARD and burns, cents) and the mean
    holding time in days by Little's law (mean supply x days / outflow)."""
    return _velocity(prepare(transfers, participants, coins))


def _local_share(p: Prepared) -> pd.DataFrame:
    s = p.standard
    keys = [p.coin[s], p.month[s]]
    volume = _sum_by(keys, p.value[s], ["c", "m"], "standard_volume")
    local = _sum_by(keys, np.where(p.local[s], p.value[s], 0), ["c", "m"], "local_volume")
    table = volume.merge(local)
    table["local_share"] = table["local_volume"] / table["standard_volume"].where(
        table["standard_volume"] > 0
    )
    return _per_coin(p, _label_months(p, table))


def local_share(transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame) -> pd.DataFrame:
    """Per coin and month with STANDARD transfers: their volume, the part where payer and payee both lie
    within the coin's area, and that part's share."""
    return _local_share(prepare(transfers, participants, coins))


# Tracing: every cent followed first-in-first-out from its mint to its burn


# A lot is a run of cents a holder received together, with one tag packed in an int:
#   tag = ((cohort * HOPS + hops) * 4 + round) * 2 + left
# cohort: index of the month it was minted; hops: STANDARD transfers it passed (capped at HOPS - 1);
# round: 0 = a resident's reward not yet spent (R1), 1 = received by the payee of a first local spend (R2),
# 3 = out of the LM3 rounds; left: 1 once it moved in a STANDARD transfer not local to the coin's area.
HOPS = 128
R1_HELD, R2_RECEIVED, OUT = 0, 1, 3
# What a transfer does to the lots it moves.
# LOCAL_/OTHER_: local to the coin's area or not; SPEND: a payment or person-to-person, STANDARD: a refund.
MINT_REWARD, MINT, LOCAL_SPEND, OTHER_SPEND, LOCAL_STANDARD, OTHER_STANDARD, BURN, MOVE = range(8)


def _actions(p: Prepared) -> np.ndarray:
    resident = p.kind[p.target] == "resident"
    spend = np.isin(p.subtype, SPEND_SUBTYPES)
    action = np.full(len(p.value), MOVE, dtype=np.int64)
    action[p.standard] = OTHER_STANDARD
    action[p.standard & p.local] = LOCAL_STANDARD
    action[spend & p.standard] = OTHER_SPEND
    action[spend & p.standard & p.local] = LOCAL_SPEND
    action[p.target == 0] = BURN
    action[p.source == 0] = MINT
    action[(p.source == 0) & np.isin(p.subtype, REWARD_SUBTYPES) & resident] = MINT_REWARD
    return action


def _advance(tag: int, act: int) -> int:
    """The tag of cents after a STANDARD transfer of kind `act` moved them (one hop more; LM3 round; left)."""
    left = 1 if tag & 1 or act in (OTHER_SPEND, OTHER_STANDARD) else 0
    held = (tag >> 1) & 3
    rnd = (R2_RECEIVED if held == R1_HELD else OUT) if act == LOCAL_SPEND else OUT
    hops = (tag >> 3) % HOPS
    return ((tag >> 3) - hops + min(hops + 1, HOPS - 1)) * 8 + rnd * 2 + left


def _take(queue: deque[list[int]] | None, value: int, unknown: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Takes `value` cents from the front of a holder's queue of lots [cents, *marks], splitting the last lot
    where needed: the pieces taken, in order, as (cents, *marks). Cents beyond the queue come with the marks
    `unknown`."""
    pieces: list[tuple[int, ...]] = []
    remaining = value
    while remaining and queue:
        lot = queue[0]
        if lot[0] <= remaining:
            queue.popleft()
            pieces.append(tuple(lot))
            remaining -= lot[0]
        else:
            lot[0] -= remaining
            pieces.append((remaining, *lot[1:]))
            remaining = 0
    if remaining:
        pieces.append((remaining, *unknown))
    return pieces


def _first_tags(p: Prepared, action: np.ndarray) -> np.ndarray:
    """Per transfer, what the trace needs beside its action: a mint's tag for the cents it creates, a
    burn's index in BURN_SUBTYPES; any other transfer's action."""
    mint_round = np.where(action == MINT_REWARD, R1_HELD, OUT)
    mint_tag = (p.month * HOPS * 4 + mint_round) * 2
    burn_kind = pd.Index([s.value for s in BURN_SUBTYPES]).get_indexer(p.subtype)
    return np.where(action <= MINT, mint_tag, np.where(action == BURN, burn_kind, action))


# Cents a holder spends beyond what the ledger shows it received (none in a whole ledger): cohort -1.
UNKNOWN_TAG = (-1 * HOPS * 4 + OUT) * 2


def _trace(p: Prepared) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One pass over the ledger in order. Returns three tallies in cents, keyed by coin index `c` and lot tag:
    spent (cents of an LM3 round, R1 or R2, that a local spend moved), burned (per burn subtype) and held at
    the end.

    The loop is plain Python (first-in-first-out is sequential by nature); its tallies are keyed by one int,
    (tag * 8 + code) * coins + c, and each tag's successor is worked out once per (tag, action)."""
    action = _actions(p)
    n_coins, n_addr = max(1, len(p.coins)), len(p.addresses)
    extra = _first_tags(p, action)
    unknown = UNKNOWN_TAG
    lots: dict[int, deque[list[int]]] = {}
    spent: dict[int, int] = {}
    burned: dict[int, int] = {}
    successor: dict[int, int] = {}
    for src, dst, value, act, c, code in zip(
        (p.coin * n_addr + p.source).tolist(),
        (p.coin * n_addr + p.target).tolist(),
        p.value.tolist(),
        action.tolist(),
        p.coin.tolist(),
        extra.tolist(),
        strict=True,
    ):
        if act <= MINT:
            queue = lots.get(dst)
            if queue is None:
                lots[dst] = deque([[value, code]])
            elif queue and queue[-1][1] == code:
                queue[-1][0] += value
            else:
                queue.append([value, code])
            continue
        queue = lots.get(src)
        if queue and queue[0][0] > value:  # the usual case: the oldest lot covers it
            lot = queue[0]
            lot[0] -= value
            pieces: list[tuple[int, ...]] = [(value, lot[1])]
        else:
            pieces = _take(queue, value, (unknown,))
        if act == BURN:
            for amount, tag in pieces:
                key = (tag * 8 + code) * n_coins + c
                burned[key] = burned.get(key, 0) + amount
            continue
        target = lots.get(dst)
        if target is None:
            target = lots[dst] = deque()
        for amount, tag in pieces:
            if act != MOVE:
                step = tag * 8 + act
                if act == LOCAL_SPEND and tag & 6 != OUT * 2:  # cents in an LM3 round spent locally
                    key = step * n_coins + c
                    spent[key] = spent.get(key, 0) + amount
                new = successor.get(step)
                if new is None:
                    new = successor[step] = _advance(tag, act)
                tag = new
            if target and target[-1][1] == tag:
                target[-1][0] += amount
            else:
                target.append([amount, tag])
    held: dict[int, int] = {}
    for holder, queue in lots.items():
        c = holder // n_addr
        for amount, tag in queue:
            key = tag * 8 * n_coins + c
            held[key] = held.get(key, 0) + amount
    return _tally(spent, n_coins, "action"), _tally(burned, n_coins, "burn"), _tally(held, n_coins, None)


def _tally(counts: dict[int, int], n_coins: int, code: str | None) -> pd.DataFrame:
    """A tally of _trace as a frame: c, the code (when named), value, and the parts of the tag."""
    key = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    frame = pd.DataFrame({"c": key % n_coins})
    rest = key // n_coins
    if code:
        frame[code] = rest % 8
    tag = rest // 8
    frame["value"] = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    frame["left"] = (tag & 1).astype(bool)
    frame["round"] = (tag >> 1) & 3
    frame["hops"] = (tag >> 3) % HOPS
    frame["cohort"] = np.floor_divide(tag >> 3, HOPS)
    return frame


class Traced:
    """The tallies of one trace, computed on first use and shared by LM3, hops and cohorts."""

    def __init__(self, p: Prepared) -> None:
        self.p = p
        self._tallies: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None

    @property
    def tallies(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        if self._tallies is None:
            self._tallies = _trace(self.p)
        return self._tallies


def _trace_holders(p: Prepared) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trace of _trace once more, each lot also carrying the residents who held its cents so far (the
    resident it was minted to and every resident it was transferred to): who is behind a cell of
    hops_before_burn and of cohorts (docs/research.md, "Hops and cohorts published"). Returns the addresses,
    one row per (c, hops, address) of cents burned after that many hops, and per (c, cohort, address) of a
    cohort's cents, burned or still held; cents of unknown origin are left out, as in those tables.

    Kept apart from _trace, which the figures run on every ledger: the sets cost time and memory (a lot
    merges only with a lot of the same holders), and only the publication needs them."""
    action = _actions(p)
    extra = _first_tags(p, action)
    sets: list[frozenset[int]] = [frozenset()]  # a lot's holders: an index into this list
    numbered: dict[frozenset[int], int] = {frozenset(): 0}
    grown: dict[tuple[int, int], int] = {}  # (holders, address) -> holders with the address

    def holding(holders: int, address: int) -> int:
        """The holders with a resident `address` added."""
        key = (holders, address)
        if key not in grown:
            more = sets[holders] | {address}
            grown[key] = numbered.setdefault(more, len(sets))
            if grown[key] == len(sets):
                sets.append(more)
        return grown[key]

    n_addr = len(p.addresses)
    lots: dict[int, deque[list[int]]] = {}
    burned: set[tuple[int, int, int]] = set()  # (c, tag >> 3, holders)
    successor: dict[int, int] = {}
    # The payee when it is a resident (its address index), else -1: no holder to add.
    payee = np.where(p.kind[p.target] == "resident", p.target, -1)
    for src, dst, to, value, act, c, code in zip(
        (p.coin * n_addr + p.source).tolist(),
        (p.coin * n_addr + p.target).tolist(),
        payee.tolist(),
        p.value.tolist(),
        action.tolist(),
        p.coin.tolist(),
        extra.tolist(),
        strict=True,
    ):
        if act <= MINT:
            pieces: list[tuple[int, ...]] = [(value, code, 0)]
        else:
            queue = lots.get(src)
            if queue and queue[0][0] > value:  # the usual case: the oldest lot covers it
                lot = queue[0]
                lot[0] -= value
                pieces = [(value, lot[1], lot[2])]
            else:
                pieces = _take(queue, value, (UNKNOWN_TAG, 0))
        if act == BURN:
            burned.update((c, tag >> 3, holders) for _, tag, holders in pieces)
            continue
        queue = lots.setdefault(dst, deque())
        for amount, tag, holders in pieces:
            if act not in (MINT, MINT_REWARD, MOVE):
                step = tag * 8 + act
                if step not in successor:
                    successor[step] = _advance(tag, act)
                tag = successor[step]
            if to >= 0 and to not in sets[holders]:
                holders = holding(holders, to)
            if queue and queue[-1][1] == tag and queue[-1][2] == holders:
                queue[-1][0] += amount
            else:
                queue.append([amount, tag, holders])
    held = {
        (holder // n_addr, tag >> 3, holders) for holder, queue in lots.items() for _, tag, holders in queue
    }

    def rows(keys: set[tuple[int, int, int]], part: str) -> pd.DataFrame:
        """One row per (c, part of the tag, resident address) of the known cohorts."""
        found = {
            (c, hops_cohort % HOPS if part == "hops" else hops_cohort // HOPS, address)
            for c, hops_cohort, holders in keys
            if hops_cohort >= 0
            for address in sets[holders]
        }
        frame = pd.DataFrame(sorted(found), columns=["c", part, "a"], dtype=np.int64)
        return frame.assign(address=pd.array(p.addresses[frame.pop("a").to_numpy()], dtype="string"))

    return rows(burned, "hops"), rows(burned | held, "cohort")


def traced_residents(
    transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who is behind the cells of hops_before_burn and cohorts: the resident addresses that held the cents
    of each cell (traced first-in-first-out, as those tables are). Returns (coin, hops, address) and (coin,
    cohort, address), the coin by its address and the cohort as "YYYY-MM", one row each."""
    p = prepare(transfers, participants, coins)
    by_hops, by_cohort = _trace_holders(p)
    coin = p.coins["coin"].astype("string").to_numpy()
    by_hops = by_hops.assign(c=pd.array(coin[by_hops["c"].to_numpy()], dtype="string"))
    by_cohort = by_cohort.assign(c=pd.array(coin[by_cohort["c"].to_numpy()], dtype="string"))
    return by_hops.rename(columns={"c": "coin"}), _label_months(p, by_cohort, "cohort", "cohort").rename(
        columns={"c": "coin"}
    )


def _lm3(p: Prepared, traced: Traced) -> pd.DataFrame:
    spent, _, _ = traced.tallies
    r1_rows = (p.source == 0) & np.isin(p.subtype, REWARD_SUBTYPES) & (p.kind[p.target] == "resident")
    r1 = pd.Series(p.value[r1_rows]).groupby(p.coin[r1_rows]).sum()
    r2 = spent[spent["round"] == R1_HELD].groupby("c")["value"].sum()
    r3 = spent[spent["round"] == R2_RECEIVED].groupby("c")["value"].sum()
    every_coin = pd.RangeIndex(len(p.coins), name="c")
    table = pd.DataFrame({"r1": r1, "r2": r2, "r3": r3}).reindex(every_coin).fillna(0).astype(np.int64)
    table = table.reset_index()
    table["lm3"] = (table["r1"] + table["r2"] + table["r3"]) / table["r1"].where(table["r1"] > 0)
    return _per_coin(p, table)


def lm3(transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame) -> pd.DataFrame:
    """Per coin: R1 (cents of rewards minted to residents), R2 (of those cents, the ones their resident's
    first outgoing transfer was a local spend), R3 (of R2's cents, the ones the payee's next outgoing transfer
    was a local spend), traced first-in-first-out per holder, and LM3 = (R1 + R2 + R3) / R1."""
    p = prepare(transfers, participants, coins)
    return _lm3(p, Traced(p))


def _hops_before_burn(p: Prepared, traced: Traced) -> pd.DataFrame:
    _, burned, _ = traced.tallies
    burned = burned[burned["cohort"] >= 0]
    table = burned.groupby(["c", "hops"])["value"].sum().rename("burned").reset_index()
    table["share"] = table["burned"] / table.groupby("c")["burned"].transform("sum")
    return _per_coin(p, table)


def hops_before_burn(
    transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame
) -> pd.DataFrame:
    """Per coin and number of hops (STANDARD transfers a cent passed between its mint and its burn, traced
    first-in-first-out; 127 means 127 or more): cents burned after that many hops, and their share."""
    p = prepare(transfers, participants, coins)
    return _hops_before_burn(p, Traced(p))


def _cohorts(p: Prepared, traced: Traced) -> pd.DataFrame:
    _, burned, held = traced.tallies
    mint = p.source == 0
    table = _sum_by([p.coin[mint], p.month[mint]], p.value[mint], ["c", "cohort"], "minted")
    burned = burned[burned["cohort"] >= 0]
    ways = burned.pivot_table(
        index=["c", "cohort"], columns="burn", values="value", aggfunc="sum", fill_value=0
    )
    ways = ways.reindex(columns=range(len(BURN_SUBTYPES)), fill_value=0)
    ways.columns = [s.value for s in BURN_SUBTYPES]
    held_now = held[held["cohort"] >= 0].groupby(["c", "cohort"])["value"].sum().rename("outstanding")
    left = pd.concat([burned[burned["left"]], held[(held["cohort"] >= 0) & held["left"]]])
    leaked = left.groupby(["c", "cohort"])["value"].sum().rename("left_area")
    table = (
        table.set_index(["c", "cohort"])
        .join([ways, held_now, leaked])
        .fillna(0)
        .astype(np.int64)
        .reset_index()
    )
    redeemed = table[[s.value for s in BURN_SUBTYPES if s != Subtype.EXPIRY_RECLAIM]].sum(axis=1)
    table["redeemed_share"] = redeemed / table["minted"]
    table["payout_share"] = table[Subtype.MERCHANT_PAYOUT.value] / table["minted"]
    table["expired_share"] = table[Subtype.EXPIRY_RECLAIM.value] / table["minted"]
    table["leakage_share"] = table["left_area"] / table["minted"]
    return _per_coin(p, _label_months(p, table, column="cohort", name="cohort"))


def cohorts(transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame) -> pd.DataFrame:
    """Per coin and cohort (month of mint): cents minted, how they ended (burned per burn subtype, still
    outstanding), the cents that ever moved in a STANDARD transfer outside the coin's area (left_area), and
    shares of the minted cents: redeemed (debts, services, payouts), payout, expired, leakage (left_area)."""
    p = prepare(transfers, participants, coins)
    return _cohorts(p, Traced(p))


# Participation, debts, inequality


def _active(p: Prepared) -> pd.DataFrame:
    n = len(p.addresses)
    moving = p.subtype != Subtype.RECOVERY.value
    ends = np.concatenate([p.source[moving], p.target[moving]])
    month = np.concatenate([p.month[moving], p.month[moving]])
    trade = np.concatenate([p.standard[moving], p.standard[moving]])
    counted = []
    for name, rows in (("active", ends != 0), ("trading", (ends != 0) & trade)):
        seen = np.unique(month[rows] * n + ends[rows])  # each (month, address) once
        frame = pd.DataFrame({"m": seen // n, "kind": p.kind[seen % n]})
        frame = frame[np.isin(frame["kind"], ["resident", "merchant"])]
        counted.append(frame.groupby(["m", "kind"]).size().rename(name))
    table = pd.concat(counted, axis=1).fillna(0).astype(np.int64).reset_index()
    table["kind"] = table["kind"].astype("string")
    return _label_months(p, table)


def active_participants(
    transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame
) -> pd.DataFrame:
    """Per month and kind (resident, merchant): addresses in any transfer but a recovery (active), and those
    in a STANDARD transfer (trading)."""
    return _active(prepare(transfers, participants, coins))


def _debts(p: Prepared) -> pd.DataFrame:
    settle = p.subtype == Subtype.DEBT_SETTLEMENT.value
    frame = pd.DataFrame(
        {"c": p.coin[settle], "m": p.month[settle], "who": p.source[settle], "v": p.value[settle]}
    )
    table = (
        frame.groupby(["c", "m"])
        .agg(settlements=("v", "size"), settled=("v", "sum"), residents=("who", "nunique"))
        .reset_index()
    )
    return _per_coin(p, _label_months(p, table))


def debts_settled(transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame) -> pd.DataFrame:
    """Per coin and month with settlements: how many, the cents settled, and distinct payers."""
    return _debts(prepare(transfers, participants, coins))


def gini_coefficient(values: np.ndarray) -> float:
    """Gini of non-negative amounts: sum((2i - n - 1) x_i) / (n sum x) over x sorted ascending (i from 1);
    0 when all are equal, (n - 1) / n when one holds everything; NaN when there is nothing."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    return float(((2 * np.arange(1, n + 1) - n - 1) * x).sum() / (n * total))


def _gini(p: Prepared, at: pd.Timestamp | None) -> pd.DataFrame:
    people = p.participants
    require(people, "participants", ["registered_at", "replaced_by"])
    until = _last_ns(p) if at is None else int(_utc(at).value)
    when = pd.Timestamp(until, tz="UTC")
    upto = p.time_ns <= until
    c = np.concatenate([p.coin[upto], p.coin[upto]])
    who = np.concatenate([p.target[upto], p.source[upto]])
    delta = np.concatenate([p.value[upto], -p.value[upto]])
    balance = pd.Series(delta).groupby([c, who]).sum()
    residents = people[
        (people["kind"].astype(str) == "resident")
        & (pd.to_datetime(people["registered_at"], utc=True) <= when)
        & (people["replaced_by"].fillna("").astype(str) == "")
    ]
    index = pd.Index(p.addresses).get_indexer(residents["address"].astype(str))
    rows = []
    per_resident = np.zeros(len(residents), dtype=np.int64)
    for ci, coin_area in enumerate(p.coins["area"].astype(str)):
        own = (
            balance.xs(ci, level=0) if ci in balance.index.get_level_values(0) else pd.Series(dtype=np.int64)
        )
        amounts = np.where(index >= 0, own.reindex(index, fill_value=0).to_numpy(), 0)
        per_resident += amounts
        places = residents["area"].astype(str)
        inside = places.map({a: within(a, coin_area) for a in places.unique()}).to_numpy(dtype=bool)
        rows.append((ci, int(inside.sum()), int(amounts[inside].sum()), gini_coefficient(amounts[inside])))
    table = _per_coin(p, pd.DataFrame(rows, columns=["c", "residents", "total", "gini"]))
    overall = pd.DataFrame(
        {
            "coin": ["all"],
            "symbol": ["all"],
            "purpose": ["all"],
            "area": ["NL"],
            "residents": [len(residents)],
            "total": [int(per_resident.sum())],
            "gini": [gini_coefficient(per_resident)],
        }
    ).astype({"coin": "string", "symbol": "string", "purpose": "string", "area": "string"})
    table = pd.concat([table, overall], ignore_index=True)
    table.insert(0, "at", when)
    return table


def _utc(moment: pd.Timestamp | str) -> pd.Timestamp:
    """A moment in UTC; a time without a zone is taken as UTC, like the block times."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def gini(
    transfers: pd.DataFrame, participants: pd.DataFrame, coins: pd.DataFrame, at: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Gini of residents' balances at `at` (default: the last transfer), per coin over the residents
    registered by then within the coin's area (zero balances included), and over all coins together
    ("all": every resident's balances summed across coins). A replaced (lost) address is left out."""
    return _gini(prepare(transfers, participants, coins), at)


# Everything


def all_figures(
    transfers: pd.DataFrame,
    participants: pd.DataFrame,
    coins: pd.DataFrame,
    *,
    categories: pd.DataFrame | None = None,
    at: pd.Timestamp | None = None,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Every figure by its stable name (the names docs/research.md lists), computed on one prepared view and
    one trace of the ledger."""
    p = prepare(transfers, participants, coins)
    traced = Traced(p)
    figures: dict[str, Callable[[], pd.DataFrame]] = {
        "supply": lambda: _supply(p),
        "social_value": lambda: _social_value(p, categories),
        "velocity": lambda: _velocity(p),
        "local_share": lambda: _local_share(p),
        "lm3": lambda: _lm3(p, traced),
        "hops_before_burn": lambda: _hops_before_burn(p, traced),
        "cohorts": lambda: _cohorts(p, traced),
        "active_participants": lambda: _active(p),
        "debts_settled": lambda: _debts(p),
        "gini": lambda: _gini(p, at),
    }
    out = {name: compute() for name, compute in figures.items()}
    out.update(network.network_figures(p, seed=seed))
    return out
