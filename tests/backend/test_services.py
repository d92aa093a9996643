"""Municipal services paid with coins: the municipality sets price and accepted purposes; a resident
pays with a coin of such a purpose (a relayed burn against the order's reference)."""

from __future__ import annotations

from eth_account import Account
from sqlalchemy import select

from socialcoin.db.models import ChainEvent
from socialcoin.domain.access import Role
from test_payments import PIN, drive, key, on_chain, resident_with_coins, sign_typed_data

SPORT_PASS = {
    "name": "Sportpas 2026",
    "description": "Een jaar sporten bij de clubs in Arnhem.",
    "price_cents": 1500,
    "purposes": ["SPORT_CULTURE", "MUNICIPAL_SERVICES"],
}


def offer(client, auth, **changes) -> dict:
    answer = client.post("/municipality/services", headers=auth(Role.ADMIN), json={**SPORT_PASS, **changes})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_resident_pays_the_sport_pass_with_sport_coins(client, runtime, demo, auth):
    service = offer(client, auth)
    assert service["purposes"] == ["MUNICIPAL_SERVICES", "SPORT_CULTURE"]
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-S001", "ASC", 2000)
    assert [s["name"] for s in client.get("/residents/me/services", headers=headers).json()] == [
        "Sportpas 2026"
    ]

    answer = client.post(
        "/residents/me/orders",
        headers={**headers, **key()},
        json={"service_id": service["id"], "coin": "ASC", "pin": PIN},
    )
    assert answer.status_code == 202, answer.text
    order = answer.json()
    assert (order["status"], order["amount_cents"], order["service_name"]) == (
        "pending",
        1500,
        "Sportpas 2026",
    )
    drive(runtime)

    paid = client.get(f"/residents/me/orders/{order['id']}", headers=headers).json()
    assert paid["status"] == "paid" and paid["paid_at"] and paid["tx_hash"]
    assert on_chain(runtime, demo, "ASC", wallet) == 500
    balances = client.get("/residents/me/balances", headers=headers).json()
    assert [(b["symbol"], b["amount_cents"]) for b in balances] == [("ASC", 500)]
    with runtime.sessions() as session:
        event = session.scalar(
            select(ChainEvent).where(
                ChainEvent.event == "ServiceRedeemed", ChainEvent.tx_hash == paid["tx_hash"]
            )
        )
    assert (event.args["serviceReference"], int(event.args["value"]), event.args["resident"]) == (
        order["chain_reference"],
        1500,
        wallet,
    )
    history = client.get("/residents/me/history", headers=headers).json()
    assert (history[0]["kind"], history[0]["description_nl"]) == ("service", "Betaald: Sportpas 2026")
    listed = client.get("/municipality/orders", headers=auth(Role.ADMIN), params={"status": "paid"}).json()
    assert [(o["id"], o["resident_id"]) for o in listed] == [(order["id"], resident_id)]


def test_a_coin_of_another_purpose_does_not_pay_a_service(client, runtime, demo, auth):
    service = offer(client, auth)
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-S002", "GKW", 2000)
    answer = client.post(
        "/residents/me/orders",
        headers={**headers, **key()},
        json={"service_id": service["id"], "coin": "GKW", "pin": PIN},
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "coin_not_accepted_for_service"
    assert answer.json()["detail"] == (
        "'Sportpas 2026' kunt u niet met GKW betalen. Dat kan met munten voor "
        "diensten van de gemeente of sport en cultuur."
    )
    assert on_chain(runtime, demo, "GKW", wallet) == 2000
    assert client.get("/residents/me/orders", headers=headers).json() == []


def test_too_few_coins_and_a_wrong_pin_are_refused(client, runtime, demo, auth):
    service = offer(client, auth)
    _, _, headers = resident_with_coins(runtime, demo, auth, "2026-S003", "ASC", 1000)
    poor = client.post(
        "/residents/me/orders",
        headers={**headers, **key()},
        json={"service_id": service["id"], "coin": "ASC", "pin": PIN},
    )
    assert poor.status_code == 400 and poor.json()["code"] == "insufficient_balance"
    assert "U heeft € 10,00, en er is € 15,00 nodig" in poor.json()["detail"]
    client.patch(
        f"/municipality/services/{service['id']}", headers=auth(Role.ADMIN), json={"price_cents": 800}
    )
    wrong = client.post(
        "/residents/me/orders",
        headers={**headers, **key()},
        json={"service_id": service["id"], "coin": "ASC", "pin": "86420"},
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "pin_wrong"
    client.patch(f"/municipality/services/{service['id']}", headers=auth(Role.ADMIN), json={"active": False})
    gone = client.post(
        "/residents/me/orders",
        headers={**headers, **key()},
        json={"service_id": service["id"], "coin": "ASC", "pin": PIN},
    )
    assert gone.status_code == 404 and gone.json()["code"] == "service_not_found"
    assert client.get("/residents/me/services", headers=headers).json() == []
    assert client.get("/residents/me/orders", headers=headers).json() == []


def test_the_same_order_sent_twice_pays_once(client, runtime, demo, auth):
    service = offer(client, auth)
    _, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-S004", "ASC", 5000)
    same = {**headers, **key()}
    first = client.post(
        "/residents/me/orders", headers=same, json={"service_id": service["id"], "coin": "ASC", "pin": PIN}
    ).json()
    second = client.post(
        "/residents/me/orders", headers=same, json={"service_id": service["id"], "coin": "ASC", "pin": PIN}
    ).json()
    drive(runtime)
    assert first["id"] == second["id"]
    assert on_chain(runtime, demo, "ASC", wallet) == 3500
    assert len(client.get("/residents/me/orders", headers=headers).json()) == 1


def test_an_own_wallet_signs_an_order(client, runtime, demo, auth):
    service = offer(client, auth)
    own = Account.create()
    _, wallet, headers = resident_with_coins(
        runtime, demo, auth, "2026-S005", "ASC", 2000, wallet=own.address
    )
    same = {**headers, **key()}
    typed = client.get(
        "/residents/me/orders/typed-data", headers=same, params={"service_id": service["id"], "coin": "ASC"}
    ).json()
    assert typed["typed_data"]["message"]["reason"] == 1 and typed["typed_data"]["message"]["value"] == 1500
    answer = client.post(
        "/residents/me/orders",
        headers=same,
        json={
            "service_id": service["id"],
            "coin": "ASC",
            "authorization": {
                "valid_after": typed["valid_after"],
                "valid_before": typed["valid_before"],
                "nonce": typed["nonce"],
                "signature": sign_typed_data(own.key, typed["typed_data"]),
            },
        },
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["chain_reference"] == typed["typed_data"]["message"]["burnReference"]
    drive(runtime)
    assert client.get("/residents/me/orders", headers=headers).json()[0]["status"] == "paid"
    assert on_chain(runtime, demo, "ASC", wallet) == 500


def test_the_municipality_manages_services_within_the_purposes_rules(client, runtime, auth):
    admin = auth(Role.ADMIN)
    local = client.post(
        "/municipality/services", headers=admin, json={**SPORT_PASS, "purposes": ["LOCAL_SPENDING"]}
    )
    assert local.status_code == 422 and local.json()["code"] == "purpose_not_for_services"
    debt = client.post(
        "/municipality/services", headers=admin, json={**SPORT_PASS, "purposes": ["DEBT_SETTLEMENT"]}
    )
    assert debt.status_code == 422
    unknown = client.post("/municipality/services", headers=admin, json={**SPORT_PASS, "purposes": ["FOOD"]})
    assert unknown.status_code == 422 and unknown.json()["code"] == "purpose_unknown"
    service = offer(client, auth)
    assert client.post("/municipality/services", headers=admin, json=SPORT_PASS).status_code == 409
    assert (
        client.post("/municipality/services", headers=auth(Role.DEBT_COUNSELLOR), json=SPORT_PASS).status_code
        == 403
    )

    changed = client.patch(
        f"/municipality/services/{service['id']}", headers=admin, json={"price_cents": 1750, "active": False}
    ).json()
    assert (changed["price_cents"], changed["active"]) == (1750, False)
    assert [
        s["name"] for s in client.get("/municipality/services", headers=auth(Role.DEBT_COUNSELLOR)).json()
    ] == ["Sportpas 2026"]
