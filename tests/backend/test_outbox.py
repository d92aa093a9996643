"""The outbox: every write recorded first, sent once, confirmed; refusals fail only their item."""

from __future__ import annotations

from eth_account import Account
from sqlalchemy import select

from contracts import contracts
from queueing import admin_mint, queue, queue_attested
from socialcoin.db.base import transaction
from socialcoin.db.models import Balance, OutboxItem
from test_crash_recovery import sign_claims


def test_an_enqueued_mint_is_sent_once_and_indexed(runtime, demo):
    coin = demo["coins"]["GKW"]
    anna = demo["demo"]["resident_anna"]
    before = contracts(runtime).coin(coin).functions.balanceOf(anna).call()
    with transaction(runtime.sessions) as session:
        queue(session, "test:mint:1", admin_mint(coin, anna, 500, "start"))
        queue(session, "test:mint:1", admin_mint(coin, anna, 500, "start"))
    runtime.outbox.run_until_idle()
    runtime.indexer.run_until_caught_up()

    on_chain = contracts(runtime).coin(coin).functions.balanceOf(anna).call()
    assert on_chain == before + 500
    with runtime.sessions() as session:
        items = session.scalars(select(OutboxItem)).all()
        assert [(i.idempotency_key, i.status) for i in items] == [("test:mint:1", "done")]
        assert int(session.get(Balance, (coin, anna)).amount) == on_chain


def test_a_refused_item_fails_with_the_contracts_reason_and_the_rest_of_the_batch_goes_through(runtime, demo):
    coin = demo["coins"]["GKW"]
    anna, outsider = demo["demo"]["resident_anna"], demo["demo"]["resident_dirk"]
    with transaction(runtime.sessions) as session:
        queue(session, "ok", admin_mint(coin, anna, 100, "a"))
        queue(session, "refused", admin_mint(coin, outsider, 100, "b"))
    runtime.outbox.run_until_idle()
    with runtime.sessions() as session:
        status = {i.idempotency_key: (i.status, i.error_code) for i in session.scalars(select(OutboxItem))}
    assert status == {"ok": ("done", None), "refused": ("failed", "CoinTransferRefused")}


def test_a_batch_refusal_that_names_no_item_is_narrowed_down_and_the_rest_mints(runtime, demo):
    """IssuerVerifierNotAuthorized names the verifier, not the claim: the outbox simulates halves of the
    batch until the one refused claim is alone, and the other claims of the batch mint."""
    good = sign_claims(demo, 6, "bisect")
    stranger = Account.create()
    _key, forged = sign_claims(demo, 1, "bisect-stranger", signer=stranger)[0]
    claims = [*good[:3], ("bisect:stranger", forged), *good[3:]]
    with transaction(runtime.sessions) as session:
        queue_attested(session, claims)
    runtime.outbox.run_until_idle()
    with runtime.sessions() as session:
        status = {i.idempotency_key: (i.status, i.error_code) for i in session.scalars(select(OutboxItem))}
    assert status.pop("bisect:stranger") == ("failed", "IssuerVerifierNotAuthorized")
    assert set(status.values()) == {("done", None)} and len(status) == 6


def test_a_batch_beyond_the_minters_allowance_mints_what_fits(runtime, demo):
    """IssuerAllowanceExceeded names no claim either: the halves that fit the allowance mint."""
    claims = sign_claims(demo, 8, "allowance")
    amounts = sorted(int(payload["attestation"]["amount"]) for _key, payload in claims)
    issuer = contracts(runtime).issuer
    minter = runtime.keys["minter"]
    contracts(runtime).set_minter_allowance(minter, sum(amounts) - 1, demo["demo"]["admin"])
    with transaction(runtime.sessions) as session:
        queue_attested(session, claims)
    runtime.outbox.run_until_idle()
    with runtime.sessions() as session:
        items = session.scalars(select(OutboxItem)).all()
    done = [i for i in items if i.status == "done"]
    failed = [i for i in items if i.status == "failed"]
    assert len(done) + len(failed) == 8 and failed and done
    assert {i.error_code for i in failed} == {"IssuerAllowanceExceeded"}
    minted = sum(int(i.payload["attestation"]["amount"]) for i in done)
    assert minted <= sum(amounts) - 1
    assert issuer.functions.minterAllowance(minter).call() == sum(amounts) - 1 - minted


def test_a_batch_is_checked_after_the_ones_sent_before_it_even_before_they_are_mined(runtime, demo):
    """The outbox sends batch after batch without waiting for blocks: each is simulated on the pending
    state, with the ones sent before it. With the node mining nothing meanwhile (automine off: the moment a
    busy node takes anyway, made certain), the half of a batch that no longer fits the allowance fails with
    the issuer's reason at once, rather than being sent and reverting on chain."""
    claims = sign_claims(demo, 8, "pending-state")
    amounts = sorted(int(payload["attestation"]["amount"]) for _key, payload in claims)
    minter = runtime.keys["minter"]
    contracts(runtime).set_minter_allowance(minter, sum(amounts) - 1, demo["demo"]["admin"])
    with transaction(runtime.sessions) as session:
        queue_attested(session, claims)
    web3 = contracts(runtime).web3
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        runtime.outbox.submit()
        with runtime.sessions() as session:
            failed = {i.error_code for i in session.scalars(select(OutboxItem)) if i.status == "failed"}
        assert failed == {"IssuerAllowanceExceeded"}
    finally:
        web3.provider.make_request("evm_setAutomine", [True])
        web3.provider.make_request("evm_mine", [])
    runtime.outbox.run_until_idle()
    with runtime.sessions() as session:
        items = session.scalars(select(OutboxItem)).all()
    assert {i.status for i in items} == {"done", "failed"}
    assert {i.error_code for i in items if i.status == "failed"} == {"IssuerAllowanceExceeded"}
