"""socialcoin debts import: debts with euro amounts as Dutch Excel writes them."""

from __future__ import annotations

import json

from eth_account import Account

from conftest import committed, write


def admitted(api, case_number: str) -> int:
    answer = api.post(
        "/municipality/residents",
        json={
            "name": "Schuld Test",
            "case_number": case_number,
            "area": "BU02020101",
            "wallet_address": Account.create().address,
            "consent": True,
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_debts_import_records_the_amounts_and_a_rerun_skips_them(cli_run, api, tmp_path, unique):
    resident_id = admitted(api, f"{unique}-1")
    path = write(
        tmp_path / "debts.csv",
        "case_number,creditor,creditor_reference,amount\n"
        f'{unique}-1,CJIB,{unique}-K1,"1.234,56"\n'
        f"{unique}-1,Vesteda,{unique}-K2,12.50\n",
        encoding="utf-8",
    )
    result = cli_run("debts", "import", path)
    assert result.exit_code == 0, result.output

    def amounts() -> list[tuple[str, int]]:
        recorded = api.get("/municipality/debts", params={"resident_id": resident_id}).json()
        return sorted((d["creditor"], d["amount_cents"]) for d in recorded)

    expected = [("CJIB", 123456), ("Vesteda", 1250)]
    assert committed(amounts, expected) == expected
    again = cli_run("debts", "import", path, "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["counts"] == {"new": 0, "exists": 2, "rejected": 0}


def test_bad_amounts_and_unknown_residents_change_nothing(cli_run, api, tmp_path, unique):
    resident_id = admitted(api, f"{unique}-1")
    path = write(
        tmp_path / "schulden.csv",
        "dossiernummer;schuldeiser;kenmerk;bedrag\n"
        f"{unique}-1;CJIB;{unique}-K1;12,50\n"
        f"{unique}-1;CJIB;{unique}-K2;-12,50\n"
        f"{unique}-1;CJIB;{unique}-K3;twaalf\n"
        f"ONBEKEND-{unique};CJIB;{unique}-K4;10\n",
    )
    result = cli_run("debts", "import", path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"{path}:3:4 (bedrag): -12,50 mag niet; het bedrag moet groter dan 0 zijn. / -12,50 is not allowed; "
        "the amount must be greater than 0."
    )
    assert lines[1].startswith(f"{path}:4:4 (bedrag): 'twaalf' is geen bedrag in euro")
    assert lines[2].startswith(f"{path}:5:1 (dossiernummer): ") and " / " in lines[2]
    assert api.get("/municipality/debts", params={"resident_id": resident_id}).json() == []
