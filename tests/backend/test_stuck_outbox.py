"""An outbox that never gets stuck silently. The service's keys hold no ether (as on the production chain,
where gas is free); when the chain starts asking a fee, the node refuses their transactions. The outbox
signs again with the node's fees a bounded number of times, with a warning naming the items, then calls the
transaction stuck: visible in /public/status and to the municipality, and no later transaction of that key
is signed (no nonce gap). Once the fee is back at zero, a retry confirms it; a cancel fills the nonce with a
no-op instead, so that the later ones flow."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from contracts import contracts
from socialcoin.api.app import create_app
from socialcoin.bootstrap import bootstrap
from socialcoin.db.enums import Origin, TxStatus
from socialcoin.db.models import ChainTx, OutboxItem
from socialcoin.domain.access import Role
from test_payments import PIN, drive, key, merchant, on_chain, resident_with_coins
from test_staff_actions import logged, signed_in_page, token

MAX_SEND_FAILURES = 3
GWEI = 10**9


@pytest.fixture
def stuck_runtime(settings, runtime):
    """The suite's runtime with a short patience: stuck after 3 refusals."""
    runtime.outbox.policy = type(runtime.outbox.policy)(
        max_send_failures=MAX_SEND_FAILURES, stuck_after_seconds=300, retry_seconds=0
    )
    return runtime


@pytest.fixture(autouse=True)
def free_gas_again(chain):
    """A base fee set here outlives the chain's snapshot revert: back to the free-gas chain after a test."""
    yield
    set_fee(chain, 0)


def set_fee(chain, base_fee: int) -> None:
    """The chain's base fee from the next block on (a block is mined so that it is the newest's)."""
    chain.rpc("anvil_setNextBlockBaseFeePerGas", [hex(base_fee)])
    chain.mine(1)


def relayer_without_ether(chain, runtime) -> None:
    chain.rpc("anvil_setBalance", [runtime.keys["relayer"], "0x0"])


def pay(client, headers, merchant_id: int, amount: int):
    answer = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": merchant_id, "coin": "GKW", "amount_cents": amount, "pin": PIN},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def rounds(runtime, count: int) -> None:
    for _ in range(count):
        runtime.outbox.run_once()


def tx_of(runtime, payment_id: int) -> ChainTx | None:
    with runtime.sessions() as session:
        item = session.scalar(
            select(OutboxItem).where(OutboxItem.origin == Origin.PAYMENT, OutboxItem.subject_id == payment_id)
        )
        return None if item is None or item.tx_id is None else session.get(ChainTx, item.tx_id)


def payment_status(client, headers, payment: dict) -> str:
    return client.get(f"/residents/me/payments/{payment['id']}", headers=headers).json()["status"]


@pytest.fixture
def stuck_payment(stuck_runtime, chain, demo, auth, client, caplog):
    """A payment whose transaction the node refused until it is stuck, and a second one waiting behind it."""
    runtime = stuck_runtime
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-S001", "GKW", 1000)
    relayer_without_ether(chain, runtime)
    set_fee(chain, 10 * GWEI)
    first = pay(client, headers, bakery_id, 300)
    second = pay(client, headers, bakery_id, 200)
    with caplog.at_level(logging.WARNING, logger="socialcoin.chain.outbox"):
        rounds(runtime, MAX_SEND_FAILURES + 2)
    return runtime, headers, first, second, bakery, wallet, caplog


def test_a_transaction_the_node_keeps_refusing_becomes_stuck_visibly_and_nothing_is_signed_behind_it(
    stuck_payment, client, auth, demo
):
    runtime, headers, first, second, bakery, wallet, caplog = stuck_payment
    tx = tx_of(runtime, first["id"])
    assert tx is not None and tx.status == TxStatus.STUCK and tx.send_failures == MAX_SEND_FAILURES
    assert "insufficient funds" in (tx.last_error or "").lower()
    assert tx_of(runtime, second["id"]) is None  # waits unsigned: no nonce gap behind the stuck one
    logged = caplog.get_records("setup")  # the rounds ran in the fixture
    refusals = [r for r in logged if "refused transaction" in r.getMessage()]
    assert len(refusals) == MAX_SEND_FAILURES and all(r.levelno == logging.WARNING for r in refusals)
    with runtime.sessions() as session:
        item_id = session.scalar(select(OutboxItem.id).where(OutboxItem.tx_id == tx.id))
    assert all(f"items [{item_id}]" in r.getMessage() for r in refusals)  # each warning names its item
    assert any("is stuck" in r.getMessage() and r.levelno == logging.ERROR for r in logged)

    status = client.get("/public/status").json()
    assert (status["stuck_transactions"], status["stuck_writes"], status["pending_writes"]) == (1, 1, 2)
    listed = client.get("/municipality/outbox/stuck", headers=auth(Role.ADMIN)).json()
    assert [(t["id"], t["status"], [i["origin"] for i in t["items"]]) for t in listed] == [
        (tx.id, "stuck", ["payment"])
    ]
    assert payment_status(client, headers, first) == "pending"
    assert on_chain(runtime, demo, "GKW", wallet) == 1000


def test_a_stuck_transaction_retried_after_the_fee_is_fixed_confirms_and_the_next_one_follows(
    stuck_payment, chain, client, auth, demo
):
    runtime, headers, first, second, bakery, wallet, _ = stuck_payment
    tx = tx_of(runtime, first["id"])
    admin = auth(Role.ADMIN)
    set_fee(chain, 0)
    retried = client.post(f"/municipality/outbox/transactions/{tx.id}/retry", headers=admin)
    assert retried.status_code == 202 and retried.json()["status"] == "signed"
    again = client.post(f"/municipality/outbox/transactions/{tx.id}/retry", headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "transaction_not_stuck"
    drive(runtime)
    assert payment_status(client, headers, first) == "confirmed"
    assert payment_status(client, headers, second) == "confirmed"
    assert on_chain(runtime, demo, "GKW", bakery) == 500
    retried_tx = tx_of(runtime, first["id"])
    assert retried_tx.nonce == tx.nonce and len(retried_tx.earlier_hashes) >= 1  # the same nonce, signed anew
    assert client.get("/public/status").json()["stuck_transactions"] == 0


def test_a_stuck_transaction_cancelled_fills_its_nonce_with_a_no_op_and_the_next_one_flows(
    stuck_payment, chain, client, auth, demo
):
    runtime, headers, first, second, bakery, wallet, _ = stuck_payment
    tx = tx_of(runtime, first["id"])
    set_fee(chain, 0)
    cancelled = client.post(f"/municipality/outbox/transactions/{tx.id}/cancel", headers=auth(Role.ADMIN))
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelling"
    drive(runtime)
    assert payment_status(client, headers, first) == "failed"
    shown = client.get(f"/residents/me/payments/{first['id']}", headers=headers).json()
    assert shown["error_code"] == "Cancelled"
    assert payment_status(client, headers, second) == "confirmed"
    assert (on_chain(runtime, demo, "GKW", bakery), on_chain(runtime, demo, "GKW", wallet)) == (200, 800)
    no_op = tx_of(runtime, first["id"])
    assert no_op.status == TxStatus.CANCELLED and no_op.nonce == tx.nonce
    receipt = contracts(runtime).web3.eth.get_transaction(no_op.tx_hash)
    assert receipt["to"] == receipt["from"] and receipt["value"] == 0 and bytes(receipt["input"]) == b""
    notices = client.get("/residents/me/notifications", headers=headers).json()
    assert [n["kind"] for n in notices].count("payment_failed") == 1


def test_only_a_stuck_transaction_can_be_retried_or_cancelled(runtime, client, auth):
    admin = auth(Role.ADMIN)
    for action in ("retry", "cancel"):
        missing = client.post(f"/municipality/outbox/transactions/999/{action}", headers=admin)
        assert missing.status_code == 404 and missing.json()["code"] == "transaction_not_found"
        resident = client.post(
            f"/municipality/outbox/transactions/1/{action}", headers=auth(Role.DEBT_COUNSELLOR)
        )
        assert resident.status_code == 403
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ChainTx)) == 0


def test_fees_come_from_the_node_and_a_key_with_ether_pays_them(runtime, chain, demo, auth, client):
    """When the chain asks a fee and the key can pay it, the payment simply goes through: nothing is
    hard-coded to zero."""
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-S002", "GKW", 1000)
    set_fee(chain, 2 * GWEI)
    paid = pay(client, headers, bakery_id, 100)
    drive(runtime)
    assert payment_status(client, headers, paid) == "confirmed"
    sent = contracts(runtime).web3.eth.get_transaction(tx_of(runtime, paid["id"]).tx_hash)
    assert sent["maxFeePerGas"] >= 2 * GWEI


def test_a_worker_started_by_the_bootstrap_uses_the_outbox_policy_from_the_settings(settings):
    runtime = bootstrap(
        settings.model_copy(update={"outbox_max_send_failures": 7, "outbox_stuck_after_seconds": 42})
    )
    try:
        assert (runtime.outbox.policy.max_send_failures, runtime.outbox.policy.stuck_after_seconds) == (7, 42)
        with TestClient(create_app(runtime=runtime, run_workers=False)) as client:
            assert client.get("/public/status").json()["stuck_transactions"] == 0
    finally:
        runtime.close()


# --------------------------------------------------------------------------------------------------
# The same, from the municipality portal's dashboard
# --------------------------------------------------------------------------------------------------


def stuck_rows(page: str) -> list[str]:
    return re.findall(r'action="/gemeente/uitgaand/(\d+)/(opnieuw|annuleren)"', page)


def test_the_dashboard_shows_a_stuck_transaction_and_retries_it_from_the_page(stuck_payment, chain, client):
    runtime, headers, first, second, *_ = stuck_payment
    tx = tx_of(runtime, first["id"])
    csrf = signed_in_page(client, token(runtime, Role.ADMIN, "A. Admin"))
    dashboard = client.get("/gemeente")
    assert dashboard.status_code == 200
    assert stuck_rows(dashboard.text) == [(str(tx.id), "opnieuw"), (str(tx.id), "annuleren")]
    assert "insufficient funds" in dashboard.text.lower()  # the last error, as the node gave it
    set_fee(chain, 0)
    answer = client.post(f"/gemeente/uitgaand/{tx.id}/opnieuw", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/gemeente?gedaan=retry#stuck"
    again = client.post(f"/gemeente/uitgaand/{tx.id}/opnieuw", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 409 and f"Transactie {tx.id} zit niet vast" in again.text
    drive(runtime)
    assert payment_status(client, headers, first) == "confirmed"
    assert payment_status(client, headers, second) == "confirmed"
    assert stuck_rows(client.get("/gemeente").text) == []
    assert [(a.route, a.status) for a in logged(runtime)] == [
        ("retry_stuck_transaction", 303),
        ("retry_stuck_transaction", 409),
    ]


def test_a_stuck_transaction_cancelled_from_the_page_ends_its_payment_and_the_next_one_flows(
    stuck_payment, chain, client
):
    runtime, headers, first, second, *_ = stuck_payment
    tx = tx_of(runtime, first["id"])
    csrf = signed_in_page(client, token(runtime, Role.ADMIN, "A. Admin"))
    set_fee(chain, 0)
    answer = client.post(f"/gemeente/uitgaand/{tx.id}/annuleren", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    drive(runtime)
    assert payment_status(client, headers, first) == "failed"
    assert payment_status(client, headers, second) == "confirmed"
