"""A coin's redemption grace for merchants and its holding cap per resident, through the service: created
with the coin (checked first), shown with the coin and a resident's balance, refused in Dutch when a mint
would pass the cap; expiry reclaim leaves merchants their grace, and what a merchant still holds after it
becomes a payout the service owes and pays in the next SEPA batch."""

from __future__ import annotations

from sqlalchemy import select

from contracts import contracts
from socialcoin.db.models import OutboxItem, Payout
from socialcoin.domain import payouts
from socialcoin.domain.access import Role
from socialcoin.domain.chain_refusals import explain
from test_operations import CHAIN, accepted, coin_body, finished, written
from test_payments import PIN, admit, drive, key, merchant, mint
from test_payouts import DEBTOR
from test_people_api import refused

DAY = 24 * 3600


def set_clock(runtime, timestamp: int) -> None:
    """The chain's next block at `timestamp`, mined, and the index caught up."""
    web3 = contracts(runtime).web3
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    web3.provider.make_request("evm_mine", [])
    drive(runtime)


def create(client, runtime, admin, **changes) -> str:
    operation = accepted(client.post(f"{CHAIN}/coins", headers={**admin, **key()}, json=coin_body(**changes)))
    done = finished(client, runtime, admin, operation)
    assert done["status"] == "done", done
    return done["result"]["coin"]


def test_a_coin_carries_its_grace_and_cap_and_a_resident_sees_what_may_still_arrive(
    client, runtime, auth, demo, chain
):
    admin = auth(Role.ADMIN)
    expiry = runtime.chain.now() + 3600
    before = written(runtime)
    for changes, code, field in (
        (
            {"expiry": None, "redemption_grace_days": 30},
            "redemption_grace_without_expiry",
            "redemption_grace_days",
        ),
        ({"expiry": expiry, "redemption_grace_days": 400}, "invalid_field", "redemption_grace_days"),
        ({"expiry": expiry, "holding_cap_cents": -1}, "invalid_field", "holding_cap_cents"),
    ):
        refused(client.post(f"{CHAIN}/coins", headers=admin, json=coin_body(**changes)), 422, code, field)
    assert written(runtime) == before

    coin = create(client, runtime, admin, expiry=expiry, redemption_grace_days=2, holding_cap_cents=50_00)
    token = contracts(runtime).coin(coin).functions
    assert (token.redemptionGrace().call(), token.holdingCap().call()) == (2 * DAY, 50_00)
    listed = {c["symbol"]: c for c in client.get("/public/coins").json()}["AVV"]
    assert (listed["redemption_grace_seconds"], listed["holding_cap_cents"]) == (2 * DAY, 50_00)
    assert {c["symbol"]: c for c in client.get("/public/coins").json()}["GKW"]["holding_cap_cents"] is None

    resident_id, wallet = admit(runtime, "2026-C001")
    drive(runtime)
    mint(runtime, {"coins": {"AVV": coin}}, "AVV", wallet, 30_00)
    drive(runtime)
    (balance,) = client.get("/residents/me/balances", headers=auth(Role.RESIDENT, resident_id)).json()
    assert (balance["symbol"], balance["amount_cents"]) == ("AVV", 30_00)
    assert (balance["holding_cap_cents"], balance["may_still_receive_cents"]) == (50_00, 20_00)
    assert (balance["expiry"], balance["redeemable_until"]) == (expiry, expiry + 2 * DAY)

    # One cent more than may arrive: the chain refuses the mint, and the service says why in Dutch.
    mint(runtime, {"coins": {"AVV": coin}}, "AVV", wallet, 20_01)
    drive(runtime)
    assert token.balanceOf(wallet).call() == 30_00
    with runtime.sessions() as session:
        item = session.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first()
    assert (item.status, item.error_code) == ("failed", "CoinTransferRefused")
    nl, en = explain(item.error_code, item.error_detail)
    assert "meer van deze munt" in nl and "more of this coin than a resident may" in en


def test_reclaim_leaves_merchants_their_grace_then_pays_them_out_in_euros(client, runtime, auth, demo, chain):
    admin = auth(Role.ADMIN)
    expiry = runtime.chain.now() + 600
    coin = create(client, runtime, admin, expiry=expiry, redemption_grace_days=1)
    loket_id, loket = merchant(runtime, "OV-loket Arnhem", area="GM0202", purposes=("MOBILITY",))
    resident_id, wallet = admit(runtime, "2026-C002")
    drive(runtime)
    mint(runtime, {"coins": {"AVV": coin}}, "AVV", wallet, 12_00)
    drive(runtime)
    paid = client.post(
        "/residents/me/payments",
        headers={**auth(Role.RESIDENT, resident_id), **key()},
        json={"merchant_id": loket_id, "coin": "AVV", "amount_cents": 8_00, "pin": PIN},
    )
    assert paid.status_code == 202, paid.text
    drive(runtime)
    token = contracts(runtime).coin(coin).functions

    # Expired, within the grace: the resident's coins are reclaimed, the merchant's stay.
    set_clock(runtime, expiry)
    reclaim = {"coin": "AVV", "holders": None}
    done = finished(
        client, runtime, admin, accepted(client.post(f"{CHAIN}/reclaim-expired", headers=admin, json=reclaim))
    )
    assert done["status"] == "done"
    assert (token.balanceOf(wallet).call(), token.balanceOf(loket).call()) == (0, 8_00)
    body = refused(
        client.post(f"{CHAIN}/reclaim-expired", headers=admin, json=reclaim), 409, "merchants_in_grace"
    )
    assert body["details"]["redeemable_until"] == expiry + DAY

    # The merchant redeems part itself, as before expiry.
    loket_headers = auth(Role.MERCHANT, loket_id)
    asked = client.post(
        "/merchants/me/payouts",
        headers={**loket_headers, **key()},
        json={"coin": "AVV", "amount_cents": 3_00, "pin": PIN},
    )
    assert asked.status_code == 202, asked.text
    drive(runtime)

    # After the grace, reclaim turns the rest into a payout the service owes.
    set_clock(runtime, expiry + DAY)
    done = finished(
        client, runtime, admin, accepted(client.post(f"{CHAIN}/reclaim-expired", headers=admin, json=reclaim))
    )
    assert done["status"] == "done"
    assert (token.balanceOf(loket).call(), token.totalSupply().call()) == (0, 0)
    owed = client.get("/merchants/me/payouts", headers=loket_headers).json()
    assert sorted((p["amount_cents"], p["status"]) for p in owed) == [(3_00, "burned"), (5_00, "burned")]
    reference = payouts.expiry_payout_reference(coin, loket)
    assert reference == "0x" + bytes(token.expiryPayoutReference(loket).call()).hex()
    assert [p["chain_reference"] for p in owed if p["amount_cents"] == 5_00] == [reference]

    # Recorded once, however often the events are seen.
    with runtime.sessions() as session:
        rows = [
            {"event": "PayoutRedeemed", "contract": coin, "tx_hash": "0x" + "00" * 32, "args": args}
            for args in [{"merchant": loket, "value": 5_00, "payoutReference": reference}]
        ]
        payouts.record_expiry_payouts(session, rows)
        session.flush()
        assert session.scalar(select(Payout).where(Payout.chain_reference == reference)).amount_cents == 5_00
        assert len(session.scalars(select(Payout).where(Payout.merchant_id == loket_id)).all()) == 2
        session.rollback()

    batch = client.post("/municipality/payout-batches", headers=admin, json=DEBTOR)
    assert batch.status_code == 201, batch.text
    assert (batch.json()["total_cents"], batch.json()["payout_count"]) == (8_00, 2)
