"""Every rule that reads and then writes holds when many requests arrive at once: 8 requests released by a
barrier against the real server (uvicorn, threads), on SQLite and on PostgreSQL (make test runs this suite
on both). Each test asserts exactly one effect and no 5xx, whatever the order the requests were served in.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import event, func, select

from contracts import contracts
from serving import at_once, first_commit_held, served
from socialcoin.db.enums import Origin, OutboxStatus, SpendStatus
from socialcoin.db.models import (
    ChainEvent,
    Claim,
    OutboxItem,
    PayoutBatch,
    PinAttempts,
    Resident,
    Reward,
    Settlement,
)
from socialcoin.domain.access import Role
from socialcoin.domain.pin_attempts import MAX_PIN_FAILURES
from test_activity_flow import World, make_world
from test_payments import PIN, admit, drive, key, merchant, mint, on_chain, resident_with_coins

PARALLEL = 8


@pytest.fixture
def world(client, runtime, auth, demo) -> World:
    return make_world(client, runtime, auth, demo)


def statuses(answers: list[httpx.Response]) -> Counter[int]:
    found = Counter(answer.status_code for answer in answers)
    assert not [status for status in found if status >= 500], [
        a.text for a in answers if a.status_code >= 500
    ]
    return found


def codes(answers: list[httpx.Response]) -> Counter[str]:
    return Counter(answer.json().get("code", "") for answer in answers if answer.status_code >= 400)


# --------------------------------------------------------------------------------------------------
# What a client was told is what is stored
# --------------------------------------------------------------------------------------------------


def test_every_write_is_committed_before_its_answer_leaves(runtime, auth):
    """A commit slowed down on purpose: an answer that left before it would let the next request miss
    the write. With the commit before the answer, the next request always finds it."""

    def slow_commit(_session):
        threading.Event().wait(0.05)

    event.listen(runtime.sessions, "before_commit", slow_commit)
    try:
        admin = auth(Role.ADMIN)
        resident_id, _ = admit(runtime, "2026-C000")
        with served(runtime) as base, httpx.Client(base_url=base, timeout=30) as client:
            for n in range(10):
                issued = client.post(
                    "/municipality/tokens",
                    headers=admin,
                    json={"role": "debt_counsellor", "label": f"medewerker {n}"},
                )
                assert issued.status_code == 201, issued.text
                me = client.get("/auth/me", headers={"Authorization": f"Bearer {issued.json()['token']}"})
                assert me.status_code == 200, me.text
            for _ in range(3):
                login = client.post("/auth/login", json={"case_number": "2026-C000", "pin": PIN})
                assert login.status_code == 200, login.text
                profile = client.get(
                    "/residents/me", headers={"Authorization": f"Bearer {login.json()['token']}"}
                )
                assert profile.status_code == 200 and profile.json()["id"] == resident_id
    finally:
        event.remove(runtime.sessions, "before_commit", slow_commit)


# --------------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------------


def test_a_payout_goes_into_one_sepa_file_however_many_are_made_at_once(runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    mint(runtime, demo, "GKW", bakery, 500)
    drive(runtime)
    merchant_headers, admin = auth(Role.MERCHANT, bakery_id), auth(Role.ADMIN)
    with served(runtime) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            payout = client.post(
                "/merchants/me/payouts",
                headers={**merchant_headers, **key()},
                json={"coin": "GKW", "amount_cents": 500, "pin": PIN},
            )
            assert payout.status_code == 202, payout.text
        drive(runtime)
        body = {"debtor_name": "Gemeente Arnhem", "debtor_iban": "NL91ABNA0417164300"}
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(f"{base}/municipality/payout-batches", headers=admin, json=body),
        )
    assert statuses(answers) == {201: 1, 409: PARALLEL - 1}
    assert codes(answers) == {"nothing_to_pay": PARALLEL - 1}
    with runtime.sessions() as session:
        files = session.scalars(select(PayoutBatch.xml)).all()
    end_to_end = f"SOCIALCOIN-PAYOUT-{payout.json()['id']}"
    assert sum(xml.count(f"<EndToEndId>{end_to_end}</EndToEndId>") for xml in files) == 1


def a_debt_of_one_euro(client, auth, resident_id: int, reference: str) -> dict:
    answer = client.post(
        "/municipality/debts",
        headers=auth(Role.DEBT_COUNSELLOR),
        json={
            "resident_id": resident_id,
            "creditor": "CJIB",
            "creditor_reference": reference,
            "amount_cents": 100,
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_debt_is_paid_off_once_by_settlements_at_the_same_moment(runtime, demo, auth, client):
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-C001", "ARS", 2000)
    case = a_debt_of_one_euro(client, auth, resident_id, "CJIB-C001")
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(
                f"{base}/residents/me/debts/{case['id']}/settlements",
                headers={**headers, **key()},
                json={"coin": "ARS", "amount_cents": 100, "pin": PIN},
            ),
        )
    assert statuses(answers) == {202: 1, 400: PARALLEL - 1}
    assert codes(answers) == {"debt_overpaid": PARALLEL - 1}
    drive(runtime)
    assert on_chain(runtime, demo, "ARS", wallet) == 1900  # burned once
    with runtime.sessions() as session:
        settled = session.scalars(
            select(Settlement.status).where(Settlement.debt_case_id == case["id"])
        ).all()
        remaining = session.scalar(select(func.min(Settlement.amount_cents)))
    assert settled == [SpendStatus.SETTLED] and remaining == 100
    (shown,) = [a.json() for a in answers if a.status_code == 202]
    assert shown["amount_cents"] == 100


# PostgreSQL: the first to take the wallet's lock commits only once a twin has looked for the key and asks
# for the lock too. (SQLite takes no such lock: its write transactions queue whole.)
TWIN_WAITS_FOR_THE_LOCK = {"after": "pg_advisory_xact_lock", "until": "pg_advisory_xact_lock", "threads": 2}


def test_the_same_settlement_of_a_whole_debt_sent_at_once_under_one_key_settles_once_and_answers_the_same(
    runtime, demo, auth, client
):
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-C004", "ARS", 500)
    case = a_debt_of_one_euro(client, auth, resident_id, "CJIB-C004")
    one_key = key()
    with served(runtime) as base, first_commit_held(runtime.engine, **TWIN_WAITS_FOR_THE_LOCK):
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(
                f"{base}/residents/me/debts/{case['id']}/settlements",
                headers={**headers, **one_key},
                json={"coin": "ARS", "amount_cents": 100, "pin": PIN},
            ),
        )
    # Not debt_overpaid: a twin that waited for the first one's lock finds it under the key.
    assert statuses(answers) == {202: PARALLEL}
    assert len({a.json()["id"] for a in answers}) == 1
    drive(runtime)
    assert on_chain(runtime, demo, "ARS", wallet) == 400  # burned once


def test_the_same_payment_sent_at_once_under_one_key_pays_once_and_answers_the_same(runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-C002", "GKW", 1000)
    one_key = key()
    body = {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 250, "reference": "bon 7", "pin": PIN}
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(
                f"{base}/residents/me/payments", headers={**headers, **one_key}, json=body
            ),
        )
    assert statuses(answers) == {202: PARALLEL}
    assert len({a.json()["id"] for a in answers}) == 1  # the same answer to every caller
    with runtime.sessions() as session:
        items = session.scalars(select(OutboxItem).where(OutboxItem.origin == Origin.PAYMENT)).all()
    assert len(items) == 1
    drive(runtime)
    assert on_chain(runtime, demo, "GKW", bakery) == 250
    assert on_chain(runtime, demo, "GKW", wallet) == 750


def test_payments_at_once_never_spend_more_than_the_balance(runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-C003", "GKW", 1000)
    body = {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 300, "pin": PIN}
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(
                f"{base}/residents/me/payments", headers={**headers, **key()}, json=body
            ),
        )
    assert statuses(answers) == {202: 3, 400: PARALLEL - 3}
    assert codes(answers) == {"insufficient_balance": PARALLEL - 3}
    drive(runtime)
    with runtime.sessions() as session:
        failed = session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status == OutboxStatus.FAILED)
        )
    assert failed == 0  # nothing was sent that the chain then refused
    assert (on_chain(runtime, demo, "GKW", bakery), on_chain(runtime, demo, "GKW", wallet)) == (900, 100)


# --------------------------------------------------------------------------------------------------
# Minting: claims, budgets, the minter's allowance, caps
# --------------------------------------------------------------------------------------------------


def test_a_claim_approved_at_once_by_many_is_minted_once(world: World):
    activity = world.activity(world.programme())
    resident = world.resident()
    world.drain()
    claim_id = world.claim(activity, resident)
    with served(world.runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(
                f"{base}/municipality/claims/{claim_id}/approve", headers=world.admin
            ),
        )
    assert statuses(answers) == {200: PARALLEL}
    assert {a.json()["status"] for a in answers} == {"approved"}
    with world.runtime.sessions() as session:
        items = session.scalars(select(OutboxItem).where(OutboxItem.origin == Origin.CLAIM_MINT)).all()
    assert len(items) == 1
    world.drain()
    assert world.balance("GKW", resident[1]) == 3000
    with world.runtime.sessions() as session:
        claim = session.get_one(Claim, claim_id)
        minted = [
            args
            for args in session.scalars(select(ChainEvent.args).where(ChainEvent.event == "ActivityMinted"))
            if args["claimId"] == claim.claim_id
        ]
    assert len(minted) == 1


def _claims(world: World, programme_id: int, count: int, units: int = 3) -> list[int]:
    activity = world.activity(programme_id)
    residents = [world.resident() for _ in range(count)]
    world.drain()
    return [world.claim(activity, resident, units) for resident in residents]


def test_approvals_at_once_never_pass_the_programmes_budget(world: World):
    programme = world.programme(budget_cents=3 * 3000)  # room for three claims of 3 hours x 10 euro
    claims = _claims(world, programme, PARALLEL)
    with world.runtime.sessions() as session:  # attested within the budget, each on its own
        assert session.scalar(select(func.count()).select_from(Claim)) == PARALLEL
    with served(world.runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}/municipality/claims/{claims[n]}/approve", headers=world.admin
            ),
        )
    assert statuses(answers) == {200: 3, 409: PARALLEL - 3}
    assert codes(answers) == {"budget_exceeded": PARALLEL - 3}
    world.drain()
    with world.runtime.sessions() as session:
        minted = session.scalar(select(func.sum(Claim.amount_cents)).where(Claim.status == "minted"))
    assert minted == 9000


def test_approvals_at_once_never_pass_the_minters_allowance(world: World):
    claims = _claims(world, world.programme(budget_cents=10_000_000), PARALLEL)
    # Room for two claims of 3 hours x 10 euro, set on chain by the demo's admin (the master minter).
    chain = contracts(world.runtime)
    chain.set_minter_allowance(world.runtime.keys["minter"], 2 * 3000, world.demo["demo"]["admin"])
    with served(world.runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}/municipality/claims/{claims[n]}/approve", headers=world.admin
            ),
        )
    assert statuses(answers) == {200: 2, 409: PARALLEL - 2}
    assert codes(answers) == {"minter_allowance_exceeded": PARALLEL - 2}
    world.drain()
    with world.runtime.sessions() as session:
        failed = session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status == OutboxStatus.FAILED)
        )
    assert failed == 0


def test_rewards_at_once_never_pass_a_residents_cap_per_month(world: World):
    activity = world.activity(world.programme(), cap_units_per_month=8)
    resident = world.resident()
    world.drain()
    with world.runtime.sessions() as session:
        case_number = session.get_one(Resident, resident[0]).case_number
    with served(world.runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}/municipality/rewards/batch",
                headers=world.admin,
                json={
                    "rows": [
                        {
                            "line": 2,
                            "case_number": case_number,
                            "activity_id": activity,
                            "units": 3,
                            "claim_reference": f"2026-03/cap/{n}",
                        }
                    ]
                },
            ),
        )
    assert statuses(answers) == {200: 2, 422: PARALLEL - 2}  # 2 x 3 units fit a cap of 8
    with world.runtime.sessions() as session:
        units = session.scalar(select(func.sum(Reward.units)).where(Reward.resident_id == resident[0]))
    assert units == 6


def test_the_same_rewards_file_sent_twice_at_once_records_each_reward_once(world: World):
    activity = world.activity(world.programme())
    residents = [world.resident() for _ in range(3)]
    world.drain()
    with world.runtime.sessions() as session:
        cases = [session.get_one(Resident, r[0]).case_number for r in residents]
    rows = [
        {
            "line": n + 2,
            "case_number": case,
            "activity_id": activity,
            "units": 1,
            "claim_reference": f"file/{n}",
        }
        for n, case in enumerate(cases)
    ]
    with served(world.runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(
                f"{base}/municipality/rewards/batch", headers=world.admin, json={"rows": rows}
            ),
        )
    found = statuses(answers)
    assert set(found) <= {200, 409}
    queued = [a.json()["counts"] for a in answers if a.status_code == 200]
    assert sum(count.get("queued", 0) for count in queued) == 3  # each row queued by exactly one request
    world.drain()
    with world.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reward)) == 3
        assert (
            session.scalar(
                select(func.count()).select_from(ChainEvent).where(ChainEvent.event == "RewardGranted")
            )
            == 3
        )


# --------------------------------------------------------------------------------------------------
# Guessing a PIN
# --------------------------------------------------------------------------------------------------


def test_wrong_pins_at_once_get_no_more_tries_than_the_lock_out_allows(runtime):
    resident_id, _ = admit(runtime, "2026-C010")
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}/auth/login", json={"case_number": "2026-C010", "pin": f"{97531 + 2 * n}"}
            ),
        )
        # Attempts are counted before they are checked; every refusal is the one sign-in answer, and none is
        # checked beyond the limit (test_front_door counts the key derivations).
        assert statuses(answers) == {401: PARALLEL}
        right = httpx.post(f"{base}/auth/login", json={"case_number": "2026-C010", "pin": PIN})
        assert right.status_code == 401 and right.json()["code"] == "login_failed"
    with runtime.sessions() as session:
        assert session.get_one(PinAttempts, (f"resident:{resident_id}", "address:127.0.0.1")).locked_until


def test_wrong_pins_at_once_in_payments_are_counted_and_lock_the_pin(runtime, demo, auth):
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-C011", "GKW", 1000)
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}/residents/me/payments",
                headers={**headers, **key()},
                json={
                    "merchant_id": bakery_id,
                    "coin": "GKW",
                    "amount_cents": 100,
                    "pin": f"{97531 + 2 * n}",
                },
            ),
        )
    assert statuses(answers) == {403: MAX_PIN_FAILURES - 1, 429: PARALLEL - MAX_PIN_FAILURES + 1}
    assert on_chain(runtime, demo, "GKW", wallet) == 1000
    with runtime.sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.origin == Origin.PAYMENT)
            )
            == 0
        )


def test_wrong_activation_codes_at_once_get_no_more_tries_than_the_lock_out_allows(runtime, auth):
    admin = auth(Role.ADMIN)
    with served(runtime) as base:
        admitted = httpx.post(
            f"{base}/municipality/residents/batch",
            headers=admin,
            json={"rows": [{"line": 2, "name": "Eva", "case_number": "2026-C012", "area": "BU02020101"}]},
            timeout=30,
        )
        assert admitted.status_code == 200, admitted.text
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}/auth/activate",
                json={"case_number": "2026-C012", "activation_code": f"AAAA-BBBB-CC{n:02d}", "pin": "97531"},
            ),
        )
    assert statuses(answers) == {401: PARALLEL}
    assert codes(answers) == {"activation_failed": PARALLEL}


def test_one_activation_code_used_at_once_activates_once(runtime, auth):
    admin = auth(Role.ADMIN)
    with served(runtime) as base:
        admitted = httpx.post(
            f"{base}/municipality/residents/batch",
            headers=admin,
            json={"rows": [{"line": 2, "name": "Eva", "case_number": "2026-C013", "area": "BU02020101"}]},
            timeout=30,
        ).json()
        code = admitted["results"][0]["activation_code"]
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}/auth/activate",
                json={"case_number": "2026-C013", "activation_code": code, "pin": f"{97531 + 2 * n}"},
            ),
        )
    assert statuses(answers) == {200: 1, 409: PARALLEL - 1}
    assert codes(answers) == {"already_activated": PARALLEL - 1}


def test_the_same_idempotency_key_for_a_chain_operation_at_once_queues_it_once(runtime, auth):
    admin = auth(Role.ADMIN)
    one_key = {"Idempotency-Key": f"pause-{uuid.uuid4()}"}
    # The first to record it commits only once every twin has looked for the key and for an operation on
    # its way (and found neither).
    held = {"after": "INSERT INTO chain_operations", "until": "FROM chain_operations", "times": 2}
    with served(runtime) as base, first_commit_held(runtime.engine, threads=PARALLEL, **held):
        answers = at_once(
            PARALLEL,
            lambda client, _: client.post(
                f"{base}/municipality/chain/pause", headers={**admin, **one_key}, json={"reason": "test"}
            ),
        )
    assert statuses(answers) == {202: PARALLEL}, codes(answers)
    assert len({a.json()["id"] for a in answers}) == 1
    with runtime.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.origin == Origin.CHAIN_OPERATION)
            )
            == 1
        )
