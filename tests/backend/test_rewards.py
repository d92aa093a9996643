"""A month's rewards from a spreadsheet, through the HTTP API, against anvil and a real database: checked
row by row and as a whole, recorded in one transaction, minted once with grantBatch under claim ids that
hide the municipality's references, and counted in caps and budgets like claims."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from sqlalchemy import func, select

from contracts import contracts
from socialcoin.db.models import ChainEvent, Notification, OutboxItem, Reward
from socialcoin.domain.rewards import reward_claim_id
from test_activity_flow import World, make_world, problem

BATCH = "/municipality/rewards/batch"


@pytest.fixture
def world(client, runtime, auth, demo) -> World:
    return make_world(client, runtime, auth, demo)


def resident(world: World, area: str = "BU02020101") -> tuple[int, str, dict, str]:
    """(id, wallet address, token headers, case number) of a resident admitted through World (registered
    on chain by the next drain)."""
    made = world.resident(area)
    return (*made, f"2026-T{world._cases:04d}")


def row(line: int, resident: tuple | str | None, activity_id, units, reference) -> dict:
    """A spreadsheet row; `resident` is one made by resident() or a case number."""
    return {
        "line": line,
        "case_number": resident[3] if isinstance(resident, tuple) else resident,
        "activity_id": activity_id,
        "units": units,
        "claim_reference": reference,
    }


def send(world: World, rows: list[dict], dry_run: bool = False):
    return world.client.post(BATCH, headers=world.admin, json={"dry_run": dry_run, "rows": rows})


def stored(world: World) -> tuple[int, int, int]:
    """(rewards, outbox items, notifications): what a refused or dry request must leave as it was."""
    with world.runtime.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Reward, OutboxItem, Notification)
        )


def faults(answer) -> list[tuple[int, str | None, str]]:
    body = problem(answer, 422, "batch_invalid")
    assert all(error["detail"] and error["detail_en"] for error in body["errors"])
    return [(error["line"], error["field"], error["code"]) for error in body["errors"]]


def lookup(world: World, references: list[str]) -> list[dict]:
    answer = world.client.post(
        "/municipality/rewards/lookup", headers=world.admin, json={"claim_references": references}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_rewards_are_minted_once_under_claim_ids_that_do_not_reveal_their_references(world):
    programme = world.programme("GKW", 1_000_000)
    garden = world.activity(programme, value_cents_per_unit=800)
    cafe = world.activity(programme, title="Taalcafé begeleiden", value_cents_per_unit=1000)
    anna, bram = resident(world), resident(world, "BU02020102")
    world.drain()  # their registrations
    rows = [
        row(2, anna, garden, 3, "2026-03/Jansen/001"),
        row(3, bram, garden, 2, "2026-03/de.Vries/002"),
        row(4, anna, cafe, 1, "2026-03/Jansen/003"),
    ]

    answer = send(world, rows)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["counts"] == {"queued": 3}
    assert [(r["line"], r["status"], r["amount_cents"], r["coin"], r["mint"]) for r in body["results"]] == [
        (2, "queued", 2400, world.coin("GKW"), "pending"),
        (3, "queued", 1600, world.coin("GKW"), "pending"),
        (4, "queued", 1000, world.coin("GKW"), "pending"),
    ]
    reward_ids = [r["reward_id"] for r in body["results"]]
    assert all(isinstance(i, int) for i in reward_ids)

    world.drain()
    states = lookup(world, ["2026-03/Jansen/001", "2026-03/de.Vries/002", "2026-03/Jansen/003", "unknown"])
    assert [(s["reward_id"], s["amount_cents"], s["mint"]) for s in states] == [
        (reward_ids[0], 2400, "minted"),
        (reward_ids[1], 1600, "minted"),
        (reward_ids[2], 1000, "minted"),
        (None, None, None),
    ]
    (tx_hash,) = {s["tx_hash"] for s in states[:3]}  # one grantBatch
    assert world.balance("GKW", anna[1]) == 3400 and world.balance("GKW", bram[1]) == 1600

    # On chain: a keyed hash of each reference, marked used; the references themselves are nowhere.
    settings, gateway = world.runtime.settings, contracts(world.runtime)
    secret = settings.secret_key.get_secret_value()
    claim_ids = [reward_claim_id(secret, gateway.deployment, r["claim_reference"]) for r in rows]
    assert "0x" + keccak(text=rows[0]["claim_reference"]).hex() not in claim_ids
    assert all(gateway.issuer.functions.claimUsed(c).call() for c in claim_ids)
    calldata = bytes(gateway.web3.eth.get_transaction(tx_hash)["input"])
    assert not any(r["claim_reference"].encode() in calldata for r in rows)
    with world.runtime.sessions() as session:
        events = session.scalars(
            select(ChainEvent).where(ChainEvent.event == "RewardGranted").order_by(ChainEvent.id)
        ).all()
    assert [(e.tx_hash, e.args["claimId"], e.args["to"], e.args["amount"]) for e in events] == [
        (tx_hash, claim_ids[0], anna[1], 2400),
        (tx_hash, claim_ids[1], bram[1], 1600),
        (tx_hash, claim_ids[2], anna[1], 1000),
    ]
    told = world.notifications(anna[2])
    assert sorted((n["kind"], n["message_en"]) for n in told) == [
        ("coins_minted", "You received € 10,00 as a reward for 'Taalcafé begeleiden'. Thank you!"),
        ("coins_minted", "You received € 24,00 as a reward for 'Buurtmoestuin onderhouden'. Thank you!"),
    ]
    assert told[0]["message_nl"].startswith("U heeft € ")
    history = world.client.get("/residents/me/history", headers=anna[2]).json()
    assert [(h["kind"], h["amount_cents"], h["tx_hash"], h["description_nl"]) for h in history] == [
        ("reward", 1000, tx_hash, "Beloning voor een activiteit"),
        ("reward", 2400, tx_hash, "Beloning voor een activiteit"),
    ]

    # The whole file again (a re-run after a crash): every row exists, nothing more is queued or minted.
    before = stored(world)
    again = send(world, rows)
    assert again.status_code == 200, again.text
    assert again.json()["counts"] == {"exists": 3}
    assert [(r["status"], r["reward_id"], r["mint"]) for r in again.json()["results"]] == [
        ("exists", reward_id, "minted") for reward_id in reward_ids
    ]
    world.drain()
    assert stored(world) == before
    assert world.balance("GKW", anna[1]) == 3400

    # The list, newest first, in pages.
    first = world.client.get("/municipality/rewards?limit=2", headers=world.admin).json()
    assert [r["id"] for r in first] == [reward_ids[2], reward_ids[1]]
    assert (first[0]["claim_id"], first[0]["units"], first[0]["mint"], first[0]["tx_hash"]) == (
        claim_ids[2],
        1,
        "minted",
        tx_hash,
    )
    rest = world.client.get(f"/municipality/rewards?before_id={reward_ids[1]}", headers=world.admin).json()
    assert [r["id"] for r in rest] == [reward_ids[0]]


def test_every_faulty_row_is_named_with_its_field_and_nothing_changes(world):
    programme = world.programme("GKW", 1_000_000)
    garden = world.activity(programme, value_cents_per_unit=1000, cap_units_per_month=8)
    anna, bram = resident(world), resident(world)
    elsewhere = resident(world, "BU02020201")  # wijk WK020202, outside the garden's WK020201
    world.drain()
    suggested = world.client.post(
        "/residents/me/activity-suggestions",
        headers=bram[2],
        json={"title": "Boodschappen voor buren", "description": "Elke week.", "unit": "task"},
    ).json()["id"]
    # Earlier this month: a reward of 1 unit and a finished task of 2 units for Anna.
    assert send(world, [row(2, anna, garden, 1, "earlier-1")]).status_code == 200
    world.done_task(garden, anna, units=2)
    world.drain()
    unregistered = resident(world)  # admitted, not yet on chain

    rows = [
        row(2, anna, garden, 3, "ok-1"),  # 1 + 2 + 3 = 6 of 8: fine
        row(3, "2026-X9999", garden, 1, "no-such-resident"),
        row(4, bram, 999_999, 1, "no-such-activity"),
        row(5, bram, suggested, 1, "not-active"),
        row(6, elsewhere, garden, 1, "outside-area"),
        row(7, bram, garden, 0, "zero-units"),
        row(8, bram, garden, -2, "negative-units"),
        row(9, anna, garden, 3, "over-cap"),  # fits alone (6 of 8), not after line 2 (9 of 8)
        row(10, bram, garden, 1, "ok-1"),
        row(11, bram, garden, 1, "bad reference!"),
        row(12, unregistered, garden, 1, "not-on-chain"),
        row(13, None, garden, 1, "no-case-number"),
        row(14, anna, garden, 2, "earlier-1"),  # the same reference with other units
        row(15, bram, None, None, None),
    ]
    expected = [
        (3, "case_number", "resident_not_found"),
        (4, "activity_id", "activity_not_found"),
        (5, "activity_id", "activity_not_active"),
        (6, "activity_id", "resident_outside_area"),
        (7, "units", "units_invalid"),
        (8, "units", "units_invalid"),
        (9, "units", "cap_exceeded"),
        (10, "claim_reference", "claim_reference_duplicate"),
        (11, "claim_reference", "claim_reference_invalid"),
        (12, "case_number", "resident_not_on_chain"),
        (13, "case_number", "case_number_missing"),
        (14, "units", "claim_reference_reused"),
        (15, "activity_id", "activity_id_invalid"),
        (15, "units", "units_invalid"),
        (15, "claim_reference", "claim_reference_missing"),
    ]
    before = stored(world)
    assert faults(send(world, rows)) == expected
    assert faults(send(world, rows, dry_run=True)) == expected
    assert stored(world) == before

    # A dry run of the good row answers what would happen and changes nothing either.
    dry = send(world, [rows[0]], dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json()["results"] == [
        {
            "line": 2,
            "status": "queued",
            "claim_reference": "ok-1",
            "reward_id": None,
            "amount_cents": 3000,
            "coin": world.coin("GKW"),
            "mint": "pending",
        }
    ]
    assert stored(world) == before


def test_rewards_count_against_budgets_caps_and_the_minters_allowance_like_claims(world):
    programme = world.programme("GKW", 5000)
    garden = world.activity(programme, value_cents_per_unit=1000, cap_units_per_month=8)
    anna, bram = resident(world), resident(world)
    world.drain()
    before = stored(world)
    # EUR 30 and EUR 30 of a EUR 50 budget: the second row does not fit, so nothing is recorded.
    assert faults(send(world, [row(2, anna, garden, 3, "b-1"), row(3, bram, garden, 3, "b-2")])) == [
        (3, "units", "budget_exceeded")
    ]
    assert stored(world) == before
    assert send(world, [row(2, anna, garden, 3, "b-1")]).status_code == 200

    def programme_row() -> dict:
        budgets = world.client.get("/municipality/budgets", headers=world.admin).json()
        (found,) = [p for p in budgets["programmes"] if p["programme_id"] == programme]
        return found

    assert (programme_row()["reserved_cents"], programme_row()["minted_cents"]) == (3000, 0)
    world.drain()
    assert (programme_row()["reserved_cents"], programme_row()["minted_cents"]) == (0, 3000)
    assert programme_row()["available_cents"] == 2000
    problem(
        world.client.put(
            f"/municipality/programmes/{programme}/budget", headers=world.admin, json={"budget_cents": 2999}
        ),
        409,
        "budget_below_committed",
    )

    # A task counts the reward in its cap (3 + 6 > 8), and a claim finds the budget the reward took.
    (task_id,) = world.assign(garden, anna[0])
    assert world.start(anna[2], task_id).status_code == 200
    problem(world.finish(anna[2], task_id, 6), 409, "cap_exceeded", "units")
    problem(world.attest(world.done_task(garden, bram, units=3)), 409, "budget_exceeded")

    # The minter's allowance on chain binds all rows together too.
    generous = world.programme("GKW", 1_000_000, name="Ruim programma")
    cafe = world.activity(generous, title="Taalcafé begeleiden", value_cents_per_unit=1000)
    minter = world.runtime.outbox.signers["minter"].address
    contracts(world.runtime).set_minter_allowance(minter, 4000, world.demo["demo"]["admin"])
    assert faults(send(world, [row(2, anna, cafe, 3, "a-1"), row(3, bram, cafe, 2, "a-2")])) == [
        (3, "units", "minter_allowance_exceeded")
    ]


def test_a_grant_the_chain_refuses_fails_alone_and_its_resident_is_told(world):
    programme = world.programme("GKW", 1_000_000)
    garden = world.activity(programme, value_cents_per_unit=1000)
    anna, bram = resident(world), resident(world)
    world.drain()
    assert send(world, [row(2, anna, garden, 2, "f-1"), row(3, bram, garden, 1, "f-2")]).status_code == 200
    # Between queuing and minting the municipality freezes Bram's wallet on chain.
    registry = contracts(world.runtime).registry
    registry.functions.freeze([bram[1]]).transact({"from": world.demo["demo"]["admin"], "gasPrice": 0})
    world.drain()

    assert [(s["claim_reference"], s["mint"]) for s in lookup(world, ["f-1", "f-2"])] == [
        ("f-1", "minted"),
        ("f-2", "failed"),
    ]
    assert world.balance("GKW", anna[1]) == 2000 and world.balance("GKW", bram[1]) == 0
    with world.runtime.sessions() as session:
        item = session.scalar(
            select(OutboxItem).where(OutboxItem.kind == "mint_granted", OutboxItem.status == "failed")
        )
    assert item.error_code == "CoinTransferRefused"
    assert [n["kind"] for n in world.notifications(bram[2])] == ["mint_failed"]
    assert "niet gelukt" in world.notifications(bram[2])[0]["message_nl"]


def pause(world: World, paused: bool) -> None:
    """Pauses (or unpauses) Socialcoin on chain, as the municipality's pauser (the demo's admin)."""
    chain = contracts(world.runtime)
    call = chain.registry.functions.pause() if paused else chain.registry.functions.unpause()
    tx = call.transact({"from": world.demo["demo"]["admin"], "gasPrice": 0})
    chain.web3.eth.wait_for_transaction_receipt(tx)


def test_rewards_sent_while_paused_are_refused_at_once_and_nothing_is_recorded(world):
    activity = world.activity(world.programme())
    anna = resident(world)
    world.drain()
    pause(world, True)
    before = stored(world)
    answer = send(world, [row(2, anna, activity, 1, "2026-03/paused/1")])
    body = problem(answer, 409, "system_paused")
    assert "pauze" in body["detail"] and "paused" in body["detail_en"]
    assert stored(world) == before
    pause(world, False)
    assert send(world, [row(2, anna, activity, 1, "2026-03/paused/1")]).json()["counts"] == {"queued": 1}


def test_a_reward_whose_mint_failed_says_why_and_is_tried_again_when_its_row_is_sent_again(world):
    activity = world.activity(world.programme())
    anna = resident(world)
    world.drain()
    rows = [row(2, anna, activity, 2, "2026-03/retry/1")]
    assert send(world, rows).json()["counts"] == {"queued": 1}
    pause(world, True)  # after it was queued: the chain refuses the grant
    world.drain()
    (failed,) = lookup(world, ["2026-03/retry/1"])
    assert (failed["mint"], failed["attempt"], failed["error_code"]) == ("failed", 1, "CoinTransferRefused")
    assert "stil" in failed["error"] and "paused" in failed["error_en"]
    pause(world, False)

    again = send(world, rows)  # the same file again: the failed row is queued anew, the claim id the same
    assert again.status_code == 200, again.text
    assert [(r["status"], r["reward_id"]) for r in again.json()["results"]] == [
        ("queued", failed["reward_id"])
    ]
    world.drain()
    (minted,) = lookup(world, ["2026-03/retry/1"])
    assert (minted["mint"], minted["attempt"], minted["error_code"]) == ("minted", 2, None)
    claim_id = reward_claim_id(
        world.runtime.settings.secret_key.get_secret_value(),
        world.runtime.chain.deployment,
        "2026-03/retry/1",
    )
    with world.runtime.sessions() as session:
        granted = [
            args
            for args in session.scalars(select(ChainEvent.args).where(ChainEvent.event == "RewardGranted"))
            if args["claimId"] == claim_id
        ]
    assert len(granted) == 1
    assert world.balance("GKW", anna[1]) == 2000
    assert send(world, rows).json()["counts"] == {"exists": 1}  # and once minted, it stays done
