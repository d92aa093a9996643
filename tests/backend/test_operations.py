"""Chain administration through the HTTP API against anvil: each operation reaches the chain with its
effect, a repeated request returns the same operation, and every refusal (not an admin, a bad address, an
unknown or unexpired coin, a state that is already so, a missing key or role) changes nothing."""

from __future__ import annotations

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from contracts import contracts
from serving import at_once, served
from socialcoin.api.app import create_app
from socialcoin.bootstrap import bootstrap
from socialcoin.db.models import ChainOperation, OutboxItem, Resident
from socialcoin.domain import operations
from socialcoin.domain.access import Role
from socialcoin.domain.admission import case_reference
from test_payments import admit, drive, key, mint, on_chain
from test_people_api import refused

CHAIN = "/municipality/chain"
PARALLEL = 6


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


def written(runtime) -> tuple[int, int]:
    """How many operations and outbox items there are: a refusal leaves both as they were."""
    with runtime.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(ChainOperation)),
            session.scalar(select(func.count()).select_from(OutboxItem)),
        )


def accepted(answer) -> dict:
    assert answer.status_code == 202, answer.text
    return answer.json()


def finished(client, runtime, admin, operation: dict) -> dict:
    """Drives the outbox and the index, then reads the operation again."""
    drive(runtime)
    answer = client.get(f"{CHAIN}/operations/{operation['id']}", headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def participant(runtime, address: str) -> tuple:
    kind, _area, _purposes, frozen, _hash = contracts(runtime).registry.functions.participant(address).call()
    return kind, frozen


# --------------------------------------------------------------------------------------------------
# Pause
# --------------------------------------------------------------------------------------------------


def test_pause_and_unpause_reach_the_chain_once_and_a_repeat_or_an_overlap_is_refused(client, runtime, admin):
    registry = contracts(runtime).registry.functions
    headers = {**admin, **key()}
    first = accepted(client.post(f"{CHAIN}/pause", headers=headers, json={"reason": "Storing bij de bank"}))
    assert first["kind"] == "pause" and first["status"] == "pending"
    assert first["request"]["reason"] == "Storing bij de bank"
    before = written(runtime)
    # The same key: the same operation, nothing new; the same key for something else: refused.
    again = accepted(client.post(f"{CHAIN}/pause", headers=headers, json={"reason": "Storing bij de bank"}))
    assert again["id"] == first["id"]
    refused(client.post(f"{CHAIN}/unpause", headers=headers), 409, "idempotency_key_reused")
    # While it is on its way, another pause or unpause waits for it.
    overlap = refused(client.post(f"{CHAIN}/unpause", headers={**admin, **key()}), 409, "operation_pending")
    assert overlap["details"]["operation_id"] == first["id"]
    assert written(runtime) == before

    done = finished(client, runtime, admin, first)
    assert done["status"] == "done" and done["tx_hash"] and done["error_code"] is None
    assert registry.paused().call() is True
    refused(client.post(f"{CHAIN}/pause", headers={**admin, **key()}), 409, "already_paused")
    assert written(runtime) == before

    unpaused = finished(client, runtime, admin, accepted(client.post(f"{CHAIN}/unpause", headers=admin)))
    assert unpaused["status"] == "done" and unpaused["tx_hash"] != done["tx_hash"]
    assert registry.paused().call() is False
    before = written(runtime)
    refused(client.post(f"{CHAIN}/unpause", headers=admin), 409, "not_paused")
    assert written(runtime) == before


# --------------------------------------------------------------------------------------------------
# Freeze
# --------------------------------------------------------------------------------------------------


def test_freeze_and_unfreeze_set_the_flag_and_a_revert_after_queueing_becomes_the_error(
    client, runtime, admin, demo
):
    bram = demo["demo"]["resident_bram"]
    body = {"wallet_addresses": [bram.lower()], "reason": "Verdachte betalingen"}
    first = accepted(client.post(f"{CHAIN}/freeze", headers=admin, json=body))
    assert first["request"]["wallet_addresses"] == [bram]  # checksummed
    # Queued before the first is mined, so it passes the checks and the chain refuses it.
    second = accepted(client.post(f"{CHAIN}/freeze", headers=admin, json=body))
    assert finished(client, runtime, admin, first)["status"] == "done"
    failed = finished(client, runtime, admin, second)
    assert failed["status"] == "failed" and failed["error_code"] == "RegistryAlreadyFrozen"
    assert failed["error_message"] and failed["error_message_en"] and bram.lower() in failed["error_detail"]
    assert participant(runtime, bram) == (1, True)

    before = written(runtime)
    answer = client.post(f"{CHAIN}/freeze", headers=admin, json=body)
    assert refused(answer, 409, "wallet_already_frozen")["details"]["wallet_addresses"] == [bram]
    stranger = Account.create().address
    unknown = {"wallet_addresses": [bram, stranger], "reason": "x"}
    refused(client.post(f"{CHAIN}/unfreeze", headers=admin, json=unknown), 422, "wallet_not_registered")
    bad = {"wallet_addresses": ["0x1234"], "reason": "x"}
    refused(
        client.post(f"{CHAIN}/freeze", headers=admin, json=bad), 422, "address_invalid", "wallet_addresses[0]"
    )
    refused(
        client.post(f"{CHAIN}/freeze", headers=admin, json={"wallet_addresses": [bram]}), 422, "invalid_field"
    )
    assert written(runtime) == before

    thawed = finished(
        client, runtime, admin, accepted(client.post(f"{CHAIN}/unfreeze", headers=admin, json=body))
    )
    assert thawed["status"] == "done"
    assert participant(runtime, bram) == (1, False)
    before = written(runtime)
    refused(client.post(f"{CHAIN}/unfreeze", headers=admin, json=body), 409, "wallet_not_frozen")
    assert written(runtime) == before


# --------------------------------------------------------------------------------------------------
# Recovery
# --------------------------------------------------------------------------------------------------


def let_time_pass(runtime, seconds: int) -> None:
    """The chain's clock moves on (the deployment's recovery delay is an hour in the tests)."""
    web3 = contracts(runtime).web3
    web3.provider.make_request("evm_increaseTime", [seconds])
    web3.provider.make_request("evm_mine", [])


def test_recovery_in_two_steps_moves_registration_every_balance_and_the_residents_record(
    client, runtime, admin, auth, demo
):
    lost, new = Account.create().address, Account.create().address
    resident_id, _ = admit(runtime, "2026-R001", wallet=lost)
    drive(runtime)
    mint(runtime, demo, "GKW", lost, 1500)
    mint(runtime, demo, "ARS", lost, 700)
    drive(runtime)
    custodial_id, custodial = admit(runtime, "2026-R002")
    drive(runtime)
    request = f"{CHAIN}/recovery/request"

    def body(**changes) -> dict:
        return {
            "lost_wallet": lost,
            "new_wallet": new,
            "case_number": "Z-2026-0315",
            "reason": "Gestolen",
            **changes,
        }

    before = written(runtime)
    refused(
        client.post(request, headers=admin, json=body(lost_wallet=custodial)),
        409,
        "wallet_is_custodial",
        "lost_wallet",
    )
    refused(
        client.post(request, headers=admin, json=body(new_wallet=custodial)),
        409,
        "wallet_in_use",
        "new_wallet",
    )
    refused(
        client.post(request, headers=admin, json=body(lost_wallet=new, new_wallet=lost)),
        422,
        "wallet_not_registered",
        "lost_wallet",
    )
    refused(client.post(request, headers=admin, json=body(new_wallet=lost)), 422, "same_wallet", "new_wallet")
    refused(
        client.post(request, headers=admin, json=body(new_wallet="0xnope")),
        422,
        "address_invalid",
        "new_wallet",
    )
    refused(client.post(request, headers=admin, json=body(case_number="")), 422, "invalid_field")
    # The lost wallet is frozen first, so that its key cannot spend during the delay.
    refused(client.post(request, headers=admin, json=body()), 409, "wallet_not_frozen", "lost_wallet")
    assert written(runtime) == before

    freeze = {"wallet_addresses": [lost], "reason": "Telefoon gestolen"}
    assert (
        finished(
            client, runtime, admin, accepted(client.post(f"{CHAIN}/freeze", headers=admin, json=freeze))
        )["status"]
        == "done"
    )
    requested = finished(client, runtime, admin, accepted(client.post(request, headers=admin, json=body())))
    assert requested["status"] == "done" and requested["kind"] == "recovery_request"
    assert requested["request"]["case_number"] == "Z-2026-0315"
    executable_at = requested["result"]["executable_at"]
    pending = contracts(runtime).registry.functions.recoveryRequest(lost).call()
    assert (pending[0], pending[1]) == (new, executable_at)
    # On chain: a keyed hash of the case number, never the number.
    secret = runtime.settings.secret_key.get_secret_value()
    assert "0x" + bytes(pending[2]).hex() == case_reference(secret, "Z-2026-0315")
    with runtime.sessions() as session:
        assert session.get(Resident, resident_id).wallet_address == lost  # nothing moved yet

    before = written(runtime)
    refused(client.post(request, headers=admin, json=body()), 409, "recovery_pending", "lost_wallet")
    execute = f"{CHAIN}/recovery/execute"
    early = refused(
        client.post(execute, headers=admin, json={"lost_wallet": lost, "new_wallet": new}),
        409,
        "recovery_not_due",
    )
    assert early["details"]["executable_at"] == executable_at
    other = Account.create().address
    refused(
        client.post(execute, headers=admin, json={"lost_wallet": lost, "new_wallet": other}),
        409,
        "recovery_other_wallet",
        "new_wallet",
    )
    assert written(runtime) == before

    let_time_pass(runtime, 3601)
    operation = accepted(client.post(execute, headers=admin, json={"lost_wallet": lost, "new_wallet": new}))
    assert finished(client, runtime, admin, operation)["status"] == "done"
    assert [on_chain(runtime, demo, s, lost) for s in ("GKW", "ARS")] == [0, 0]
    assert [on_chain(runtime, demo, s, new) for s in ("GKW", "ARS")] == [1500, 700]
    assert participant(runtime, lost) == (0, False) and participant(runtime, new) == (1, False)
    shown = client.get(f"/municipality/residents/{resident_id}", headers=admin).json()
    assert shown["wallet_address"] == new
    balances = client.get("/residents/me/balances", headers=auth(Role.RESIDENT, resident_id))
    assert {row["symbol"]: row["amount_cents"] for row in balances.json()} == {"GKW": 1500, "ARS": 700}
    assert (
        client.get(f"/municipality/residents/{custodial_id}", headers=admin).json()["wallet_address"]
        == custodial
    )

    # The lost address never comes back, not even as another wallet's new address.
    bram = demo["demo"]["resident_bram"]
    accepted(client.post(f"{CHAIN}/freeze", headers=admin, json={"wallet_addresses": [bram], "reason": "x"}))
    drive(runtime)
    again = body(lost_wallet=bram, new_wallet=lost)
    refused(client.post(request, headers=admin, json=again), 409, "wallet_lost", "new_wallet")


def test_a_cancelled_recovery_cannot_be_executed_and_a_paused_system_waits(client, runtime, admin, demo):
    bram, new = demo["demo"]["resident_bram"], Account.create().address
    request = {"lost_wallet": bram, "new_wallet": new, "case_number": "Z-9", "reason": "Kwijt"}
    cancel = {"lost_wallet": bram, "reason": "Toch teruggevonden"}
    accepted(client.post(f"{CHAIN}/freeze", headers=admin, json={"wallet_addresses": [bram], "reason": "x"}))
    drive(runtime)
    before = written(runtime)
    refused(client.post(f"{CHAIN}/recovery/cancel", headers=admin, json=cancel), 409, "no_recovery_request")
    assert written(runtime) == before
    accepted(client.post(f"{CHAIN}/recovery/request", headers=admin, json=request))
    drive(runtime)

    cancelled = finished(
        client, runtime, admin, accepted(client.post(f"{CHAIN}/recovery/cancel", headers=admin, json=cancel))
    )
    assert cancelled["status"] == "done" and cancelled["kind"] == "recovery_cancel"
    assert contracts(runtime).registry.functions.recoveryRequest(bram).call()[0] == "0x" + "00" * 20
    let_time_pass(runtime, 3601)
    execute = {"lost_wallet": bram, "new_wallet": new}
    refused(client.post(f"{CHAIN}/recovery/execute", headers=admin, json=execute), 409, "no_recovery_request")

    # While paused, neither step is queued.
    accepted(client.post(f"{CHAIN}/pause", headers=admin))
    drive(runtime)
    before = written(runtime)
    refused(client.post(f"{CHAIN}/recovery/request", headers=admin, json=request), 409, "system_paused")
    assert written(runtime) == before
    assert participant(runtime, bram) == (1, True) and participant(runtime, new) == (0, False)


# --------------------------------------------------------------------------------------------------
# A new coin, its expiry, and reclaiming what is left
# --------------------------------------------------------------------------------------------------


def coin_body(**changes) -> dict:
    body = {
        "name": "Socialcoin Arnhem - Vervoer",
        "symbol": "AVV",
        "purpose": "MOBILITY",
        "area": "GM0202",
        "expiry": None,
        "person_to_person": False,
    }
    return {**body, **changes}


def test_a_coin_is_created_listed_and_after_expiry_reclaimed_to_the_minters_allowance(
    client, runtime, admin, demo, chain, monkeypatch
):
    monkeypatch.setattr(operations, "RECLAIM_CHUNK", 1)  # one transaction per holder, to see the chunks
    web3 = contracts(runtime).web3
    expiry = runtime.chain.now() + 300
    before = written(runtime)
    for changes, status, code in (
        ({"purpose": "LOCAL_SPENDING", "area": "WK020201"}, 409, "coin_exists"),
        ({"symbol": "GKW"}, 409, "symbol_in_use"),
        ({"purpose": "TIME_TRAVEL"}, 422, "purpose_unknown"),
        ({"area": "BU02020101"}, 422, "coin_area_invalid"),
        ({"expiry": expiry - 3600}, 422, "expiry_in_past"),
        ({"symbol": "A-B"}, 422, "symbol_invalid"),
    ):
        refused(client.post(f"{CHAIN}/coins", headers=admin, json=coin_body(**changes)), status, code)
    assert written(runtime) == before

    created = finished(
        client,
        runtime,
        admin,
        accepted(client.post(f"{CHAIN}/coins", headers=admin, json=coin_body(expiry=expiry))),
    )
    assert created["status"] == "done"
    coin = created["result"]["coin"]
    listed = {c["symbol"]: c for c in client.get("/public/coins").json()}
    assert listed["AVV"]["address"] == coin and listed["AVV"]["expiry"] == expiry
    assert listed["AVV"]["purpose"] == "MOBILITY" and listed["AVV"]["area"] == "GM0202"

    anna, bram = demo["demo"]["resident_anna"], demo["demo"]["resident_bram"]
    coins = {"coins": {"AVV": coin}}
    mint(runtime, coins, "AVV", anna, 1200)
    mint(runtime, coins, "AVV", bram, 300)
    drive(runtime)
    before = written(runtime)
    reclaim = {"coin": "AVV", "holders": None}
    refused(client.post(f"{CHAIN}/reclaim-expired", headers=admin, json=reclaim), 409, "coin_not_expired")
    refused(
        client.post(f"{CHAIN}/reclaim-expired", headers=admin, json={"coin": "GKW"}),
        409,
        "coin_never_expires",
    )
    refused(
        client.post(f"{CHAIN}/reclaim-expired", headers=admin, json={"coin": "NOPE"}), 422, "coin_unknown"
    )
    answer = client.post(f"{CHAIN}/reclaim-expired", headers=admin, json={"coin": "AVV", "holders": ["0x12"]})
    refused(answer, 422, "address_invalid", "holders[0]")
    assert written(runtime) == before

    web3.provider.make_request("evm_setNextBlockTimestamp", [expiry])  # the chain's clock, moved on
    web3.provider.make_request("evm_mine", [])
    drive(runtime)
    minter = runtime.outbox.signers["minter"].address
    allowance = contracts(runtime).issuer.functions.minterAllowance(minter).call()
    reclaimed = finished(
        client, runtime, admin, accepted(client.post(f"{CHAIN}/reclaim-expired", headers=admin, json=reclaim))
    )
    assert reclaimed["status"] == "done" and len(reclaimed["tx_hashes"]) == 2
    token = contracts(runtime).coin(coin).functions
    assert [token.balanceOf(anna).call(), token.balanceOf(bram).call(), token.totalSupply().call()] == [
        0,
        0,
        0,
    ]
    assert contracts(runtime).issuer.functions.minterAllowance(minter).call() == allowance + 1500
    before = written(runtime)
    refused(client.post(f"{CHAIN}/reclaim-expired", headers=admin, json=reclaim), 409, "nothing_to_reclaim")
    assert written(runtime) == before


# --------------------------------------------------------------------------------------------------
# The minter's allowance
# --------------------------------------------------------------------------------------------------


def test_the_backend_minters_allowance_is_raised_and_lowered_never_set(client, runtime, admin):
    minter = runtime.outbox.signers["minter"].address
    allowance = contracts(runtime).issuer.functions.minterAllowance(minter).call
    start = allowance()
    raised = accepted(
        client.post(f"{CHAIN}/minter-allowance/increase", headers=admin, json={"amount_cents": 1_234_567})
    )
    assert raised["request"] == {
        "kind": "minter_allowance_increase",
        "minter": minter,
        "amount_cents": 1_234_567,
    }
    assert finished(client, runtime, admin, raised)["status"] == "done"
    assert allowance() == start + 1_234_567
    lowered = accepted(
        client.post(f"{CHAIN}/minter-allowance/decrease", headers=admin, json={"amount_cents": 567})
    )
    assert finished(client, runtime, admin, lowered)["status"] == "done"
    assert allowance() == start + 1_234_000

    before = written(runtime)
    for amount in (0, -1):
        answer = client.post(
            f"{CHAIN}/minter-allowance/increase", headers=admin, json={"amount_cents": amount}
        )
        refused(answer, 422, "invalid_field")
    # No absolute setter: it would overwrite what an expiry reclaim credited back meanwhile.
    gone = client.put(f"{CHAIN}/minter-allowance", headers=admin, json={"allowance_cents": 5})
    assert gone.status_code in (404, 405)
    assert written(runtime) == before and allowance() == start + 1_234_000


# --------------------------------------------------------------------------------------------------
# Who may, and with which key
# --------------------------------------------------------------------------------------------------


def test_only_an_admin_may_and_an_unknown_operation_is_not_found(client, runtime, auth, admin):
    before = written(runtime)
    for headers in (auth(Role.DEBT_COUNSELLOR), auth(Role.RESIDENT, 1)):
        refused(client.post(f"{CHAIN}/pause", headers=headers), 403, "role_not_allowed")
    refused(client.post(f"{CHAIN}/pause"), 401, "token_missing")
    assert written(runtime) == before
    refused(client.get(f"{CHAIN}/operations/999", headers=admin), 404, "operation_not_found")
    assert contracts(runtime).registry.functions.paused().call() is False


@pytest.mark.parametrize(
    ("operator_key", "status", "code"),
    [(None, 503, "operator_key_missing"), ("0x" + "5a" * 32, 409, "signer_role_missing")],
    ids=["no operator key", "a key without the roles"],
)
def test_without_the_operator_key_or_its_role_nothing_is_queued(
    runtime, settings, auth, demo, operator_key, status, code
):
    other = bootstrap(settings.model_copy(update={"operator_key": operator_key and SecretStr(operator_key)}))
    try:
        with TestClient(create_app(runtime=other, run_workers=False)) as client:
            admin = auth(Role.ADMIN)
            bram = demo["demo"]["resident_bram"]
            recovery = {
                "lost_wallet": bram,
                "new_wallet": Account.create().address,
                "case_number": "Z",
                "reason": "x",
            }
            before = written(other)
            for method, path, body, script in (
                ("POST", "/pause", None, "scripts/pause.py"),
                ("POST", "/minter-allowance/increase", {"amount_cents": 100}, "scripts/minter_budget.py"),
                ("POST", "/coins", coin_body(), "scripts/create_coin.py"),
                # Freezing is compliance's, on the operator key: never the backend's registrar key.
                ("POST", "/freeze", {"wallet_addresses": [bram], "reason": "Onderzoek"}, "scripts/freeze.py"),
                ("POST", "/recovery/request", recovery, "scripts/recover.py"),
                ("POST", "/recovery/cancel", {"lost_wallet": bram, "reason": "x"}, "scripts/recover.py"),
            ):
                answer = client.request(method, CHAIN + path, headers=admin, json=body)
                problem = refused(answer, status, code)
                assert problem["details"].get("script", script) == script
            assert written(other) == before
            assert participant(other, bram) == (1, False)
    finally:
        other.close()


def test_raises_of_the_allowance_sent_at_once_all_count(runtime, auth):
    """Relative changes compose: requests that arrive together (each under its own key) never overwrite
    one another, as an absolute setter read before another's write would."""
    minter = runtime.outbox.signers["minter"].address
    before = contracts(runtime).issuer.functions.minterAllowance(minter).call()
    admin = auth(Role.ADMIN)
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda client, n: client.post(
                f"{base}{CHAIN}/minter-allowance/increase",
                headers={**admin, **key()},
                json={"amount_cents": 100 + n},
            ),
        )
    assert [answer.status_code for answer in answers] == [202] * PARALLEL
    drive(runtime)
    after = contracts(runtime).issuer.functions.minterAllowance(minter).call()
    assert after == before + sum(100 + n for n in range(PARALLEL))
