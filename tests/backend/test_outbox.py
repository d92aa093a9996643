"""The outbox: every write recorded first, sent once, confirmed; refusals fail only their item."""

from __future__ import annotations

from eth_utils import keccak
from sqlalchemy import select

from socialcoin.chain.outbox import Outbox
from socialcoin.db.base import transaction
from socialcoin.db.models import Balance, OutboxItem


def admin_mint(coin: str, to: str, amount: int, reason: str) -> dict:
    return {
        "contract": "ActivityIssuer",
        "function": "adminMint",
        "args": [coin, to, amount, "0x" + keccak(text=reason).hex()],
    }


def test_an_enqueued_mint_is_sent_once_and_indexed(runtime, demo):
    coin = demo["coins"]["GKW"]
    anna = demo["demo"]["resident_anna"]
    before = runtime.gateway.coin(coin).functions.balanceOf(anna).call()
    with transaction(runtime.sessions) as session:
        Outbox.enqueue(session, "test:mint:1", "call", "minter", admin_mint(coin, anna, 500, "start"))
        Outbox.enqueue(session, "test:mint:1", "call", "minter", admin_mint(coin, anna, 500, "start"))
    runtime.outbox.run_until_idle()
    runtime.indexer.run_until_caught_up()

    on_chain = runtime.gateway.coin(coin).functions.balanceOf(anna).call()
    assert on_chain == before + 500
    with runtime.sessions() as session:
        items = session.scalars(select(OutboxItem)).all()
        assert [(i.idempotency_key, i.status) for i in items] == [("test:mint:1", "done")]
        assert int(session.get(Balance, (coin, anna)).amount) == on_chain


def test_a_refused_item_fails_with_the_contracts_reason_and_the_rest_of_the_batch_goes_through(runtime, demo):
    coin = demo["coins"]["GKW"]
    anna, outsider = demo["demo"]["resident_anna"], demo["demo"]["resident_dirk"]
    with transaction(runtime.sessions) as session:
        Outbox.enqueue(session, "ok", "call", "minter", admin_mint(coin, anna, 100, "a"))
        Outbox.enqueue(session, "refused", "call", "minter", admin_mint(coin, outsider, 100, "b"))
    runtime.outbox.run_until_idle()
    with runtime.sessions() as session:
        status = {i.idempotency_key: (i.status, i.error_code) for i in session.scalars(select(OutboxItem))}
    assert status == {"ok": ("done", None), "refused": ("failed", "CoinTransferRefused")}
