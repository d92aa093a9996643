"""socialcoin.research.metrics and .network on small hand-built ledgers whose answers are known by
construction.

Every ledger here is written out transfer by transfer with the columns and dtypes of research/schema.py; the
expected figures are worked out by hand in the comments beside them (amounts in cents).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialcoin.research import metrics, network
from socialcoin.research.frames import MissingColumn
from socialcoin.research.schema import COINS, PARTICIPANTS, SARAFU, TRANSFERS, ZERO, Subtype

JAN = pd.Timestamp("2025-01-01", tz="UTC")
S = Subtype
GM, WK = "GM0202", "WK020201"


def at(day: float, month: int = 1) -> pd.Timestamp:
    """Midnight UTC of day `day` (1-based, may be fractional) of `month` 2025."""
    return pd.Timestamp(f"2025-{month:02d}-01", tz="UTC") + pd.Timedelta(days=day - 1)


def frame(columns, rows: list[dict]) -> pd.DataFrame:
    data = pd.DataFrame(rows, columns=[c.name for c in columns])
    for c in columns:
        if c.dtype.startswith("datetime"):
            data[c.name] = pd.to_datetime(data[c.name], utc=True)
    return data.astype({c.name: c.dtype for c in columns})


def ledger(moves: list[tuple], people: dict[str, tuple[str, str]], coins: dict[str, str] | None = None):
    """moves: (time, source, target, value, subtype[, activity_id[, coin]]); people: address -> (kind, area);
    coins: coin -> area (default one coin "C" over the gemeente GM0202)."""
    coins = coins or {"C": GM}
    rows = []
    for number, move in enumerate(moves):
        when, source, target, value, subtype = move[:5]
        activity = move[5] if len(move) > 5 else ""
        coin = move[6] if len(move) > 6 else next(iter(coins))
        sarafu = SARAFU[subtype]
        rows.append(
            {
                "block_number": number + 1,
                "block_time": when,
                "tx_hash": f"0x{number:064x}",
                "log_index": 0,
                "coin": coin,
                "source": source,
                "target": target,
                "value": value,
                "subtype": subtype.value,
                "transfer_subtype": sarafu.value if sarafu else None,
                "reference": "",
                "activity_id": activity,
            }
        )
    participants = [
        {"address": a, "kind": kind, "area": area, "registered_at": JAN, "replaced_by": ""}
        for a, (kind, area) in people.items()
    ]
    coin_rows = [
        {
            "coin": coin,
            "symbol": f"S{coin}",
            "name": coin,
            "purpose": "LOCAL_SPENDING",
            "area": area,
            "expiry": pd.Timestamp("NaT", tz="UTC"),
            "person_to_person": True,
            "holding_cap": 0,
            "created_at": JAN,
        }
        for coin, area in coins.items()
    ]
    return frame(TRANSFERS, rows), frame(PARTICIPANTS, participants), frame(COINS, coin_rows)


RESIDENT_A = ("resident", "BU02020101")
RESIDENT_B = ("resident", "BU02020102")
SHOP = ("merchant", "BU02020105")
SHOP_ELSEWHERE = ("merchant", "BU03630101")  # gemeente 0363: outside every coin of GM0202


# Supply


def test_supply_counts_mints_and_burns_per_month_and_carries_circulation_through_quiet_months():
    # January: 1,000 minted. February: 500 minted, 300 burned -> 1,200 circulating. March: only a payment,
    # so nothing minted or burned and 1,200 still circulating.
    t, p, c = ledger(
        [
            (at(5), ZERO, "A", 1_000, S.ACTIVITY_REWARD),
            (at(3, 2), ZERO, "A", 500, S.REWARD_GRANT),
            (at(9, 2), "A", ZERO, 300, S.SERVICE_REDEMPTION),
            (at(2, 3), "A", "M", 100, S.PAYMENT),
        ],
        {"A": RESIDENT_A, "M": SHOP},
    )
    table = metrics.supply(t, p, c)
    assert table["month"].tolist() == ["2025-01", "2025-02", "2025-03"]
    assert table["minted"].tolist() == [1_000, 500, 0]
    assert table["burned"].tolist() == [0, 300, 0]
    assert table["circulating"].tolist() == [1_000, 1_200, 1_200]
    assert set(table["symbol"]) == {"SC"}


# Social value


def test_social_value_sums_rewards_by_wijk_activity_and_category():
    # Two residents of two buurten of wijk WK020201 each earn 300 for activity X; B earns 200 more for Y.
    # An admin mint is no reward and does not count.
    t, p, c = ledger(
        [
            (at(2), ZERO, "A", 300, S.ACTIVITY_REWARD, "X"),
            (at(3), ZERO, "B", 300, S.ACTIVITY_REWARD, "X"),
            (at(4), ZERO, "B", 200, S.ACTIVITY_REWARD, "Y"),
            (at(5), ZERO, "A", 9_999, S.ADMIN_MINT),
        ],
        {"A": RESIDENT_A, "B": RESIDENT_B},
    )
    categories = pd.DataFrame({"activity_id": ["X"], "category": ["care"]})
    table = metrics.social_value(t, p, c, categories=categories).set_index("activity_id")
    assert set(table["wijk"]) == {WK}
    assert table.loc["X", ["value", "rewards", "residents"]].tolist() == [600, 2, 2]
    assert table.loc["X", "category"] == "care"
    assert table.loc["Y", ["value", "rewards", "residents"]].tolist() == [200, 1, 1]
    assert table.loc["Y", "category"] == "uncategorised"


# Velocity and holding time


def test_velocity_is_standard_volume_over_time_weighted_supply():
    # Coin C: 10,000 minted at the very start of January. A pays M 2,000, M refunds 500 (STANDARD volume
    # 2,500), and on day 16 A burns all it holds (8,500), leaving M's 1,500: the mean circulating supply over
    # January 1-31 is (10,000 x 15 + 1,500 x 15) / 30 = 5,750 and velocity 2,500 / 5,750. Outflow (payments
    # and the burn) 11,000 -> holding time 5,750 x 30 days / 11,000 (Little's law).
    # Coin D: 4,000 minted at the start and never moved: velocity 0, no outflow so no holding time. Its
    # last mint on January 31 ends the observed stretch for both coins.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 10_000, S.ACTIVITY_REWARD, "", "C"),
            (at(1), ZERO, "B", 4_000, S.ACTIVITY_REWARD, "", "D"),
            (at(4), "A", "M", 2_000, S.PAYMENT, "", "C"),
            (at(6), "M", "A", 500, S.REFUND, "", "C"),
            (at(16), "A", ZERO, 8_500, S.SERVICE_REDEMPTION, "", "C"),
            (at(31), ZERO, "B", 0, S.ADMIN_MINT, "", "D"),
        ],
        {"A": RESIDENT_A, "B": RESIDENT_B, "M": SHOP},
        coins={"C": GM, "D": GM},
    )
    table = metrics.velocity(t, p, c).set_index("symbol")
    assert table.loc["SC", "standard_volume"] == 2_500
    assert table.loc["SC", "average_circulating"] == pytest.approx(5_750)
    assert table.loc["SC", "days"] == pytest.approx(30)
    assert table.loc["SC", "velocity"] == pytest.approx(2_500 / 5_750)
    assert table.loc["SC", "outflow"] == 2_000 + 500 + 8_500
    assert table.loc["SC", "holding_days"] == pytest.approx(5_750 * 30 / 11_000)
    assert table.loc["SD", "velocity"] == 0.0
    assert math.isnan(table.loc["SD", "holding_days"])


# Local share


def test_local_share_counts_payments_with_both_ends_in_the_coins_area():
    # Coin of wijk WK020201: 600 paid to a shop in the same wijk (local), 400 to a shop in another gemeente.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 1_000, S.ACTIVITY_REWARD),
            (at(2), "A", "M", 600, S.PAYMENT),
            (at(3), "A", "X", 400, S.PAYMENT),
        ],
        {"A": RESIDENT_A, "M": SHOP, "X": SHOP_ELSEWHERE},
        coins={"C": WK},
    )
    row = metrics.local_share(t, p, c).iloc[0]
    assert (row["standard_volume"], row["local_volume"]) == (1_000, 600)
    assert row["local_share"] == pytest.approx(0.6)


# LM3, tracing, hops and cohorts


def lm3_ledger():
    # A earns a reward of 1,000 (R1). A spends 600 at local shop M (R2 = 600) and 100 at shop X outside the
    # gemeente (not local: no R2, and those 100 leave the area). M re-spends 250 of what it received at
    # local shop N (R3 = 250); N spends 100 more at M (a third round: not counted). A settles 300 of debt.
    return ledger(
        [
            (at(1), ZERO, "A", 1_000, S.ACTIVITY_REWARD, "X1"),
            (at(2), "A", "M", 600, S.PAYMENT),
            (at(3), "A", "X", 100, S.PAYMENT),
            (at(4), "M", "N", 250, S.PAYMENT),
            (at(5), "N", "M", 100, S.PAYMENT),
            (at(6), "A", ZERO, 300, S.DEBT_SETTLEMENT),
        ],
        {"A": RESIDENT_A, "M": SHOP, "N": ("merchant", "BU02020106"), "X": SHOP_ELSEWHERE},
    )


def test_lm3_traces_rewards_through_first_and_second_local_spend():
    row = metrics.lm3(*lm3_ledger()).iloc[0]
    assert (row["r1"], row["r2"], row["r3"]) == (1_000, 600, 250)
    assert row["lm3"] == pytest.approx((1_000 + 600 + 250) / 1_000)


def test_lm3_spends_first_in_first_out():
    # A holds 500 of an admin mint (no reward) before a reward of 1,000. A's payment of 700 to M spends the
    # 500 first, then 200 of the reward: R2 = 200. M pays all 700 on to N: its first 500 came from the admin
    # mint, the last 200 from R2: R3 = 200. LM3 = (1,000 + 200 + 200) / 1,000.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 500, S.ADMIN_MINT),
            (at(2), ZERO, "A", 1_000, S.REWARD_GRANT),
            (at(3), "A", "M", 700, S.PAYMENT),
            (at(4), "M", "N", 700, S.PAYMENT),
        ],
        {"A": RESIDENT_A, "M": SHOP, "N": ("merchant", "BU02020106")},
    )
    row = metrics.lm3(t, p, c).iloc[0]
    assert (row["r1"], row["r2"], row["r3"]) == (1_000, 200, 200)
    assert row["lm3"] == pytest.approx(1.4)


def test_lm3_is_one_when_rewards_are_never_spent_and_undefined_without_rewards():
    # Rewards kept (or burned without a spend) give R2 = R3 = 0: LM3 = 1. A coin with no rewards has no LM3.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 800, S.ACTIVITY_REWARD, "", "C"),
            (at(2), "A", ZERO, 300, S.DEBT_SETTLEMENT, "", "C"),
            (at(1), ZERO, "A", 800, S.ADMIN_MINT, "", "D"),
            (at(2), "A", "M", 800, S.PAYMENT, "", "D"),
        ],
        {"A": RESIDENT_A, "M": SHOP},
        coins={"C": GM, "D": GM},
    )
    table = metrics.lm3(t, p, c).set_index("symbol")
    assert table.loc["SC", ["r1", "r2", "r3"]].tolist() == [800, 0, 0]
    assert table.loc["SC", "lm3"] == 1.0
    assert table.loc["SD", "r1"] == 0
    assert math.isnan(table.loc["SD", "lm3"])


def test_hops_before_burn_counts_standard_transfers_between_mint_and_burn():
    # 100 minted to A go A -> B -> C (two hops) and are burned; 50 minted to D are burned at once (0 hops).
    # A recovery is no hop: C's coins move to C2 before the burn.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 100, S.ACTIVITY_REWARD),
            (at(1), ZERO, "D", 50, S.ACTIVITY_REWARD),
            (at(2), "A", "B", 100, S.PERSON_TO_PERSON),
            (at(3), "B", "C", 100, S.PERSON_TO_PERSON),
            (at(4), "C", "C2", 100, S.RECOVERY),
            (at(5), "C2", ZERO, 100, S.SERVICE_REDEMPTION),
            (at(5), "D", ZERO, 50, S.DEBT_SETTLEMENT),
        ],
        {a: RESIDENT_A for a in ("A", "B", "C", "C2", "D")},
    )
    table = metrics.hops_before_burn(t, p, c).set_index("hops")
    assert table["burned"].to_dict() == {0: 50, 2: 100}
    assert table["share"].to_dict() == pytest.approx({0: 50 / 150, 2: 100 / 150})


def test_cohorts_follow_each_months_mint_to_its_end():
    # January mints 1,000 to A, February 500. In March A settles 1,200 of debt: first in, first out, that is
    # all 1,000 of January and 200 of February, which keeps 300 outstanding.
    t, p, c = ledger(
        [
            (at(5), ZERO, "A", 1_000, S.ACTIVITY_REWARD),
            (at(5, 2), ZERO, "A", 500, S.ACTIVITY_REWARD),
            (at(5, 3), "A", ZERO, 1_200, S.DEBT_SETTLEMENT),
        ],
        {"A": RESIDENT_A},
    )
    table = metrics.cohorts(t, p, c).set_index("cohort")
    assert table.loc["2025-01", ["minted", "debt_settlement", "outstanding"]].tolist() == [1_000, 1_000, 0]
    assert table.loc["2025-02", ["minted", "debt_settlement", "outstanding"]].tolist() == [500, 200, 300]
    assert table.loc["2025-02", "redeemed_share"] == pytest.approx(0.4)
    assert table["leakage_share"].tolist() == [0.0, 0.0]
    assert "2025-03" not in table.index  # nothing minted in March


def test_cohort_leakage_is_what_moved_outside_the_coins_area():
    # In the LM3 ledger 100 of January's 1,000 went to a shop outside the gemeente.
    row = metrics.cohorts(*lm3_ledger()).iloc[0]
    assert row["left_area"] == 100
    assert row["leakage_share"] == pytest.approx(0.1)
    assert row["debt_settlement"] == 300
    assert row["outstanding"] == 1_000 - 300


# Participation, debts, Gini


def test_active_participants_per_month_and_kind():
    # January: A earns and pays M (both active and trading); B only earns (active, not trading).
    # February: only a recovery of A's wallet, which is no activity.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 100, S.ACTIVITY_REWARD),
            (at(1), ZERO, "B", 100, S.ACTIVITY_REWARD),
            (at(2), "A", "M", 50, S.PAYMENT),
            (at(2, 2), "A", "A2", 50, S.RECOVERY),
        ],
        {"A": RESIDENT_A, "A2": RESIDENT_A, "B": RESIDENT_B, "M": SHOP},
    )
    table = metrics.active_participants(t, p, c).set_index(["month", "kind"])
    assert table.loc[("2025-01", "resident"), ["active", "trading"]].tolist() == [2, 1]
    assert table.loc[("2025-01", "merchant"), ["active", "trading"]].tolist() == [1, 1]
    assert "2025-02" not in table.index.get_level_values("month")


def test_debts_settled_per_month():
    # January: A settles 100 and 200, B 50 -> 3 settlements, 350, 2 residents. February: none.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 1_000, S.ACTIVITY_REWARD),
            (at(1), ZERO, "B", 1_000, S.ACTIVITY_REWARD),
            (at(2), "A", ZERO, 100, S.DEBT_SETTLEMENT),
            (at(3), "A", ZERO, 200, S.DEBT_SETTLEMENT),
            (at(4), "B", ZERO, 50, S.DEBT_SETTLEMENT),
            (at(4, 2), "B", ZERO, 10, S.SERVICE_REDEMPTION),
        ],
        {"A": RESIDENT_A, "B": RESIDENT_B},
    )
    table = metrics.debts_settled(t, p, c)
    assert table[["month", "settlements", "settled", "residents"]].values.tolist() == [["2025-01", 3, 350, 2]]


def test_gini_is_zero_for_equal_balances_and_three_quarters_when_one_of_four_holds_all():
    people = {a: RESIDENT_A for a in "ABCD"}
    equal = [(at(1), ZERO, a, 100, S.ACTIVITY_REWARD) for a in "ABCD"]
    row = metrics.gini(*ledger(equal, people)).set_index("symbol").loc["SC"]
    assert (row["residents"], row["total"], row["gini"]) == (4, 400, 0.0)
    # Everything paid to A by the end: sorted balances 0, 0, 0, 400 -> (2*4 - 4 - 1) * 400 / (4 * 400).
    pooled = equal + [(at(2), a, "A", 100, S.PERSON_TO_PERSON) for a in "BCD"]
    assert metrics.gini(*ledger(pooled, people)).set_index("symbol").loc["SC", "gini"] == pytest.approx(0.75)
    # At the end of day 1, before the pooling, they were still equal.
    earlier = metrics.gini(*ledger(pooled, people), at=at(1.5)).set_index("symbol")
    assert earlier.loc["SC", "gini"] == 0.0
    assert metrics.gini(*ledger(pooled, people), at=pd.Timestamp("2025-01-01 12:00")).loc[0, "gini"] == 0.0
    assert metrics.gini_coefficient(np.array([])) != metrics.gini_coefficient(np.array([]))  # NaN


# Network


def network_ledger():
    # Community {A, B, C}: A -> B -> C -> A (a 3-cycle) and B -> A (with A -> B a 2-cycle), 1,000 each.
    # Community {D, E, F, G}: D -> E -> F -> G -> D (a 4-cycle), 1,000 each. One bridge C -> D of 10.
    # Volume 4,000 + 4,000 + 10; inside communities 8,000.
    pairs = [("A", "B"), ("B", "C"), ("C", "A"), ("B", "A"), ("D", "E"), ("E", "F"), ("F", "G"), ("G", "D")]
    moves = [(at(1), ZERO, a, 10_000, S.ACTIVITY_REWARD) for a in "ABCDEFG"]
    moves += [(at(2), u, v, 1_000, S.PERSON_TO_PERSON) for u, v in pairs]
    moves.append((at(3), "C", "D", 10, S.PERSON_TO_PERSON))
    return ledger(moves, {a: RESIDENT_A for a in "ABCDEFG"})


def test_network_finds_the_two_communities_their_share_and_their_cycles():
    figures = network.flow_network(*network_ledger())
    nodes = figures["network_nodes"].set_index("address")
    assert nodes.loc[["A", "B", "C"], "community"].nunique() == 1
    assert nodes.loc[["D", "E", "F", "G"], "community"].nunique() == 1
    assert nodes.loc["A", "community"] != nodes.loc["D", "community"]
    summary = figures["network_summary"].iloc[0]
    assert (summary["nodes"], summary["edges"], summary["volume"], summary["communities"]) == (7, 9, 8_010, 2)
    assert summary["community_share"] == pytest.approx(8_000 / 8_010)
    cycles = figures["network_cycles"]
    big = nodes.loc["D", "community"]  # four members: the larger community is number 0
    assert big == 0
    by = cycles.set_index(["community", "length"])["cycles"]
    assert [by[(0, k)] for k in range(2, 6)] == [0, 0, 1, 0]
    assert [by[(1, k)] for k in range(2, 6)] == [1, 1, 0, 0]
    assert nodes["pagerank"].sum() == pytest.approx(1.0)


def test_pagerank_and_assortativity_equal_networkx_on_the_same_graph():
    figures = network.flow_network(*network_ledger())
    edges = figures["network_edges"]
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(edges[["source", "target", "value"]].itertuples(index=False))
    expected = nx.pagerank(graph, weight="weight", tol=1e-12, max_iter=10_000)
    ours = figures["network_nodes"].set_index("address")["pagerank"]
    assert ours.to_dict() == pytest.approx(expected, abs=1e-8)
    assert figures["network_summary"].iloc[0]["degree_assortativity"] == pytest.approx(
        nx.degree_assortativity_coefficient(graph, x="out", y="in")
    )


@pytest.mark.parametrize("seed", range(6))
def test_cycle_counts_equal_enumerating_every_simple_cycle(seed):
    # Random digraphs dense enough to hold every kind of repeated walk the formulas subtract.
    rng = np.random.default_rng(seed)
    n = 9
    u, v = np.nonzero(rng.random((n, n)) < 0.35)
    graph = nx.DiGraph(list(zip(u.tolist(), v.tolist(), strict=True)))
    graph.remove_edges_from(nx.selfloop_edges(graph))
    expected = {k: 0 for k in range(2, 6)}
    for cycle in nx.simple_cycles(graph, length_bound=5):
        if len(cycle) >= 2:
            expected[len(cycle)] += 1
    assert network.cycle_counts(u, v, n) == expected


# Everything, empty ledgers and refusals


def test_all_figures_names_every_table():
    figures = metrics.all_figures(*lm3_ledger())
    assert set(figures) == {
        "supply",
        "social_value",
        "velocity",
        "local_share",
        "lm3",
        "hops_before_burn",
        "cohorts",
        "active_participants",
        "debts_settled",
        "gini",
        "network_edges",
        "network_nodes",
        "network_summary",
        "network_cycles",
    }
    assert figures["lm3"].iloc[0]["r2"] == 600
    assert all(isinstance(table, pd.DataFrame) for table in figures.values())


def test_a_ledger_without_payments_has_empty_flow_tables_and_zero_velocity():
    # Two rewards ten days apart and nothing else: supply but no flow.
    t, p, c = ledger(
        [(at(1), ZERO, "A", 100, S.ACTIVITY_REWARD), (at(11), ZERO, "A", 100, S.ACTIVITY_REWARD)],
        {"A": RESIDENT_A},
    )
    figures = metrics.all_figures(t, p, c)
    assert figures["local_share"].empty
    assert figures["network_edges"].empty
    assert figures["network_cycles"].empty
    assert figures["network_summary"].iloc[0]["nodes"] == 0
    assert figures["velocity"]["velocity"].tolist() == [0.0]


def test_an_empty_ledger_gives_empty_tables():
    t, p, c = ledger([], {"A": RESIDENT_A})
    figures = metrics.all_figures(t, p, c)
    for name in ("supply", "social_value", "velocity", "cohorts", "debts_settled", "network_edges"):
        assert figures[name].empty, name
    # Every coin keeps its LM3 row: nothing rewarded, so no ratio.
    assert figures["lm3"][["r1", "r2", "r3"]].values.tolist() == [[0, 0, 0]]
    assert figures["lm3"]["lm3"].isna().all()


@pytest.mark.parametrize(
    ("frame_name", "column"),
    [("transfers", "value"), ("transfers", "subtype"), ("participants", "area"), ("coins", "area")],
)
def test_a_frame_missing_a_column_is_refused_naming_it(frame_name, column):
    t, p, c = lm3_ledger()
    frames = {"transfers": t, "participants": p, "coins": c}
    frames[frame_name] = frames[frame_name].drop(columns=column)
    with pytest.raises(MissingColumn, match=f"{frame_name} frame has no column '{column}'"):
        metrics.all_figures(frames["transfers"], frames["participants"], frames["coins"])


def test_amounts_that_are_not_integer_cents_are_refused():
    t, p, c = lm3_ledger()
    with pytest.raises(ValueError, match="integer cents"):
        metrics.supply(t.astype({"value": "float64"}), p, c)


def test_a_transfer_of_an_unlisted_coin_is_refused():
    t, p, c = lm3_ledger()
    with pytest.raises(ValueError, match="coins frame does not list"):
        metrics.supply(t, p, c.assign(coin="other"))


def test_rows_out_of_ledger_order_are_traced_in_ledger_order():
    # The same LM3 ledger with its rows reversed: block and log index, not row order, decide what came first.
    t, p, c = lm3_ledger()
    row = metrics.lm3(t.iloc[::-1], p, c).iloc[0]
    assert (row["r1"], row["r2"], row["r3"]) == (1_000, 600, 250)


def test_figures_of_the_loaders_own_hand_made_ledger():
    # The ledger research/ledger.py builds from the events of tests/python/test_research_frames.py: Anna earns
    # 5,000 and pays 700 + 900 + 300 locally (R2 = 1,900), the shop refunds 100 and cashes out 800 (no R3).
    # At the end Ben holds 1,000 and Anna's replacement 3,200 (Anna, replaced, is left out): Gini of
    # (1,000, 3,200) = (3,200 - 1,000) / (2 x 4,200).
    from test_research_frames import ledger as hand_made

    from socialcoin.research.rebuild import research_figures

    figures = research_figures(hand_made.__wrapped__())
    supply = figures["supply"].iloc[0]
    assert (supply["minted"], supply["burned"], supply["circulating"]) == (5_000, 800, 4_200)
    assert figures["lm3"].iloc[0][["r1", "r2", "r3"]].tolist() == [5_000, 1_900, 0]
    gini = figures["gini"].set_index("symbol")
    assert gini.loc["GKW", "gini"] == pytest.approx(2_200 / 8_400)
    assert figures["cohorts"].iloc[0]["merchant_payout"] == 800


def test_traced_residents_names_every_resident_who_held_the_cents_of_a_hop_count_or_a_cohort():
    # A's reward goes 300 to B (person to person), B pays 200 of it to the shop, which pays it out: those
    # 200 cents made two hops and were held by A and B. A settles 100 straight from the reward (no hop). The
    # shop's own February mint reaches no resident: no one is behind that cohort.
    t, p, c = ledger(
        [
            (at(1), ZERO, "A", 1_000, S.ACTIVITY_REWARD),
            (at(2), "A", "B", 300, S.PERSON_TO_PERSON),
            (at(3), "B", "M", 200, S.PAYMENT),
            (at(4), "M", ZERO, 200, S.MERCHANT_PAYOUT),
            (at(5, 2), "A", ZERO, 100, S.DEBT_SETTLEMENT),
            (at(6, 2), ZERO, "M", 50, S.REWARD_GRANT),
        ],
        {"A": RESIDENT_A, "B": RESIDENT_B, "M": SHOP},
    )
    by_hops, by_cohort = metrics.traced_residents(t, p, c)
    assert sorted(map(tuple, by_hops[["hops", "address"]].to_numpy().tolist())) == [
        (0, "A"),
        (2, "A"),
        (2, "B"),
    ]
    assert by_cohort[["cohort", "address"]].to_numpy().tolist() == [["2025-01", "A"], ["2025-01", "B"]]
    assert set(by_hops["coin"]) == set(by_cohort["coin"]) == {"C"}
    # The same cells as the tables they are behind.
    assert set(metrics.hops_before_burn(t, p, c)["hops"]) == set(by_hops["hops"])
