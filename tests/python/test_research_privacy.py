"""Small-cell suppression (socialcoin.research.privacy): no public figure rests on fewer than k residents,
and no difference of two published figures gives one away."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_research_metrics import at, ledger  # the hand-built ledgers of the metrics' tests

from socialcoin.areas import enclosing
from socialcoin.research import metrics
from socialcoin.research.privacy import (
    GROUPING,
    RESIDENT,
    SUPPRESSED,
    Dimension,
    PrivacyError,
    Publication,
    area_dimension,
    publish,
    transfer_residents,
)
from socialcoin.research.schema import ZERO, Subtype
from socialcoin.settings import Settings, SettingsError

COIN = Dimension("coin")
AREA = area_dimension("area")
MONTH = Dimension("month")


def people(prefix: str, count: int) -> list[str]:
    return [f"0x{prefix}{i:02d}" for i in range(count)]


def contributions(rows: list[tuple[dict[str, str], list[str]]], value: int = 100) -> pd.DataFrame:
    """One transfer of ``value`` cents per resident per cell."""
    return pd.DataFrame(
        [{**cell, RESIDENT: resident, "value": value} for cell, residents in rows for resident in residents]
    )


def table_of(contributed: pd.DataFrame, cells: list[dict[str, str]]) -> pd.DataFrame:
    """The table of ``cells`` (the full partition, zeros included): value in cents and transfers."""
    keys = list(cells[0])
    grid = pd.DataFrame(cells)
    sums = contributed.groupby(keys, as_index=False).agg(value=("value", "sum"), transfers=("value", "size"))
    table = grid.merge(sums, on=keys, how="left")
    return table.fillna({"value": 0, "transfers": 0}).astype({"value": "int64", "transfers": "int64"})


def run(rows: list[tuple[dict[str, str], list[str]]], dimensions: list[Dimension], k: int) -> Publication:
    contributed = contributions(rows)
    return publish(
        table_of(contributed, [cell for cell, _ in rows]), contributed, dimensions, ["value", "transfers"], k
    )


def flags(publication: Publication, column: str) -> dict[str, bool]:
    return dict(zip(publication.cells[column], publication.cells[SUPPRESSED], strict=True))


def margin(publication: Publication, grouping: str, **key: str) -> pd.Series:
    rows = publication.margins[publication.margins[GROUPING] == grouping]
    for column, value in key.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1
    return rows.iloc[0]


def test_a_cell_under_k_residents_is_withheld_with_its_flag():
    published = run([({"coin": "X"}, people("a", 2)), ({"coin": "Y"}, people("b", 9))], [COIN], k=3)
    cell = published.cells.set_index("coin").loc["X"]
    assert cell[SUPPRESSED]
    assert pd.isna(cell["value"]) and pd.isna(cell["transfers"])


def test_a_cell_of_exactly_k_residents_is_published():
    published = run([({"coin": "X"}, people("a", 3)), ({"coin": "Y"}, people("b", 9))], [COIN], k=3)
    assert flags(published, "coin") == {"X": False, "Y": False}
    cell = published.cells.set_index("coin").loc["X"]
    assert (cell["value"], cell["transfers"]) == (300, 3)


def test_a_cell_without_residents_is_a_true_zero_and_published():
    published = run([({"coin": "X"}, []), ({"coin": "Y"}, people("b", 9))], [COIN], k=3)
    cell = published.cells.set_index("coin").loc["X"]
    assert not cell[SUPPRESSED]
    assert cell["value"] == 0


def test_a_total_with_one_withheld_cell_gets_a_complementary_suppression():
    # X has 2 residents: withheld. Total - Y - Z would give X back, so the smallest other cell (Z, 4)
    # is withheld too.
    published = run(
        [({"coin": "X"}, people("a", 2)), ({"coin": "Y"}, people("b", 5)), ({"coin": "Z"}, people("c", 4))],
        [COIN],
        k=3,
    )
    assert flags(published, "coin") == {"X": True, "Y": False, "Z": True}
    total = margin(published, "coin=total", coin="*")
    assert not total[SUPPRESSED] and total["value"] == 1100
    # What differencing gives: X and Z together, 6 residents.
    y = published.cells.set_index("coin").loc["Y", "value"]
    assert total["value"] - y == 600


def test_complementary_suppression_holds_over_buurt_wijk_and_gemeente():
    # Wijk WK020201 holds buurten 01 (2 residents) and 02 (5); wijk WK020202 holds 01 (6) and 02 (7).
    rows = [
        ({"area": "BU02020101"}, people("a", 2)),
        ({"area": "BU02020102"}, people("b", 5)),
        ({"area": "BU02020201"}, people("c", 6)),
        ({"area": "BU02020202"}, people("d", 7)),
    ]
    published = run(rows, [AREA], k=3)
    assert flags(published, "area") == {
        "BU02020101": True,  # under k
        "BU02020102": True,  # or its wijk's total minus buurt 02 would give buurt 01
        "BU02020201": False,
        "BU02020202": False,
    }
    for grouping, area in (("area=WK", "WK020201"), ("area=WK", "WK020202"), ("area=GM", "GM0202")):
        assert not margin(published, grouping, area=area)[SUPPRESSED]
    assert margin(published, "area=total", area="NL")["value"] == 2000


def test_a_small_wijk_forces_suppression_of_a_wijk_total_beside_it():
    # WK020201 has 2 residents in all. GM0202 minus WK020202's total gives it back whatever cells are
    # withheld, so that wijk total is withheld as well, and one of its buurten with it.
    rows = [
        ({"area": "BU02020101"}, people("a", 2)),
        ({"area": "BU02020201"}, people("c", 5)),
        ({"area": "BU02020202"}, people("d", 6)),
    ]
    published = run(rows, [AREA], k=3)
    assert flags(published, "area") == {"BU02020101": True, "BU02020201": True, "BU02020202": False}
    assert margin(published, "area=WK", area="WK020201")[SUPPRESSED]  # under k itself
    assert margin(published, "area=WK", area="WK020202")[SUPPRESSED]  # complementary
    gemeente = margin(published, "area=GM", area="GM0202")
    assert not gemeente[SUPPRESSED] and gemeente["value"] == 1300
    published_cell = published.cells.set_index("area").loc["BU02020202", "value"]
    assert gemeente["value"] - published_cell == 700  # buurt 0101 and 0201 together: 7 residents


def test_a_resident_in_two_cells_counts_once():
    # X and Y have 2 residents each: 4 counted per cell, 3 or 2 distinct.
    a, b, c = people("a", 3)
    three = run([({"coin": "X"}, [a, b]), ({"coin": "Y"}, [b, c])], [COIN], k=4)
    assert margin(three, "coin=total", coin="*")[SUPPRESSED]  # 3 residents, under k=4
    shown = run([({"coin": "X"}, [a, b]), ({"coin": "Y"}, [b, c])], [COIN], k=3)
    assert margin(shown, "coin=total", coin="*")["value"] == 400
    same = run([({"coin": "X"}, [a, b]), ({"coin": "Y"}, [a, b])], [COIN], k=3)
    assert margin(same, "coin=total", coin="*")[SUPPRESSED]  # 2 residents, not 4


def test_the_same_input_gives_the_same_publication():
    rows = [({"coin": c}, people(c.lower(), n)) for c, n in (("P", 1), ("Q", 4), ("R", 4), ("S", 9))]
    first, second = run(rows, [COIN], k=3), run(rows, [COIN], k=3)
    pd.testing.assert_frame_equal(first.cells, second.cells)
    pd.testing.assert_frame_equal(first.margins, second.margins)
    assert flags(first, "coin") == {"P": True, "Q": True, "R": False, "S": False}  # Q before R: by key


def test_a_figure_that_does_not_add_up_is_withheld_with_its_cell_and_kept_out_of_the_margins():
    rows = [({"coin": "X"}, people("a", 2)), ({"coin": "Y"}, people("b", 9)), ({"coin": "Z"}, people("c", 4))]
    contributed = contributions(rows)
    table = table_of(contributed, [cell for cell, _ in rows]).assign(
        average=lambda t: t["value"] / t["transfers"], symbol=["SX", "SY", "SZ"]
    )
    published = publish(
        table, contributed, [COIN], ["value", "transfers"], 3, cell_only=["average"], labels=["symbol"]
    )
    cells = published.cells.set_index("coin")
    assert cells[SUPPRESSED].tolist() == [True, False, True]
    assert pd.isna(cells.loc["X", "average"]) and pd.isna(cells.loc["Z", "average"])
    assert cells.loc["Y", "average"] == 100.0
    assert cells["symbol"].tolist() == [
        "SX",
        "SY",
        "SZ",
    ]  # a label passes through, also beside a withheld cell
    assert "average" not in published.margins.columns and "symbol" not in published.margins.columns


# A table of metrics.py through the gate


def test_social_value_per_wijk_goes_through_the_gate_with_its_rewarded_residents():
    # Rewards of 100 cents in January: wijk 01 to 5 residents, wijk 02 to 2 (one of them also under a
    # recovered wallet: one person, not two), wijk 03 to 4. With k=3 wijk 02 is withheld, and wijk 03
    # (the smaller of the rest) with it, or the gemeente's total minus wijk 01 and 03 would give it away.
    homes = {"WK020201": people("a", 5), "WK020202": people("b", 2), "WK020203": people("c", 4)}
    people_by_address = {
        a: ("resident", wijk.replace("WK", "BU") + "01") for wijk, ws in homes.items() for a in ws
    }
    moves = [(at(3), ZERO, a, 100, Subtype.ACTIVITY_REWARD, "act") for ws in homes.values() for a in ws]
    moves.append((at(4), ZERO, "0xb01new", 100, Subtype.ACTIVITY_REWARD, "act"))
    transfers, participants, coins = ledger(
        moves, {**people_by_address, "0xb01new": ("resident", "BU02020201")}
    )
    participants.loc[participants["address"] == "0xb01", "replaced_by"] = "0xb01new"

    table = metrics.social_value(transfers, participants, coins)
    rewarded = transfer_residents(transfers, participants)
    assert rewarded.loc[rewarded["target"] == "0xb01new", RESIDENT].tolist() == ["0xb01new"]
    assert rewarded.loc[rewarded["target"] == "0xb01", RESIDENT].tolist() == ["0xb01new"]
    contributed = rewarded.assign(
        month=rewarded["block_time"].dt.strftime("%Y-%m"),
        wijk=[enclosing(participants.set_index("address").loc[a, "area"], "WK") for a in rewarded["target"]],
    )
    dimensions = [MONTH, area_dimension("wijk"), Dimension("activity_id")]
    published = publish(table, contributed, dimensions, ["value", "rewards"], 3, cell_only=["residents"])
    assert flags(published, "wijk") == {"WK020201": False, "WK020202": True, "WK020203": True}
    wijk01 = published.cells.set_index("wijk").loc["WK020201"]
    assert (wijk01["value"], wijk01["rewards"], wijk01["residents"]) == (500, 5, 5)
    gemeente = margin(published, "month=cell wijk=GM activity_id=cell", wijk="GM0202")
    assert not gemeente[SUPPRESSED] and gemeente["value"] == 1200


def test_the_residents_of_a_transfer_are_its_resident_ends_and_a_recovered_wallet_is_one_person():
    kinds = {
        "0xa": ("resident", "BU02020101"),
        "0xanew": ("resident", "BU02020101"),
        "0xb": ("resident", "BU02020101"),
        "0xshop": ("merchant", "BU02020101"),
    }
    transfers, participants, _ = ledger(
        [
            (at(1), ZERO, "0xa", 500, Subtype.ACTIVITY_REWARD),  # a
            (at(2), "0xa", "0xshop", 100, Subtype.PAYMENT),  # a (the shop is no resident)
            (at(3), "0xa", "0xb", 100, Subtype.PERSON_TO_PERSON),  # a and b
            (at(4), "0xa", "0xanew", 300, Subtype.RECOVERY),  # a, once: both ends are the same person
        ],
        kinds,
    )
    participants.loc[participants["address"] == "0xa", "replaced_by"] = "0xanew"
    rows = transfer_residents(transfers, participants)
    assert list(zip(rows["block_number"], rows[RESIDENT], strict=True)) == [
        (1, "0xanew"),
        (2, "0xanew"),
        (3, "0xanew"),
        (3, "0xb"),
        (4, "0xanew"),
    ]


# Refusals


def small_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    contributed = contributions([({"coin": "X"}, people("a", 3))])
    return table_of(contributed, [{"coin": "X"}]), contributed


@pytest.mark.parametrize("k", [1, 0, -5, True, 2.5])
def test_k_below_two_is_refused(k):
    table, contributed = small_table()
    with pytest.raises(PrivacyError, match="k must be an integer of at least 2"):
        publish(table, contributed, [COIN], ["value", "transfers"], k)


def test_contributions_without_a_resident_column_are_refused():
    table, contributed = small_table()
    with pytest.raises(PrivacyError, match="contributions lacks column.*resident"):
        publish(table, contributed.drop(columns=[RESIDENT]), [COIN], ["value", "transfers"], 3)


def test_a_table_without_its_key_or_value_column_is_refused():
    table, contributed = small_table()
    with pytest.raises(PrivacyError, match="table lacks column.*transfers"):
        publish(table.drop(columns=["transfers"]), contributed, [COIN], ["value", "transfers"], 3)
    with pytest.raises(PrivacyError, match="contributions lacks column.*month"):
        publish(table.assign(month="2026-01"), contributed, [COIN, MONTH], ["value", "transfers"], 3)


def test_a_table_column_named_nowhere_is_refused():
    table, contributed = small_table()
    with pytest.raises(PrivacyError, match="table column.*transfers are not named"):
        publish(table, contributed, [COIN], ["value"], 3)


def test_a_column_in_two_roles_is_refused():
    table, contributed = small_table()
    with pytest.raises(PrivacyError, match="transfers named in more than one role"):
        publish(table, contributed, [COIN], ["value", "transfers"], 3, cell_only=["transfers"])


def test_a_contribution_to_a_cell_the_table_lacks_is_refused():
    table, contributed = small_table()
    stray = pd.concat([contributed, contributed.assign(coin="Z")])
    with pytest.raises(PrivacyError, match=r"1 cell\(s\) the table does not have \(\('Z',\)\)"):
        publish(table, stray, [COIN], ["value", "transfers"], 3)


def test_a_row_without_its_cell_or_resident_is_refused():
    table, contributed = small_table()
    with pytest.raises(PrivacyError, match="contributions has empty values in resident"):
        publish(table, contributed.assign(resident=None), [COIN], ["value", "transfers"], 3)
    with pytest.raises(PrivacyError, match="table has empty values in coin"):
        publish(table.assign(coin=None), contributed, [COIN], ["value", "transfers"], 3)


def test_a_table_with_two_rows_for_one_cell_is_refused():
    table, contributed = small_table()
    with pytest.raises(PrivacyError, match="more than one row for the cell"):
        publish(pd.concat([table, table]), contributed, [COIN], ["value", "transfers"], 3)


def test_the_k_setting_defaults_to_ten_and_refuses_less_than_two():
    assert Settings.from_env({"SOCIALCOIN_ENVIRONMENT": "test"}).research_k_anonymity == 10
    with pytest.raises(SettingsError, match="SOCIALCOIN_RESEARCH_K_ANONYMITY=1: .*at least 2"):
        Settings.from_env({"SOCIALCOIN_ENVIRONMENT": "test", "SOCIALCOIN_RESEARCH_K_ANONYMITY": "1"})


# The differencing proof: random small ledgers, every pair of published figures.

AREAS = ["BU02020101", "BU02020102", "BU02020201", "WK020203", "BU03030101"]


def random_ledger(seed: int) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    rng = np.random.default_rng(seed)
    coins = ["X", "Y"][: rng.integers(1, 3)]
    months = ["2026-01", "2026-02", "2026-03"][: rng.integers(1, 4)]
    areas = sorted(rng.choice(AREAS, size=rng.integers(2, len(AREAS) + 1), replace=False).tolist())
    rows = []
    for resident in range(rng.integers(1, 30)):
        home = areas[rng.integers(len(areas))]  # most stay in their own area, some move about
        for _ in range(rng.integers(1, 4)):
            area = home if rng.random() < 0.7 else areas[rng.integers(len(areas))]
            coin, month = coins[rng.integers(len(coins))], months[rng.integers(len(months))]
            rows.append(
                {"coin": coin, "area": area, "month": month, RESIDENT: f"0x{resident:040x}",
                 "value": int(rng.integers(1, 5000))}
            )  # fmt: skip
    cells = [{"coin": c, "area": a, "month": m} for c, a, m in itertools.product(coins, areas, months)]
    return pd.DataFrame(rows, columns=["coin", "area", "month", RESIDENT, "value"]), cells


def members(grouping: str, key: dict[str, object], cells: list[dict[str, str]]) -> frozenset[int]:
    """The cells a margin sums, worked out here from its grouping, independently of the module."""
    levels = dict(part.split("=") for part in grouping.split())

    def inside(cell: dict[str, str]) -> bool:
        for column, level in levels.items():
            if level == "cell" and cell[column] != key[column]:
                return False
            if level in ("WK", "GM") and enclosing(cell[column], level) != key[column]:
                return False
        return True

    return frozenset(i for i, cell in enumerate(cells) if inside(cell))


@settings(max_examples=100, derandomize=True, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.sampled_from([2, 3, 5]))
def test_no_difference_of_two_published_figures_gives_away_fewer_than_k_residents(seed, k):
    ledger_rows, cells = random_ledger(seed)
    table = table_of(ledger_rows, cells)
    published = publish(table, ledger_rows, [COIN, AREA, MONTH], ["value", "transfers"], k)

    # The truth, from the contributions alone.
    keys = [(c["coin"], c["area"], c["month"]) for c in cells]
    residents = [set() for _ in cells]
    for row in ledger_rows.itertuples():
        residents[keys.index((row.coin, row.area, row.month))].add(row.resident)
    truth = table["value"].tolist()

    def who(group: frozenset[int]) -> set[str]:
        return set().union(*(residents[i] for i in group))

    shown = ~published.cells[SUPPRESSED]
    public = frozenset(i for i in range(len(cells)) if shown.iloc[i])
    for i in range(len(cells)):
        small = 1 <= len(residents[i]) < k
        assert small <= (i not in public)  # every small cell is withheld
        assert (i not in public) <= (len(residents[i]) > 0)  # and never a true zero
        if i in public:
            assert published.cells["value"].iloc[i] == truth[i]

    aggregates = [(frozenset[int](), 0)]  # the empty aggregate: a margin alone, minus published cells
    for row in published.margins.to_dict("records"):
        group = members(row[GROUPING], row, cells)
        count = len(who(group))
        if 1 <= count < k:
            assert row[SUPPRESSED]
        if not row[SUPPRESSED]:
            assert row["value"] == sum(truth[i] for i in group)
            aggregates.append((group, int(row["value"])))
    seen = {i: int(published.cells["value"].iloc[i]) for i in public}  # what the attacker reads
    aggregates += [(frozenset([i]), seen[i]) for i in sorted(public)]

    for (a, a_value), (b, b_value) in itertools.permutations(aggregates, 2):
        if b and not a & b:
            continue  # no overlap: nothing to difference
        # The attacker's residue, from published figures only: A - B with every published cell of either
        # taken out.
        residue = (
            a_value
            - b_value
            - sum(seen[i] for i in (a - b) & public)
            + sum(seen[i] for i in (b - a) & public)
        )
        plus, minus = (a - b) - public, (b - a) - public
        assert residue == sum(truth[i] for i in plus) - sum(truth[i] for i in minus)
        if plus and not minus:  # the residue is exactly the sum of a group of withheld cells
            assert len(who(plus)) >= k, (sorted(plus), who(plus))
