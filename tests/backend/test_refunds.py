"""A merchant refunds all or part of a resident's payment through the service: signed with the merchant's
PIN (its key kept by the service) and relayed, also with a coin residents may not pay each other with;
never more than was paid, counting refunds on their way, also when asked many times at once; refused
before anything is sent when it cannot be."""

from __future__ import annotations

from collections import Counter

from eth_account import Account
from sqlalchemy import func, select

from contracts import contracts
from serving import at_once, served
from socialcoin.db.enums import Origin
from socialcoin.db.models import OutboxItem, Refund
from socialcoin.domain.access import Role
from test_payments import PIN, drive, key, merchant, on_chain, resident_with_coins, sign_typed_data
from test_people_api import refused

PARALLEL = 8


def paid(client, auth, resident_headers, merchant_id: int, amount: int, reference: str) -> str:
    """The resident pays the merchant; the payment's transaction hash once confirmed."""
    answer = client.post(
        "/residents/me/payments",
        headers={**resident_headers, **key()},
        json={
            "merchant_id": merchant_id,
            "coin": "GKW",
            "amount_cents": amount,
            "reference": reference,
            "pin": PIN,
        },
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def queued_refunds(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.origin == Origin.REFUND)
        )


def test_a_merchant_refunds_part_of_a_payment_and_the_resident_gets_it_back(
    client, runtime, demo, auth, chain
):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-R001", "GKW", 2000)
    payment_id = paid(client, auth, headers, bakery_id, 750, "bon 88")
    drive(runtime)
    tx_hash = client.get(f"/residents/me/payments/{payment_id}", headers=headers).json()["tx_hash"]
    bakery_headers = auth(Role.MERCHANT, bakery_id)
    body = {"payment_tx_hash": tx_hash, "amount_cents": 250, "pin": PIN}

    same = key()
    answer = client.post("/merchants/me/refunds", headers={**bakery_headers, **same}, json=body)
    assert answer.status_code == 202, answer.text
    refund = answer.json()
    assert (refund["status"], refund["amount_cents"], refund["payment_id"]) == ("pending", 250, payment_id)
    again = client.post("/merchants/me/refunds", headers={**bakery_headers, **same}, json=body)
    assert again.json()["id"] == refund["id"]  # the same request under its key: one refund
    drive(runtime)

    (done,) = client.get("/merchants/me/refunds", headers=bakery_headers).json()
    assert done["status"] == "confirmed" and done["tx_hash"].startswith("0x")
    assert (on_chain(runtime, demo, "GKW", wallet), on_chain(runtime, demo, "GKW", bakery)) == (1500, 500)
    coin = contracts(runtime).coin(demo["coins"]["GKW"]).functions
    reference = "0x" + b"bon 88".ljust(32, b"\0").hex()
    assert coin.payment(wallet, bakery, reference).call() == [750, 250]
    history = client.get("/residents/me/history", headers=headers).json()
    assert (history[0]["kind"], history[0]["amount_cents"], history[0]["description_nl"]) == (
        "refund",
        250,
        "Terugbetaald door Bakkerij De Geit",
    )
    merchant_history = client.get("/merchants/me/history", headers=bakery_headers).json()
    assert (merchant_history[0]["kind"], merchant_history[0]["amount_cents"]) == ("refund", -250)

    # More than is left, someone else's payment, no such payment, a wrong PIN: refused, nothing queued.
    before = queued_refunds(runtime)
    body = refused(
        client.post(
            "/merchants/me/refunds", headers={**bakery_headers, **key()}, json={**body, "amount_cents": 501}
        ),
        409,
        "refund_exceeds_payment",
        "amount_cents",
    )
    assert body["details"]["refundable_cents"] == 500
    other_id, _ = merchant(runtime, "Slager Geitenkamp", account="0417164301")
    refused(
        client.post(
            "/merchants/me/refunds",
            headers={**auth(Role.MERCHANT, other_id), **key()},
            json={"payment_tx_hash": tx_hash, "amount_cents": 100, "pin": PIN},
        ),
        404,
        "payment_not_found",
        "payment_tx_hash",
    )
    refused(
        client.post(
            "/merchants/me/refunds",
            headers={**bakery_headers, **key()},
            json={"payment_tx_hash": "0x" + "12" * 32, "amount_cents": 100, "pin": PIN},
        ),
        404,
        "payment_not_found",
    )
    refused(
        client.post(
            "/merchants/me/refunds",
            headers={**bakery_headers, **key()},
            json={"payment_tx_hash": tx_hash, "amount_cents": 100, "pin": "99999"},
        ),
        403,
        "pin_wrong",
    )
    assert queued_refunds(runtime) == before

    # The rest, to the cent.
    rest = client.post(
        "/merchants/me/refunds",
        headers={**bakery_headers, **key()},
        json={"payment_tx_hash": tx_hash, "amount_cents": 500, "pin": PIN},
    )
    assert rest.status_code == 202, rest.text
    drive(runtime)
    assert coin.payment(wallet, bakery, reference).call() == [750, 750]
    assert on_chain(runtime, demo, "GKW", wallet) == 2000


def test_refunds_asked_at_once_never_exceed_the_payment(client, runtime, demo, auth, chain):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-R002", "GKW", 1000)
    payment_id = paid(client, auth, headers, bakery_id, 250, "bon 89")
    drive(runtime)
    tx_hash = client.get(f"/residents/me/payments/{payment_id}", headers=headers).json()["tx_hash"]
    bakery_headers = auth(Role.MERCHANT, bakery_id)
    with served(runtime) as base:
        answers = at_once(
            PARALLEL,
            lambda http, _: http.post(
                f"{base}/merchants/me/refunds",
                headers={**bakery_headers, **key()},
                json={"payment_tx_hash": tx_hash, "amount_cents": 100, "pin": PIN},
            ),
        )
    assert Counter(a.status_code for a in answers) == {202: 2, 409: PARALLEL - 2}, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"refund_exceeds_payment"}
    drive(runtime)
    with runtime.sessions() as session:
        assert session.scalar(select(func.sum(Refund.amount_cents))) == 200
    assert (on_chain(runtime, demo, "GKW", wallet), on_chain(runtime, demo, "GKW", bakery)) == (950, 50)


def test_a_merchant_with_an_own_wallet_signs_the_refund(client, runtime, demo, auth, chain):
    own = Account.create()
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit", wallet=own.address)
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-R003", "GKW", 1000)
    payment_id = paid(client, auth, headers, bakery_id, 400, "bon 90")
    drive(runtime)
    tx_hash = client.get(f"/residents/me/payments/{payment_id}", headers=headers).json()["tx_hash"]
    same = {**auth(Role.MERCHANT, bakery_id), **key()}
    typed = client.get(
        "/merchants/me/refunds/typed-data",
        headers=same,
        params={"payment_tx_hash": tx_hash, "amount_cents": 150},
    ).json()
    assert typed["typed_data"]["primaryType"] == "RefundWithAuthorization"
    assert (typed["typed_data"]["message"]["from"], typed["typed_data"]["message"]["to"]) == (bakery, wallet)
    authorization = {
        "valid_after": typed["valid_after"],
        "valid_before": typed["valid_before"],
        "nonce": typed["nonce"],
        "signature": sign_typed_data(own.key, typed["typed_data"]),
    }
    tampered = client.post(
        "/merchants/me/refunds",
        headers=same,
        json={"payment_tx_hash": tx_hash, "amount_cents": 151, "authorization": authorization},
    )
    refused(tampered, 422, "signature_invalid")
    answer = client.post(
        "/merchants/me/refunds",
        headers={**auth(Role.MERCHANT, bakery_id), **key()},
        json={"payment_tx_hash": tx_hash, "amount_cents": 150, "authorization": authorization},
    )
    assert answer.status_code == 202, answer.text
    drive(runtime)
    assert client.get("/merchants/me/refunds", headers=same).json()[0]["status"] == "confirmed"
    assert (on_chain(runtime, demo, "GKW", wallet), on_chain(runtime, demo, "GKW", bakery)) == (750, 250)
