"""research/public.py on hand-built ledgers: every public table names the residents behind each of its cells,
so that a figure resting on one resident is withheld at k=2, one resting on two is shown, and a figure of
merchants alone (no resident behind it) is shown as it is."""

from __future__ import annotations

import pandas as pd
from test_research_metrics import RESIDENT_A, RESIDENT_B, SHOP, S, at, ledger

from socialcoin.research import public
from socialcoin.research.ledger import Ledger
from socialcoin.research.public import NOT_PUBLISHED, TABLES, public_figures
from socialcoin.research.schema import ZERO

A, B, SHOP_1, SHOP_2 = "0xa1", "0xb2", "0x51", "0x52"
PEOPLE = {A: RESIDENT_A, B: RESIDENT_B, SHOP_1: SHOP, SHOP_2: SHOP}


def published(moves: list[tuple], k: int = 2) -> dict[str, pd.DataFrame]:
    found = public_figures(Ledger(*ledger(moves, PEOPLE)), k)
    return {name: publication.cells for name, publication in found.publications.items()}


ONE_RESIDENT = [
    (at(1), ZERO, A, 1000, S.ACTIVITY_REWARD, "act"),
    (at(2), A, SHOP_1, 400, S.PAYMENT),
    (at(3), SHOP_1, SHOP_2, 100, S.PAYMENT),  # between merchants: no resident behind it
    (at(4), A, ZERO, 200, S.DEBT_SETTLEMENT),
]


def test_every_figure_resting_on_one_resident_is_withheld_and_one_of_merchants_alone_is_shown():
    cells = published(ONE_RESIDENT)
    assert set(cells) == {spec.name for spec in TABLES} and not set(cells) & set(NOT_PUBLISHED)
    for name in (
        "supply",
        "social_value",
        "velocity",
        "local_share",
        "debts_settled",
        "lm3",
        "network_summary",
        "hops_before_burn",
        "cohorts",
    ):
        assert cells[name]["suppressed"].all(), name
    # The Gini is over every registered resident within the coin's area, zero balances included: A and B.
    assert not cells["gini"]["suppressed"].any() and (cells["gini"]["residents"] == 2).all()
    assert published(ONE_RESIDENT, k=3)["gini"]["suppressed"].all()
    active = cells["active_participants"].set_index("kind")["suppressed"]
    assert active["resident"] and not active["merchant"]
    flows = cells["network_flows"].set_index(["source_kind", "target_kind"])
    assert flows.loc[("resident", "merchant"), "suppressed"]
    assert not flows.loc[("merchant", "merchant"), "suppressed"]
    assert flows.loc[("merchant", "merchant"), "value"] == 100
    assert "0xa1" not in "".join(frame.to_csv() for frame in cells.values())  # no address anywhere


def test_figures_resting_on_two_residents_are_shown():
    cells = published(
        [
            *ONE_RESIDENT,
            (at(1), ZERO, B, 500, S.ACTIVITY_REWARD, "act"),
            (at(2), B, SHOP_1, 300, S.PAYMENT),
            (at(4), B, ZERO, 100, S.DEBT_SETTLEMENT),
        ]
    )
    supply = cells["supply"].iloc[0]
    assert not supply["suppressed"] and (supply["minted"], supply["burned"]) == (1500, 300)
    social = cells["social_value"].iloc[0]
    assert not social["suppressed"] and (social["value"], social["rewards"], social["residents"]) == (
        1500,
        2,
        2,
    )
    debts = cells["debts_settled"].iloc[0]
    assert not debts["suppressed"] and debts["settled"] == 300
    flows = cells["network_flows"].set_index(["source_kind", "target_kind"])
    assert not flows.loc[("resident", "merchant"), "suppressed"]
    assert flows.loc[("resident", "merchant"), "value"] == 700
    assert not cells["lm3"]["suppressed"].any() and not cells["network_summary"]["suppressed"].any()


# Hops and cohorts: a cell rests on every resident who held its cents between their mint and their burn (or
# now). A and B each get 1,000 in January and each pay the shop, which pays out what it got: the payout's
# cents made one hop and were held by A and B. Each settles 100 of a debt straight from the reward (no hop).
SHOP_PAYOUT = [
    (at(1), ZERO, A, 1000, S.ACTIVITY_REWARD, "act"),
    (at(1), ZERO, B, 1000, S.ACTIVITY_REWARD, "act"),
    (at(2), A, SHOP_1, 400, S.PAYMENT),
    (at(2), B, SHOP_1, 300, S.PAYMENT),
    (at(3), SHOP_1, ZERO, 700, S.MERCHANT_PAYOUT),
    (at(4), A, ZERO, 100, S.DEBT_SETTLEMENT),
    (at(4), B, ZERO, 100, S.DEBT_SETTLEMENT),
]


def test_hops_and_cohorts_rest_on_every_resident_who_held_the_cents_and_are_shown_at_k():
    cells = published(SHOP_PAYOUT, k=2)
    hops = cells["hops_before_burn"].set_index("hops")
    assert not hops["suppressed"].any() and hops["burned"].to_dict() == {0: 200, 1: 700}
    assert "share" not in hops  # a share would give away the coin's total
    (cohort,) = cells["cohorts"].to_dict("records")
    assert not cohort["suppressed"] and cohort["cohort"] == "2025-01"
    assert (cohort["minted"], cohort["debt_settlement"], cohort["merchant_payout"]) == (2000, 200, 700)
    assert cohort["outstanding"] == 500 + 600 and cohort["redeemed_share"] == 0.45
    for name in ("hops_before_burn", "cohorts"):  # two residents behind each cell: withheld at k=3
        withheld = published(SHOP_PAYOUT, k=3)[name]
        assert withheld["suppressed"].all() and withheld.drop(columns="suppressed").isna().any(axis=None)


def test_a_payout_of_one_residents_payments_is_withheld_though_a_merchant_burned_it():
    one_payer = [move for move in SHOP_PAYOUT if move[1:3] != (B, SHOP_1)]
    one_payer = [(*move[:3], 400, *move[4:]) if move[4] is S.MERCHANT_PAYOUT else move for move in one_payer]
    hops = published(one_payer, k=2)["hops_before_burn"].set_index("hops")
    # The payout's cents were held by A alone; the debts (A and B) would give it away as their total's rest.
    assert hops["suppressed"].all() and hops["burned"].isna().all()


def test_a_picture_of_the_figures_is_drawn_once_per_key_and_only_so_many_are_kept(monkeypatch):
    monkeypatch.setattr(public, "DRAWN_KEPT", 2)
    found = public.PublicFigures(last_block=None, k=2, publications={}, ledger=None)  # type: ignore[arg-type]
    drawings: list[str] = []

    def drawing(name: str):
        def draw() -> bytes:
            drawings.append(name)
            return name.encode()

        return draw

    assert found.drawn("a", drawing("a")) == b"a" and found.drawn("a", drawing("a")) == b"a"
    assert found.drawn("b", drawing("b")) == b"b"
    assert found.drawn("c", drawing("c")) == b"c" and found.drawn("c", drawing("c")) == b"c"
    assert drawings == ["a", "b", "c", "c"]  # a and b kept; c drawn each time, beyond the bound
