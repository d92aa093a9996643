"""Programmes: a budget per coin, binding before the chain, and what became of it from the indexed events."""

from __future__ import annotations

import pytest
from eth_account import Account

from contracts import contracts
from socialcoin.db.models import ChainTx, OutboxItem
from socialcoin.domain.access import Role
from test_activity_flow import World, make_world, problem


@pytest.fixture
def world(client, runtime, auth, demo) -> World:
    return make_world(client, runtime, auth, demo)


def budgets(world: World) -> tuple[dict, dict]:
    """(programme rows by id, coin rows by symbol) of GET /municipality/budgets."""
    answer = world.client.get("/municipality/budgets", headers=world.admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {p["programme_id"]: p for p in body["programmes"]}, {c["symbol"]: c for c in body["coins"]}


def test_a_programme_is_a_budget_for_one_of_the_municipalitys_coins(world):
    programme = world.programme("ARS", 250_000, name="Schuldhulp in actie")
    listed = world.client.get("/municipality/programmes", headers=world.admin).json()
    assert [(p["id"], p["coin"], p["budget_cents"]) for p in listed] == [
        (programme, world.coin("ARS"), 250_000)
    ]

    unknown = {"name": "Nepmunt", "coin": Account.create().address, "budget_cents": 1000}
    problem(
        world.client.post("/municipality/programmes", headers=world.admin, json=unknown),
        422,
        "coin_unknown",
        "coin",
    )
    nothing = {"name": "Niets", "coin": world.coin("GKW"), "budget_cents": 0}
    problem(
        world.client.post("/municipality/programmes", headers=world.admin, json=nothing),
        422,
        "budget_out_of_range",
        "budget_cents",
    )
    twice = {"name": "Schuldhulp in actie", "coin": world.coin("GKW"), "budget_cents": 1000}
    problem(
        world.client.post("/municipality/programmes", headers=world.admin, json=twice),
        409,
        "programme_exists",
        "name",
    )


def test_budgets_show_budgeted_minted_burned_and_outstanding_per_programme_and_coin(world):
    world.drain()
    _, coins_before = budgets(world)
    programme = world.programme("ARS", 100_000)
    activity = world.activity(programme, area="GM0202", value_cents_per_unit=1500)
    resident = world.resident("BU02020103")
    world.drain()
    claim_id = world.claim(activity, resident, units=2)
    assert world.approve(claim_id).status_code == 200

    programmes, coins = budgets(world)
    row = programmes[programme]
    assert (row["budgeted_cents"], row["reserved_cents"], row["minted_cents"], row["available_cents"]) == (
        100_000,
        3000,
        0,
        97_000,
    )

    world.drain()
    programmes, coins = budgets(world)
    row = programmes[programme]
    assert (row["symbol"], row["reserved_cents"], row["minted_cents"], row["available_cents"]) == (
        "ARS",
        0,
        3000,
        97_000,
    )
    ars, before = coins["ARS"], coins_before["ARS"]
    assert ars["budgeted_cents"] == 100_000
    assert ars["minted_cents"] == before["minted_cents"] + 3000
    assert ars["burned_cents"] == before["burned_cents"]
    assert ars["outstanding_cents"] == ars["minted_cents"] - ars["burned_cents"]
    # The demo municipality minted 40.00 + 30.00 ARS and settled a debt of 10.00 with it.
    assert (before["minted_cents"], before["burned_cents"]) == (7000, 1000)
    supply = contracts(world.runtime).coin(world.coin("ARS")).functions.totalSupply().call()
    assert ars["outstanding_cents"] == supply


def test_minting_beyond_a_programmes_budget_is_refused_before_anything_reaches_the_chain(world):
    programme = world.programme("GKW", 5000)
    activity = world.activity(programme)
    anna, bram = world.resident(), world.resident("BU02020102")
    world.drain()
    first, second = world.claim(activity, anna, units=3), world.claim(activity, bram, units=3)
    assert world.approve(first).status_code == 200
    world.drain()
    items, txs = world.count(OutboxItem), world.count(ChainTx)
    bram_before = world.balance("GKW", bram[1])

    body = problem(world.approve(second), 409, "budget_exceeded", "amount_cents")
    assert (body["details"]["available_cents"], body["details"]["needed_cents"]) == (2000, 3000)
    world.drain()
    assert (world.count(OutboxItem), world.count(ChainTx)) == (items, txs)
    assert world.balance("GKW", bram[1]) == bram_before
    claims = {
        c["id"]: c["status"] for c in world.client.get("/municipality/claims", headers=world.admin).json()
    }
    assert claims == {first: "minted", second: "attested"}

    # A larger budget lets the same claim through.
    raised = world.client.put(
        f"/municipality/programmes/{programme}/budget", headers=world.admin, json={"budget_cents": 6000}
    )
    assert raised.status_code == 200
    assert world.approve(second).status_code == 200
    world.drain()
    assert world.balance("GKW", bram[1]) == bram_before + 3000


def test_an_attestation_the_budget_cannot_pay_is_refused(world):
    activity = world.activity(world.programme("GKW", 2000))
    task_id = world.done_task(activity, world.resident(), units=3)
    problem(world.attest(task_id), 409, "budget_exceeded", "amount_cents")


def test_a_budget_cannot_go_below_what_approved_claims_take(world):
    programme = world.programme("GKW", 10_000)
    activity = world.activity(programme)
    resident = world.resident()
    world.drain()
    assert world.approve(world.claim(activity, resident, units=4)).status_code == 200

    lowered = world.client.put(
        f"/municipality/programmes/{programme}/budget", headers=world.admin, json={"budget_cents": 3999}
    )
    body = problem(lowered, 409, "budget_below_committed", "budget_cents")
    assert body["details"]["committed_cents"] == 4000
    assert (
        world.client.put(
            f"/municipality/programmes/{programme}/budget", headers=world.admin, json={"budget_cents": 4000}
        ).json()["budget_cents"]
        == 4000
    )


def test_only_a_municipal_admin_manages_programmes_and_reads_budgets(world):
    resident = world.resident()
    body = {"name": "Stiekem", "coin": world.coin("GKW"), "budget_cents": 1000}
    assert world.client.post("/municipality/programmes", headers=resident[2], json=body).status_code == 403
    assert world.client.get("/municipality/budgets", headers=world.verifier).status_code == 403
    assert (
        world.client.get("/municipality/budgets", headers=world.auth(Role.DEBT_COUNSELLOR)).status_code == 403
    )
