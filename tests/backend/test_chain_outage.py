"""When the node is gone (stopped) or hangs (SIGSTOP: it accepts connections and never answers), requests that
need the chain get 503 chain_unavailable within a few seconds, before any PIN attempt is counted; everything
else keeps working (no database lock is held while waiting on the node); /public/status answers within a
second and says so; and once the node is back nothing is lost.

The node here is one of the test's own (restart_node), so that stopping it leaves the suite's alone. Times
are bounds on what the service promises (a request waits at most the chain timeout, 3 s), measured with a
generous margin: they never depend on how fast the machine is."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import create_engine, select

from contracts import contracts
from serving import served
from socialcoin.bootstrap import bootstrap
from socialcoin.chain.errors import ChainUnavailable
from socialcoin.db.base import Base
from socialcoin.db.enums import Origin
from socialcoin.db.migrate import stamp_head
from socialcoin.db.models import OutboxItem, PinAttempts
from socialcoin.domain.access import Role
from socialcoin.settings import Settings
from test_chain_restart_and_reorg import wait_until
from test_payments import PIN, admit, drive, key, merchant, mint

# The service promises an answer within the chain timeout (3 s); the bound is 5 s.
CHAIN_BOUND_SECONDS = 5.0
STATUS_BOUND_SECONDS = 1.0


@pytest.fixture
def outage_runtime(restart_node, database_url, tmp_path):
    settings = Settings(
        environment="test",
        database_url=database_url,
        rpc_url=restart_node.url,
        deployment_file=restart_node.deployment_file,
        evidence_dir=tmp_path / "evidence",
        outbox_retry_seconds=0,
        worker_chain_timeout_seconds=3,  # the outbox's wait for a hung node, shortened for the test
    )
    engine = create_engine(settings.database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    stamp_head(settings.database_url)
    runtime = bootstrap(settings)
    runtime.indexer.run_until_caught_up()
    yield runtime
    runtime.close()


def timed(request) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = request()
    return answer, time.monotonic() - started


def pin_failures(runtime, resident_id: int) -> int:
    with runtime.sessions() as session:
        counted = session.get(PinAttempts, (f"resident:{resident_id}", "session"))
        return counted.failures if counted else 0


@pytest.mark.parametrize("outage", ["stopped", "hung"])
def test_a_chain_outage_refuses_only_what_needs_the_chain_quickly_and_loses_nothing(
    outage, restart_node, outage_runtime, auth, demo, tmp_path
):
    runtime = outage_runtime
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet = admit(runtime, "2026-O001")
    drive(runtime)
    mint(runtime, demo, "GKW", wallet, 1000)
    drive(runtime)
    resident, counsellor = auth(Role.RESIDENT, resident_id), auth(Role.DEBT_COUNSELLOR)
    payment = {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 300, "pin": PIN}
    state = restart_node.dump_state(tmp_path / "before-outage.json")
    with served(runtime) as base, httpx.Client(base_url=base, timeout=60) as client:
        if outage == "stopped":
            restart_node.stop()
        else:
            restart_node.hang()

        refused, took = timed(
            lambda: client.post("/residents/me/payments", headers={**resident, **key()}, json=payment)
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "chain_unavailable" and refused.headers["Retry-After"]
        assert took < CHAIN_BOUND_SECONDS
        wrong_pin = {**payment, "pin": "97531"}
        again, took = timed(
            lambda: client.post("/residents/me/payments", headers={**resident, **key()}, json=wrong_pin)
        )
        assert again.status_code == 503 and took < CHAIN_BOUND_SECONDS
        assert pin_failures(runtime, resident_id) == 0  # the PIN was never tried

        # What does not need the chain keeps working, at once: reads, a debt, a login, the status.
        balances, took = timed(lambda: client.get("/residents/me/balances", headers=resident))
        assert balances.status_code == 200 and took < CHAIN_BOUND_SECONDS
        assert [(b["symbol"], b["amount_cents"]) for b in balances.json()] == [("GKW", 1000)]
        debt, took = timed(
            lambda: client.post(
                "/municipality/debts",
                headers=counsellor,
                json={
                    "resident_id": resident_id,
                    "creditor": "CJIB",
                    "creditor_reference": "O-1",
                    "amount_cents": 500,
                },
            )
        )
        assert debt.status_code == 201 and took < CHAIN_BOUND_SECONDS
        login, took = timed(lambda: client.post("/auth/login", json={"case_number": "2026-O001", "pin": PIN}))
        assert login.status_code == 200 and took < CHAIN_BOUND_SECONDS
        status, took = timed(lambda: client.get("/public/status"))
        assert status.status_code == 200 and took < STATUS_BOUND_SECONDS
        assert status.json()["chain_available"] is False and status.json()["chain_head"] is None

        if outage == "stopped":
            restart_node.start(load_state=state)
        else:
            restart_node.resume()
        # The service asks the node again by itself a moment later.
        wait_until(lambda: client.get("/public/status").json()["chain_available"], message="chain back")

        paid = client.post("/residents/me/payments", headers={**resident, **key()}, json=payment)
        assert paid.status_code == 202, paid.text
        drive(runtime)
        shown = client.get(f"/residents/me/payments/{paid.json()['id']}", headers=resident).json()
        assert shown["status"] == "confirmed"
        assert client.get("/public/status").json()["chain_available"] is True


def test_the_outbox_waits_for_a_chain_that_does_not_answer_and_sends_once_it_does(
    restart_node, outage_runtime, auth, demo
):
    """A payment accepted just before the node stops is sent once the node is back, once."""
    runtime = outage_runtime
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet = admit(runtime, "2026-O002")
    drive(runtime)
    mint(runtime, demo, "GKW", wallet, 1000)
    drive(runtime)
    resident = auth(Role.RESIDENT, resident_id)
    with served(runtime) as base, httpx.Client(base_url=base, timeout=60) as client:
        paid = client.post(
            "/residents/me/payments",
            headers={**resident, **key()},
            json={"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 400, "pin": PIN},
        )
        assert paid.status_code == 202
        restart_node.hang()
        with pytest.raises(ChainUnavailable):  # the worker's loop logs this once and tries again later
            runtime.outbox.run_once()
        with runtime.sessions() as session:  # nothing was given up on
            assert (
                session.scalar(select(OutboxItem.status).where(OutboxItem.origin == Origin.PAYMENT))
                == "pending"
            )
        restart_node.resume()
        wait_until(lambda: succeeds(runtime.outbox.run_once), message="the outbox reaches the node again")
        drive(runtime)
        shown = client.get(f"/residents/me/payments/{paid.json()['id']}", headers=resident).json()
        assert shown["status"] == "confirmed"
    assert contracts(runtime).coin(demo["coins"]["GKW"]).functions.balanceOf(bakery).call() == 400


def succeeds(step) -> bool:
    try:
        step()
    except ChainUnavailable:
        return False
    return True
