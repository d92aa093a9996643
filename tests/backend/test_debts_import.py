"""Debts from a spreadsheet through the HTTP API (POST /municipality/debts/batch): recorded all at once or
not at all, every bad row named by line and field, idempotent per creditor reference; and a resident
admitted in a batch activates their wallet and pays off an imported debt with the new PIN."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from socialcoin.db.enums import Origin
from socialcoin.db.models import DebtCase, OutboxItem
from socialcoin.domain.access import Role
from test_batch_admission import admitted, row, row_errors
from test_payments import PIN, drive, key, mint, on_chain

BATCH = "/municipality/debts/batch"


@pytest.fixture
def counsellor(auth) -> dict[str, str]:
    return auth(Role.DEBT_COUNSELLOR)


@pytest.fixture
def residents(client, auth) -> dict[str, dict]:
    """Two residents admitted in a batch, by case number."""
    results = admitted(client, auth(Role.ADMIN), [row(2, "S-0001"), row(3, "S-0002")])
    return {result["case_number"]: result for result in results}


def debt(
    line: int, case_number: str, reference: str, amount_cents: int = 5000, creditor: str = "CJIB"
) -> dict:
    return {
        "line": line,
        "case_number": case_number,
        "creditor": creditor,
        "creditor_reference": reference,
        "amount_cents": amount_cents,
    }


def post(client, headers, rows, dry_run=False):
    return client.post(BATCH, headers=headers, json={"dry_run": dry_run, "rows": rows})


def recorded(runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(DebtCase))


def test_debts_from_a_spreadsheet_are_recorded_and_a_rerun_changes_nothing(
    client, runtime, counsellor, residents
):
    rows = [
        debt(2, "S-0001", "CJIB-1", 5000),
        debt(3, "S-0001", "BD-7", 12050, creditor="Belastingdienst"),
        debt(4, "S-0002", "CJIB-2", 999),
    ]
    answer = post(client, counsellor, rows)
    assert answer.status_code == 200, answer.text
    first = answer.json()
    assert first["counts"] == {"recorded": 3}
    anna, bram = residents["S-0001"]["resident_id"], residents["S-0002"]["resident_id"]
    assert [(r["line"], r["status"], r["resident_id"]) for r in first["results"]] == [
        (2, "recorded", anna),
        (3, "recorded", anna),
        (4, "recorded", bram),
    ]
    shown = client.get("/municipality/debts", headers=counsellor, params={"resident_id": anna}).json()
    assert [
        (d["id"], d["creditor"], d["creditor_reference"], d["amount_cents"], d["remaining_cents"])
        for d in shown
    ] == [
        (first["results"][0]["case_id"], "CJIB", "CJIB-1", 5000, 5000),
        (first["results"][1]["case_id"], "Belastingdienst", "BD-7", 12050, 12050),
    ]

    # Sent again (one row added): what was recorded exists with the same case, the new row is recorded.
    again = post(client, counsellor, [*rows, debt(5, "S-0002", "CJIB-3", 100)]).json()
    assert again["counts"] == {"exists": 3, "recorded": 1}
    assert [r["case_id"] for r in again["results"][:3]] == [r["case_id"] for r in first["results"]]
    assert recorded(runtime) == 4


def test_every_kind_of_invalid_debt_row_is_reported_and_nothing_is_recorded(
    client, runtime, counsellor, residents
):
    earlier = [debt(2, "S-0001", "CJIB-1", 5000), debt(3, "S-0001", "CJIB-2", 5000)]
    assert post(client, counsellor, earlier).status_code == 200
    before = recorded(runtime)
    rows = [
        debt(2, "S-0002", "CJIB-9"),  # a good row: not recorded either, as others are at fault
        debt(3, "NOPE-1", "CJIB-10"),
        debt(4, "S-0001", "CJIB-11", 0),
        debt(5, "S-0001", "CJIB-12", -500),
        debt(6, "S-0001", "CJIB-13", 10**10 + 1),
        debt(7, "S-0001", "CJIB-14", creditor="  "),
        debt(8, "S-0001", "X" * 101),
        debt(9, "S-0002", "CJIB-9"),  # line 2's debt again
        debt(10, "S-0001", "CJIB-1", 6000),  # recorded before, for another amount
        debt(11, "S-0002", "CJIB-2", 5000),  # recorded before, for another resident
        {**debt(12, "S-0001", "CJIB-15"), "case_number": None, "amount_cents": None},
    ]
    answer = post(client, counsellor, rows)
    assert row_errors(answer) == {
        (3, "case_number", "resident_unknown"),
        (4, "amount_cents", "amount_invalid"),
        (5, "amount_cents", "amount_invalid"),
        (6, "amount_cents", "amount_invalid"),
        (7, "creditor", "creditor_invalid"),
        (8, "creditor_reference", "creditor_reference_invalid"),
        (9, "creditor_reference", "creditor_reference_duplicate"),
        (10, "amount_cents", "debt_case_exists"),
        (11, "case_number", "debt_case_exists"),
        (12, "case_number", "case_number_invalid"),
        (12, "amount_cents", "amount_invalid"),
    }
    amount = next(e for e in answer.json()["errors"] if e["line"] == 10)
    assert (
        "€ 50,00" in amount["detail"] and "€ 60,00" in amount["detail"] and "EUR 60.00" in amount["detail_en"]
    )
    assert recorded(runtime) == before

    dry = post(client, counsellor, [debt(2, "S-0001", "CJIB-1"), debt(3, "S-0002", "CJIB-9")], dry_run=True)
    assert dry.status_code == 200, dry.text
    assert [(r["status"], r["case_id"] is None) for r in dry.json()["results"]] == [
        ("exists", False),
        ("recorded", True),
    ]
    assert recorded(runtime) == before


def test_a_resident_admitted_in_a_batch_activates_and_pays_off_an_imported_debt(
    client, runtime, demo, counsellor, residents
):
    resident = residents["S-0001"]
    (case,) = post(client, counsellor, [debt(2, "S-0001", "CJIB-20", 3000)]).json()["results"]
    drive(runtime)
    mint(runtime, demo, "ARS", resident["wallet_address"], 5000)
    drive(runtime)
    activated = client.post(
        "/auth/activate",
        json={"case_number": "S-0001", "activation_code": resident["activation_code"], "pin": PIN},
    )
    assert activated.status_code == 200, activated.text
    headers = {"Authorization": f"Bearer {activated.json()['token']}", **key()}

    paid = client.post(
        f"/residents/me/debts/{case['case_id']}/settlements",
        headers=headers,
        json={"coin": "ARS", "amount_cents": 3000, "pin": PIN},
    )
    assert paid.status_code in (200, 201, 202), paid.text
    drive(runtime)
    shown = client.get(f"/municipality/debts/{case['case_id']}", headers=counsellor).json()
    assert (shown["status"], shown["remaining_cents"]) == ("closed", 0)
    assert on_chain(runtime, demo, "ARS", resident["wallet_address"]) == 2000
    with runtime.sessions() as session:
        burns = session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.origin == Origin.DEBT_SETTLEMENT)
        )
    assert burns == 1
