"""Admitting residents from a spreadsheet through the HTTP API (POST /municipality/residents/batch), their
registration on the anvil chain, polling it (POST /municipality/residents/lookup), and the resident's
activation of a custodial wallet with the code from the letter (POST /auth/activate)."""

from __future__ import annotations

import re

import pytest
from eth_account import Account
from sqlalchemy import func, select

from contracts import contracts
from socialcoin.chain.constants import Kind
from socialcoin.db.models import ApiToken, OutboxItem, Resident
from socialcoin.domain.access import Role
from socialcoin.domain.pin_attempts import MAX_PIN_FAILURES
from test_payments import PIN, drive, key, merchant, mint, on_chain

BATCH = "/municipality/residents/batch"
CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


def row(line: int, case_number: str, **changes) -> dict:
    body = {
        "line": line,
        "name": f"Inwoner {case_number}",
        "case_number": case_number,
        "area": "BU02020101",
        "email": f"{case_number.lower()}@example.nl",
        "phone": "06 12345678",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def post(client, headers, rows, dry_run=False):
    return client.post(BATCH, headers=headers, json={"dry_run": dry_run, "rows": rows})


def admitted(client, headers, rows) -> list[dict]:
    answer = post(client, headers, rows)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def counts(runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Resident, OutboxItem, ApiToken)
        }


def row_errors(answer) -> set[tuple[int, str | None, str]]:
    """The faults of a batch_invalid answer as (line, field, code); each has a Dutch and English text."""
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "batch_invalid" and body["detail"] != body["detail_en"]
    for error in body["errors"]:
        assert error["detail"] and error["detail_en"] and error["detail"] != error["detail_en"], error
    return {(error["line"], error["field"], error["code"]) for error in body["errors"]}


# --------------------------------------------------------------------------------------------------
# Admitting
# --------------------------------------------------------------------------------------------------


def test_a_batch_admits_every_row_registers_them_on_chain_and_a_rerun_changes_nothing(client, runtime, admin):
    own = Account.create().address
    rows = [row(2, "B-0001"), row(3, "B-0002", email=None, phone=None), row(4, "B-0003", wallet_address=own)]
    answer = post(client, admin, rows)
    assert answer.status_code == 200, answer.text
    first = answer.json()
    assert first["counts"] == {"admitted": 3}
    results = first["results"]
    assert [(r["line"], r["status"], r["case_number"], r["onchain"]) for r in results] == [
        (2, "admitted", "B-0001", "pending"),
        (3, "admitted", "B-0002", "pending"),
        (4, "admitted", "B-0003", "pending"),
    ]
    assert all(CODE.match(r["activation_code"]) for r in results[:2])
    assert results[2]["activation_code"] is None
    assert results[0]["activation_code"] != results[1]["activation_code"]
    assert results[2]["wallet_address"] == own

    drive(runtime)
    polled = client.post(
        "/municipality/residents/lookup", headers=admin, json={"case_numbers": ["B-0003", "B-0001", "NOPE-1"]}
    )
    assert polled.status_code == 200, polled.text
    no_error = {"error_code": None, "error": None, "error_en": None}
    assert polled.json() == [
        {"case_number": "B-0003", "resident_id": results[2]["resident_id"], "onchain": "done", **no_error},
        {"case_number": "B-0001", "resident_id": results[0]["resident_id"], "onchain": "done", **no_error},
        {"case_number": "NOPE-1", "resident_id": None, "onchain": None, **no_error},
    ]
    for result in results:
        kind = contracts(runtime).registry.functions.participant(result["wallet_address"]).call()[0]
        assert kind == Kind.RESIDENT
    shown = client.get(f"/municipality/residents/{results[1]['resident_id']}", headers=admin).json()
    assert (shown["name"], shown["wallet_custody"], shown["email"]) == ("Inwoner B-0002", "custodial", None)

    # The same file again (after an interruption, say): every row exists, with the same ids; the codes
    # were shown once and are not shown again (test_activation_codes).
    before = counts(runtime)
    again = post(client, admin, rows).json()
    assert again["counts"] == {"exists": 3}
    unshown = {"activation_code": None, "activation_code_id": None}
    assert [{**r, "status": "admitted", "onchain": "pending"} for r in again["results"]] == [
        {**r, **unshown, "activation": "unacknowledged" if r["activation_code"] else None} for r in results
    ]
    assert all(r["onchain"] == "done" for r in again["results"])
    assert counts(runtime) == before


def test_every_kind_of_invalid_row_is_reported_by_line_and_field_and_nothing_changes(
    client, runtime, admin, demo
):
    taken = Account.create().address
    admitted(client, admin, [row(2, "T-0001"), row(3, "T-0002", wallet_address=taken)])
    before = counts(runtime)
    shared = Account.create().address
    rows = [
        row(2, "OK-0001"),  # a good row: not admitted either, as others are at fault
        row(3, "OK-0002", name="  ", area="XX99"),  # two faults on one line
        row(4, "123456782"),  # a BSN (passes the elfproef)
        row(5, "OK-0005", email="eva@", phone="bel me"),
        row(6, "OK-0006", wallet_address="0x1234"),
        row(7, "OK-0001"),  # the case number of line 2 again
        row(8, "OK-0008", wallet_address=shared),
        row(9, "OK-0009", wallet_address=shared),  # the wallet of line 8 again
        row(10, "T-0001", name="Iemand Anders"),  # admitted before, with another name
        row(11, "T-0002"),  # admitted before with an own wallet, now without
        row(12, "OK-0012", wallet_address=taken),  # another resident's wallet
        row(13, "OK-0013", wallet_address=demo["demo"]["resident_anna"]),  # registered on chain
        {**row(14, "OK-0014"), "case_number": None, "area": None},
    ]
    answer = post(client, admin, rows)
    assert row_errors(answer) == {
        (3, "name", "name_missing"),
        (3, "area", "area_invalid"),
        (4, "case_number", "case_number_looks_like_bsn"),
        (5, "email", "email_invalid"),
        (5, "phone", "phone_invalid"),
        (6, "wallet_address", "address_invalid"),
        (7, "case_number", "case_number_duplicate"),
        (9, "wallet_address", "wallet_address_duplicate"),
        (10, "name", "resident_exists"),
        (11, "wallet_address", "resident_exists"),
        (12, "wallet_address", "wallet_in_use"),
        (13, "wallet_address", "wallet_registered"),
        (14, "case_number", "case_number_missing"),
        (14, "area", "area_missing"),
    }
    body = answer.json()
    assert [e["line"] for e in body["errors"]] == sorted(e["line"] for e in body["errors"])
    differs = next(e for e in body["errors"] if e["line"] == 10)
    assert "'Inwoner T-0001'" in differs["detail"] and "'Iemand Anders'" in differs["detail_en"]
    assert "regel 2" in next(e for e in body["errors"] if e["line"] == 7)["detail"]
    assert counts(runtime) == before

    # A dry run checks the same, and changes nothing either.
    assert row_errors(post(client, admin, rows, dry_run=True)) == row_errors(answer)
    assert counts(runtime) == before


def test_a_dry_run_answers_what_would_happen_and_changes_nothing(client, runtime, admin):
    admitted(client, admin, [row(2, "D-0001")])
    before = counts(runtime)
    answer = post(client, admin, [row(2, "D-0001"), row(3, "D-0002")], dry_run=True)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["counts"] == {"exists": 1, "admitted": 1}
    new = body["results"][1]
    shown = ("status", "resident_id", "wallet_address", "activation", "activation_code", "onchain")
    assert [new[field] for field in shown] == ["admitted", None, None, None, None, None]
    assert counts(runtime) == before


def test_a_batch_is_for_the_municipality_and_has_1_to_10000_rows(client, auth, admin):
    assert post(client, auth(Role.DEBT_COUNSELLOR), [row(2, "R-0001")]).status_code == 403
    assert post(client, admin, []).json()["code"] == "invalid_field"
    too_many = [row(line, f"R-{line}") for line in range(1, 10_002)]
    assert post(client, admin, too_many).json()["code"] == "invalid_field"
    assert post(client, admin, [row(2, "R-0001", bsn="123456782")]).json()["code"] == "invalid_field"


# --------------------------------------------------------------------------------------------------
# Activation
# --------------------------------------------------------------------------------------------------


def activate(client, case_number: str, code: str, pin: str = PIN):
    body = {"case_number": case_number, "activation_code": code, "pin": pin}
    return client.post("/auth/activate", json=body)


def test_a_resident_activates_with_the_code_from_the_letter_and_then_pays_with_the_pin(
    client, runtime, admin, demo, auth
):
    (result,) = admitted(client, admin, [row(2, "A-0001")])
    case_number, code, wallet = "A-0001", result["activation_code"], result["wallet_address"]
    bakery_id, bakery = merchant(runtime, "Bakkerij Activatie")
    drive(runtime)
    mint(runtime, demo, "GKW", wallet, 1000)
    drive(runtime)

    # Before activation there is no PIN: signing in fails like any sign-in (a stranger must not learn that
    # this case waits for activation), and the one answer says to activate first if there is no PIN yet.
    login = client.post("/auth/login", json={"case_number": case_number, "pin": PIN})
    assert login.status_code == 401 and login.json()["code"] == "login_failed"
    assert "activeringscode" in login.json()["detail"] and "activation code" in login.json()["detail_en"]
    # Nor can a token the municipality issued pay or change the PIN before then.
    issued = auth(Role.RESIDENT, result["resident_id"])
    payment = {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 400, "reference": "bon 1", "pin": PIN}
    early = client.post("/residents/me/payments", headers={**issued, **key()}, json=payment)
    assert early.status_code == 403 and early.json()["code"] == "activation_pending"
    pin_change = client.post(
        "/residents/me/pin", headers=issued, json={"current_pin": PIN, "new_pin": "97531"}
    )
    assert pin_change.status_code == 403 and pin_change.json()["code"] == "activation_pending"

    assert activate(client, case_number, code, pin="12345").json()["code"] == "pin_weak"
    wrong = activate(client, case_number, "AAAA-BBBB-CCCC")
    assert wrong.status_code == 401 and wrong.json()["code"] == "activation_failed"
    assert activate(client, "NOPE-1", code).json()["code"] == "activation_failed"

    done = activate(client, case_number, f" {code.lower().replace('-', ' ')} ")
    assert done.status_code == 200, done.text
    token = done.json()
    assert (token["role"], token["subject_id"]) == ("resident", result["resident_id"])
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/auth/me", headers=headers).json()["subject_id"] == result["resident_id"]

    again = activate(client, case_number, code)
    assert again.status_code == 409 and again.json()["code"] == "already_activated"
    rerun = admitted(client, admin, [row(2, "A-0001")])
    assert (rerun[0]["status"], rerun[0]["activation_code"]) == ("exists", None)

    assert client.post("/auth/login", json={"case_number": case_number, "pin": PIN}).status_code == 200
    paid = client.post("/residents/me/payments", headers={**headers, **key()}, json=payment)
    assert paid.status_code == 202, paid.text
    drive(runtime)
    assert (on_chain(runtime, demo, "GKW", wallet), on_chain(runtime, demo, "GKW", bakery)) == (600, 400)


def test_wrong_activation_codes_lock_activation_and_login_for_a_while(client, runtime, admin):
    (result,) = admitted(client, admin, [row(2, "L-0001")])
    for _ in range(MAX_PIN_FAILURES - 1):
        assert activate(client, "L-0001", "AAAA-BBBB-CCCC").json()["code"] == "activation_failed"
    locked = activate(client, "L-0001", "AAAA-BBBB-CCCC")
    assert locked.status_code == 401 and locked.json()["code"] == "activation_failed"
    assert "activeringscode" in locked.json()["detail"]
    # While locked even the right code is refused, with the same answer, and nothing changed.
    still = activate(client, "L-0001", result["activation_code"])
    assert still.status_code == 401 and still.json() == locked.json()
    with runtime.sessions() as session:
        resident = session.get(Resident, result["resident_id"])
        assert resident.activation_pending and resident.pin_hash is None
