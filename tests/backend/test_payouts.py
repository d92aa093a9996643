"""Merchants redeem coins for euros: the coins are burned against a payout reference, and once confirmed
the amount goes into the next SEPA credit-transfer batch (pain.001.001.03), which the municipality
downloads, gives to its bank and marks paid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import sepaxml
import xmlschema
from eth_account import Account
from sqlalchemy import select

from socialcoin.db.models import ChainEvent
from socialcoin.domain.access import Role
from test_payments import (
    PIN,
    drive,
    iban,
    key,
    merchant,
    mint,
    on_chain,
    resident_with_coins,
    sign_typed_data,
)

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
SCHEMA = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
DEBTOR = {"debtor_name": "Gemeente Arnhem", "debtor_iban": "NL91ABNA0417164300", "debtor_bic": "ABNANL2A"}


def test_merchants_are_paid_in_euros_by_a_sepa_batch(client, runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit", bic="RABONL2U", account="0123456789")
    club_id, club = merchant(
        runtime, "Sportclub Vitesse Jeugd", area="GM0202", purposes=("SPORT_CULTURE",), account="0987654321"
    )
    _, _, resident = resident_with_coins(runtime, demo, auth, "2026-U001", "GKW", 3000)
    paid = client.post(
        "/residents/me/payments",
        headers={**resident, **key()},
        json={"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 2500, "pin": PIN},
    )
    assert paid.status_code == 202
    mint(runtime, demo, "ASC", club, 1750)
    drive(runtime)
    bakery_headers, club_headers = auth(Role.MERCHANT, bakery_id), auth(Role.MERCHANT, club_id)

    first = client.post(
        "/merchants/me/payouts",
        headers={**bakery_headers, **key()},
        json={"coin": "GKW", "amount_cents": 2000, "pin": PIN},
    )
    assert first.status_code == 202, first.text
    second = client.post(
        "/merchants/me/payouts",
        headers={**club_headers, **key()},
        json={"coin": "ASC", "amount_cents": 1750, "pin": PIN},
    )
    assert second.status_code == 202
    assert first.json()["status"] == "pending"
    drive(runtime)

    burned = client.get("/municipality/payouts", headers=auth(Role.ADMIN), params={"status": "burned"}).json()
    assert sorted((p["merchant_id"], p["amount_cents"]) for p in burned) == [
        (bakery_id, 2000),
        (club_id, 1750),
    ]
    assert on_chain(runtime, demo, "GKW", bakery) == 500 and on_chain(runtime, demo, "ASC", club) == 0
    with runtime.sessions() as session:
        event = session.scalar(
            select(ChainEvent).where(
                ChainEvent.event == "PayoutRedeemed", ChainEvent.args["merchant"].as_string() == bakery
            )
        )
    assert (event.args["payoutReference"], int(event.args["value"])) == (
        first.json()["chain_reference"],
        2000,
    )
    balances = client.get("/merchants/me/balances", headers=bakery_headers).json()
    assert [(b["symbol"], b["amount_cents"]) for b in balances] == [("GKW", 500)]

    batch = client.post("/municipality/payout-batches", headers=auth(Role.ADMIN), json=DEBTOR)
    assert batch.status_code == 201, batch.text
    batch = batch.json()
    assert (batch["total_cents"], batch["payout_count"], batch["paid_at"]) == (3750, 2, None)
    statuses = client.get("/merchants/me/payouts", headers=bakery_headers).json()
    assert [(p["status"], p["batch_id"]) for p in statuses] == [("batched", batch["id"])]

    download = client.get(
        f"/municipality/payout-batches/{batch['id']}/pain.001.xml", headers=auth(Role.ADMIN)
    )
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/xml")
    xmlschema.XMLSchema(str(SCHEMA)).validate(download.text)
    root = ET.fromstring(download.content)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == batch["message_id"]
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "37.50"
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "NL91ABNA0417164300"
    transfers = {
        tx.findtext("p:Cdtr/p:Nm", namespaces=NS): (
            tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            tx.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            tx.find("p:Amt/p:InstdAmt", NS).get("Ccy"),
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
        )
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    }
    assert transfers == {
        "Bakkerij De Geit": (
            iban("ABNA", "0123456789"),
            "20.00",
            "EUR",
            f"SOCIALCOIN-PAYOUT-{first.json()['id']}",
        ),
        "Sportclub Vitesse Jeugd": (
            iban("ABNA", "0987654321"),
            "17.50",
            "EUR",
            f"SOCIALCOIN-PAYOUT-{second.json()['id']}",
        ),
    }

    again = client.post("/municipality/payout-batches", headers=auth(Role.ADMIN), json=DEBTOR)
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_pay"
    marked = client.post(f"/municipality/payout-batches/{batch['id']}/paid", headers=auth(Role.ADMIN))
    assert marked.status_code == 200 and marked.json()["paid_at"]
    assert [p["status"] for p in client.get("/merchants/me/payouts", headers=club_headers).json()] == ["paid"]
    twice = client.post(f"/municipality/payout-batches/{batch['id']}/paid", headers=auth(Role.ADMIN))
    assert twice.status_code == 409 and twice.json()["code"] == "payout_batch_paid"
    assert [b["id"] for b in client.get("/municipality/payout-batches", headers=auth(Role.ADMIN)).json()] == [
        batch["id"]
    ]


def test_a_payout_over_the_balance_or_with_a_wrong_pin_is_refused(client, runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    drive(runtime)
    mint(runtime, demo, "GKW", bakery, 1000)
    drive(runtime)
    headers = auth(Role.MERCHANT, bakery_id)
    over = client.post(
        "/merchants/me/payouts",
        headers={**headers, **key()},
        json={"coin": "GKW", "amount_cents": 1001, "pin": PIN},
    )
    assert over.status_code == 400 and over.json()["code"] == "insufficient_balance"
    assert "U heeft € 10,00" in over.json()["detail"]
    wrong = client.post(
        "/merchants/me/payouts",
        headers={**headers, **key()},
        json={"coin": "GKW", "amount_cents": 500, "pin": "86420"},
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "pin_wrong"
    assert client.get("/merchants/me/payouts", headers=headers).json() == []
    assert on_chain(runtime, demo, "GKW", bakery) == 1000
    nothing = client.post("/municipality/payout-batches", headers=auth(Role.ADMIN), json=DEBTOR)
    assert nothing.status_code == 409
    bad_account = client.post(
        "/municipality/payout-batches",
        headers=auth(Role.ADMIN),
        json={**DEBTOR, "debtor_iban": "NL00ABNA0417164300"},
    )
    assert bad_account.status_code == 422 and bad_account.json()["field"] == "debtor_iban"


def test_the_same_payout_sent_twice_burns_once(client, runtime, demo, auth):
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    drive(runtime)
    mint(runtime, demo, "GKW", bakery, 1000)
    drive(runtime)
    same = {**auth(Role.MERCHANT, bakery_id), **key()}
    first = client.post(
        "/merchants/me/payouts", headers=same, json={"coin": "GKW", "amount_cents": 400, "pin": PIN}
    )
    drive(runtime)
    second = client.post(
        "/merchants/me/payouts", headers=same, json={"coin": "GKW", "amount_cents": 400, "pin": PIN}
    )
    assert first.json()["id"] == second.json()["id"] and second.json()["status"] == "burned"
    assert on_chain(runtime, demo, "GKW", bakery) == 600
    other = client.post(
        "/merchants/me/payouts", headers=same, json={"coin": "GKW", "amount_cents": 500, "pin": PIN}
    )
    assert other.status_code == 409


def test_a_merchant_with_an_own_wallet_signs_the_payout(client, runtime, demo, auth):
    own = Account.create()
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit", wallet=own.address)
    drive(runtime)
    mint(runtime, demo, "GKW", bakery, 1000)
    drive(runtime)
    same = {**auth(Role.MERCHANT, bakery_id), **key()}
    typed = client.get(
        "/merchants/me/payouts/typed-data", headers=same, params={"coin": "GKW", "amount_cents": 1000}
    ).json()
    assert typed["typed_data"]["message"]["reason"] == 2
    answer = client.post(
        "/merchants/me/payouts",
        headers=same,
        json={
            "coin": "GKW",
            "amount_cents": 1000,
            "authorization": {
                "valid_after": typed["valid_after"],
                "valid_before": typed["valid_before"],
                "nonce": typed["nonce"],
                "signature": sign_typed_data(own.key, typed["typed_data"]),
            },
        },
    )
    assert answer.status_code == 202, answer.text
    drive(runtime)
    assert client.get("/merchants/me/payouts", headers=same).json()[0]["status"] == "burned"
    assert on_chain(runtime, demo, "GKW", bakery) == 0


def test_only_the_municipality_makes_batches_and_only_merchants_request_payouts(client, runtime, demo, auth):
    _, _, resident = resident_with_coins(runtime, demo, auth, "2026-U002", "GKW", 1000)
    assert client.post("/municipality/payout-batches", headers=resident, json=DEBTOR).status_code == 403
    assert (
        client.post(
            "/merchants/me/payouts",
            headers={**resident, **key()},
            json={"coin": "GKW", "amount_cents": 100, "pin": PIN},
        ).status_code
        == 403
    )
    assert client.get("/municipality/payouts", headers=auth(Role.DEBT_COUNSELLOR)).status_code == 403
