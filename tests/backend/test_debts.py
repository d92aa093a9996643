"""Debts: the counsellor records them, the resident pays them off with debt coins (a relayed burn
against the case's reference), the debt goes down on confirmation and closes at zero; creditors get a
CSV and a PDF report with the transaction of each line."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib

from eth_account import Account
from sqlalchemy import select

from contracts import contracts
from socialcoin.db.models import ChainEvent, DebtCase, OutboxItem
from socialcoin.domain.access import Role
from test_payments import PIN, admit, drive, key, on_chain, resident_with_coins, sign_typed_data


def record(
    client,
    auth,
    resident_id: int,
    amount: int = 5000,
    creditor: str = "CJIB",
    reference: str = "CJIB-2026-000123",
) -> dict:
    answer = client.post(
        "/municipality/debts",
        headers=auth(Role.DEBT_COUNSELLOR),
        json={
            "resident_id": resident_id,
            "creditor": creditor,
            "creditor_reference": reference,
            "amount_cents": amount,
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def pdf_text(pdf: bytes) -> bytes:
    """The page content of a reportlab PDF: its streams, undone from ASCII85 and Flate where encoded."""
    text = b""
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = stream.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2].replace(b"\n", b"").replace(b"\r", b""))
        text += zlib.decompress(data) if data[:1] == b"x" else data  # 0x78: a zlib stream
    return text


def test_a_resident_pays_off_a_debt_in_two_parts_and_the_creditor_gets_a_report(client, runtime, demo, auth):
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-D001", "ARS", 6000)
    case = record(client, auth, resident_id)
    assert (case["status"], case["remaining_cents"], case["pending_cents"]) == ("open", 5000, 0)

    first = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**headers, **key()},
        json={"coin": "ARS", "amount_cents": 2000, "pin": PIN},
    )
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "pending"
    waiting = client.get(f"/municipality/debts/{case['id']}", headers=auth(Role.ADMIN)).json()
    assert (waiting["remaining_cents"], waiting["pending_cents"]) == (5000, 2000)
    drive(runtime)

    after_first = client.get(f"/municipality/debts/{case['id']}", headers=auth(Role.DEBT_COUNSELLOR)).json()
    assert (after_first["status"], after_first["remaining_cents"], after_first["pending_cents"]) == (
        "open",
        3000,
        0,
    )
    assert after_first["settlements"][0]["status"] == "settled"
    assert on_chain(runtime, demo, "ARS", wallet) == 4000

    second = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**headers, **key()},
        json={"coin": "ARS", "amount_cents": 3000, "pin": PIN},
    )
    assert second.status_code == 202
    drive(runtime)
    mine = client.get("/residents/me/debts", headers=headers).json()
    assert [(d["status"], d["remaining_cents"]) for d in mine] == [("closed", 0)]
    assert mine[0]["closed_at"] is not None
    settled = mine[0]["settlements"]
    assert [(s["amount_cents"], s["status"]) for s in settled] == [(2000, "settled"), (3000, "settled")]

    # On chain: two DebtSettled events against the case's reference, nothing personal.
    with runtime.sessions() as session:
        events = session.scalars(
            select(ChainEvent).where(
                ChainEvent.event == "DebtSettled", ChainEvent.args["resident"].as_string() == wallet
            )
        ).all()
        assert [(e.args["debtReference"], int(e.args["value"]), e.tx_hash) for e in events] == [
            (case["chain_reference"], 2000, settled[0]["tx_hash"]),
            (case["chain_reference"], 3000, settled[1]["tx_hash"]),
        ]
    history = client.get("/residents/me/history", headers=headers).json()
    assert [(h["kind"], h["amount_cents"], h["description_nl"]) for h in history[:2]] == [
        ("debt_settlement", -3000, "Schuld afgelost bij CJIB"),
        ("debt_settlement", -2000, "Schuld afgelost bij CJIB"),
    ]
    notices = [n["message_nl"] for n in client.get("/residents/me/notifications", headers=headers).json()]
    assert any("helemaal afgelost" in n for n in notices)

    # A paid-off debt takes nothing more.
    closed = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**headers, **key()},
        json={"coin": "ARS", "amount_cents": 100, "pin": PIN},
    )
    assert closed.status_code == 409 and closed.json()["code"] == "debt_closed"

    # The creditor's report: one line per settlement, with the transaction (here the English form; the
    # Dutch one, the default, is tested with the command that downloads it).
    counsellor = auth(Role.DEBT_COUNSELLOR)
    answer = client.get(
        "/municipality/debt-reports/settlements.csv",
        headers=counsellor,
        params={"creditor": "CJIB", "lang": "en"},
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [
        (
            r["creditor_reference"],
            r["amount_cents"],
            r["amount_eur"],
            r["remaining_after_cents"],
            r["tx_hash"],
        )
        for r in rows
    ] == [
        ("CJIB-2026-000123", "2000", "20.00", "3000", settled[0]["tx_hash"]),
        ("CJIB-2026-000123", "3000", "30.00", "0", settled[1]["tx_hash"]),
    ]
    assert (
        client.get(
            "/municipality/debt-reports/settlements.csv",
            headers=counsellor,
            params={"creditor": "Belastingdienst", "lang": "en"},
        ).text.count("\r\n")
        == 1
    )  # the header only
    for period, count in (({"since": "2999-01-01T00:00:00"}, 0), ({"until": "2999-01-01T00:00:00+01:00"}, 2)):
        url = "/municipality/debt-reports/settlements.csv"
        report = client.get(url, headers=counsellor, params={"creditor": "CJIB", "lang": "en", **period})
        assert len(list(csv.DictReader(io.StringIO(report.text)))) == count

    pdf = client.get(
        "/municipality/debt-reports/settlements.pdf", headers=counsellor, params={"creditor": "CJIB"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    for line in settled:
        assert line["tx_hash"].encode() in text
    assert text.count(b"CJIB-2026-000123") == 2 and b"20,00" in text and b"30,00" in text


def test_paying_more_than_is_open_is_refused_counting_what_is_on_its_way(client, runtime, demo, auth):
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-D002", "ARS", 9000)
    case = record(client, auth, resident_id, amount=5000)
    url = f"/residents/me/debts/{case['id']}/settlements"

    over = client.post(
        url, headers={**headers, **key()}, json={"coin": "ARS", "amount_cents": 5001, "pin": PIN}
    )
    assert over.status_code == 400
    assert over.json()["code"] == "debt_overpaid" and over.json()["field"] == "amount_cents"
    assert "U moet nog € 50,00 betalen" in over.json()["detail"]
    assert (
        client.post(
            url, headers={**headers, **key()}, json={"coin": "ARS", "amount_cents": 3000, "pin": PIN}
        ).status_code
        == 202
    )
    second = client.post(
        url, headers={**headers, **key()}, json={"coin": "ARS", "amount_cents": 2500, "pin": PIN}
    )
    assert second.status_code == 400 and "€ 20,00" in second.json()["detail"]
    assert "€ 30,00 onderweg" in second.json()["detail"]
    drive(runtime)
    assert on_chain(runtime, demo, "ARS", wallet) == 6000


def test_a_coin_for_another_purpose_cannot_pay_a_debt(client, runtime, demo, auth):
    resident_id, _, headers = resident_with_coins(runtime, demo, auth, "2026-D003", "GKW", 2000)
    case = record(client, auth, resident_id)
    answer = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**headers, **key()},
        json={"coin": "GKW", "amount_cents": 1000, "pin": PIN},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert (body["code"], body["field"]) == ("coin_not_for_debts", "coin")
    assert body["detail"] == (
        "Met GKW kunt u geen schuld aflossen: GKW is voor uitgeven in de wijk. Gebruik daarvoor ARS."
    )


def test_too_few_coins_or_a_wrong_pin_leave_the_debt_as_it_was(client, runtime, demo, auth):
    resident_id, _, headers = resident_with_coins(runtime, demo, auth, "2026-D004", "ARS", 1000)
    case = record(client, auth, resident_id)
    url = f"/residents/me/debts/{case['id']}/settlements"
    poor = client.post(
        url, headers={**headers, **key()}, json={"coin": "ARS", "amount_cents": 1500, "pin": PIN}
    )
    assert poor.status_code == 400 and poor.json()["code"] == "insufficient_balance"
    wrong = client.post(
        url, headers={**headers, **key()}, json={"coin": "ARS", "amount_cents": 500, "pin": "86420"}
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "pin_wrong"
    after = client.get(f"/municipality/debts/{case['id']}", headers=auth(Role.ADMIN)).json()
    assert (after["remaining_cents"], after["pending_cents"], after["settlements"]) == (5000, 0, [])


def test_the_same_settlement_sent_twice_settles_once(client, runtime, demo, auth):
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-D005", "ARS", 6000)
    case = record(client, auth, resident_id)
    same = {**headers, **key()}
    url = f"/residents/me/debts/{case['id']}/settlements"
    first = client.post(url, headers=same, json={"coin": "ARS", "amount_cents": 1000, "pin": PIN}).json()
    drive(runtime)
    again = client.post(url, headers=same, json={"coin": "ARS", "amount_cents": 1000, "pin": PIN}).json()
    drive(runtime)
    assert first["id"] == again["id"] and again["status"] == "settled"
    assert (
        client.get(f"/municipality/debts/{case['id']}", headers=auth(Role.ADMIN)).json()["remaining_cents"]
        == 4000
    )
    assert on_chain(runtime, demo, "ARS", wallet) == 5000
    changed = client.post(url, headers=same, json={"coin": "ARS", "amount_cents": 2000, "pin": PIN})
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"


def test_an_own_wallet_signs_the_settlement(client, runtime, demo, auth):
    own = Account.create()
    resident_id, wallet, headers = resident_with_coins(
        runtime, demo, auth, "2026-D006", "ARS", 3000, wallet=own.address
    )
    case = record(client, auth, resident_id, amount=2500)
    same = {**headers, **key()}
    url = f"/residents/me/debts/{case['id']}/settlements"
    typed = client.get(f"{url}/typed-data", headers=same, params={"coin": "ARS", "amount_cents": 2500}).json()
    message = typed["typed_data"]["message"]
    assert typed["typed_data"]["primaryType"] == "BurnWithAuthorization"
    assert (message["reason"], message["burnReference"], message["value"]) == (
        0,
        case["chain_reference"],
        2500,
    )
    signature = sign_typed_data(own.key, typed["typed_data"])
    answer = client.post(
        url,
        headers=same,
        json={
            "coin": "ARS",
            "amount_cents": 2500,
            "authorization": {
                "valid_after": typed["valid_after"],
                "valid_before": typed["valid_before"],
                "nonce": typed["nonce"],
                "signature": signature,
            },
        },
    )
    assert answer.status_code == 202, answer.text
    drive(runtime)
    assert client.get("/residents/me/debts", headers=headers).json()[0]["status"] == "closed"
    assert on_chain(runtime, demo, "ARS", wallet) == 500


def test_who_may_record_and_see_debts(client, runtime, demo, auth):
    resident_id, _ = admit(runtime, "2026-D007")
    other_id, _ = admit(runtime, "2026-D008")
    body = {
        "resident_id": resident_id,
        "creditor": "Vivare",
        "creditor_reference": "HUUR-77",
        "amount_cents": 900,
    }
    refused = client.post("/municipality/debts", headers=auth(Role.RESIDENT, resident_id), json=body)
    assert refused.status_code == 403
    case = client.post("/municipality/debts", headers=auth(Role.ADMIN), json=body).json()
    twice = client.post("/municipality/debts", headers=auth(Role.DEBT_COUNSELLOR), json=body)
    assert twice.status_code == 409 and twice.json()["code"] == "debt_case_exists"
    unknown = client.post(
        "/municipality/debts",
        headers=auth(Role.ADMIN),
        json={**body, "resident_id": 9999, "creditor_reference": "X"},
    )
    assert unknown.status_code == 404
    others = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**auth(Role.RESIDENT, other_id), **key()},
        json={"coin": "ARS", "amount_cents": 100, "pin": PIN},
    )
    assert others.status_code == 404 and others.json()["code"] == "debt_case_not_found"
    assert client.get("/residents/me/debts", headers=auth(Role.RESIDENT, other_id)).json() == []
    with runtime.sessions() as session:
        assert (
            session.scalars(
                select(OutboxItem).where(OutboxItem.idempotency_key.like("debt-settlement:%"))
            ).all()
            == []
        )
        assert session.scalar(select(DebtCase)).remaining_cents == 900


def freeze(runtime, wallet: str) -> None:
    """Compliance (the operator key) freezes a wallet, straight on chain (not through the outbox)."""
    compliance = Account.from_key(runtime.settings.operator_key.get_secret_value())
    web3 = contracts(runtime).web3
    tx = (
        contracts(runtime)
        .registry.functions.freeze([wallet])
        .build_transaction(
            {
                "from": compliance.address,
                "nonce": web3.eth.get_transaction_count(compliance.address, "pending"),
                "gas": 500_000,
                "gasPrice": 0,
                "chainId": web3.eth.chain_id,
            }
        )
    )
    receipt = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_raw_transaction(compliance.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1


def test_a_burn_the_chain_refuses_after_it_was_accepted_leaves_the_debt_unchanged(
    client, runtime, demo, auth
):
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-D009", "ARS", 3000)
    case = record(client, auth, resident_id, amount=2000)
    first_key = key()
    accepted = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**headers, **first_key},
        json={"coin": "ARS", "amount_cents": 1500, "pin": PIN},
    )
    assert accepted.status_code == 202
    freeze(runtime, wallet)  # between the request and the relay
    drive(runtime)

    after = client.get(f"/municipality/debts/{case['id']}", headers=auth(Role.ADMIN)).json()
    assert (after["status"], after["remaining_cents"], after["pending_cents"]) == ("open", 2000, 0)
    assert [(s["status"], s["error_code"]) for s in after["settlements"]] == [
        ("failed", "CoinTransferRefused")
    ]
    assert on_chain(runtime, demo, "ARS", wallet) == 3000
    notices = [n["message_nl"] for n in client.get("/residents/me/notifications", headers=headers).json()]
    assert any("niet gelukt" in n and "€ 15,00" in n for n in notices)
    # The same request again answers what became of it, with the reason.
    again = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**headers, **first_key},
        json={"coin": "ARS", "amount_cents": 1500, "pin": PIN},
    )
    assert (again.json()["status"], again.json()["error_code"]) == ("failed", "CoinTransferRefused")

    refused = client.post(
        f"/residents/me/debts/{case['id']}/settlements",
        headers={**headers, **key()},
        json={"coin": "ARS", "amount_cents": 500, "pin": PIN},
    )
    assert refused.status_code == 400 and refused.json()["code"] == "sender_frozen"
    assert refused.json()["detail"] == "Uw wallet is geblokkeerd. Neem contact op met de gemeente."
