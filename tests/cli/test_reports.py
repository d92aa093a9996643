"""status, report, payouts export, debts report and verifier add: the commands over the API that was
there before."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from eth_account import Account

from conftest import write

DEBTOR = ("--debtor-name", "Gemeente Arnhem", "--debtor-iban", "NL91ABNA0417164300")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def test_status_shows_chain_indexer_and_outbox_without_a_token(cli_run, service):
    result = cli_run("status", "--json", token="")
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["api"] == service.url and status["chain_head"] >= status["indexed_block"] > 0
    table = cli_run("status")
    assert "blockchain: laatste blok / chain head" in table.stdout
    assert "wachtende schrijfacties / pending writes" in table.stdout


def test_an_unreachable_backend_is_exit_code_3(cli_run):
    result = cli_run("status", "--api", "http://127.0.0.1:9")
    assert result.exit_code == 3
    assert "is niet bereikbaar" in result.stderr and "cannot be reached" in result.stderr


def test_a_missing_token_is_a_usage_error_and_a_wrong_one_a_refusal(cli_run, service):
    from click.testing import CliRunner

    from socialcoin.cli.main import cli

    env = {"SOCIALCOIN_API_URL": service.url, "SOCIALCOIN_TOKEN": ""}
    missing = CliRunner().invoke(cli, ["report"], env=env)
    assert missing.exit_code == 2 and "SOCIALCOIN_TOKEN" in missing.stderr
    wrong = cli_run("report", token="sc_not-a-token")
    assert wrong.exit_code == 1 and wrong.stderr.startswith("Fout: ") and " / Error: " in wrong.stderr


def test_report_shows_budgets_per_programme_and_coin(cli_run, api):
    budgets = api.get("/municipality/budgets").json()
    result = cli_run("report", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == budgets
    table = cli_run("report").stdout
    assert "Wijkmunt Geitenkamp 2026" in table and "GKW" in table
    assert "€ 10.000,00" in table  # the demo programme's budget, in Dutch notation


def test_verifier_add_authorises_an_organisations_key(cli_run, api, service):
    wallet = Account.create().address
    organisation = api.post(
        "/municipality/organisations",
        json={"name": f"Wijkteam {uuid.uuid4().hex[:6]}", "area": "GM0202", "wallet_address": wallet},
    ).json()
    key = Account.create().address
    result = cli_run("verifier", "add", organisation["id"], "GKW", key, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert (answer["organisation_id"], answer["address"], answer["coin"]) == (
        organisation["id"],
        key,
        service.demo["coins"]["GKW"],
    )
    again = cli_run("verifier", "add", organisation["id"], "GKW", key)
    assert again.exit_code == 1 and "/ Error:" in again.stderr  # the same key twice is refused (409)


def test_payouts_export_writes_the_pain001_file(cli_run, api, service, tmp_path):
    merchant_id = _burned_payout(api, service, 7_50)
    nothing_before = len(api.get("/municipality/payouts", params={"status": "burned"}).json())
    assert nothing_before >= 1
    target = tmp_path / "maart.xml"
    result = cli_run("payouts", "export", "-o", target, *DEBTOR)
    assert result.exit_code == 0, result.output
    document = ET.parse(target).getroot()
    assert document.find(".//p:Dbtr/p:Nm", NS).text == "Gemeente Arnhem"
    amounts = [a.text for a in document.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    assert "7.50" in amounts and "MsgId" in result.stdout
    assert api.get("/municipality/payouts", params={"status": "burned"}).json() == []
    batch_id = next(line.split()[-1] for line in result.stdout.splitlines() if line.startswith("batch"))
    again = cli_run("payouts", "export", "--batch", batch_id, "-o", "-")
    assert again.exit_code == 0 and again.stdout_bytes == target.read_bytes()
    nothing = cli_run("payouts", "export", *DEBTOR)
    assert nothing.exit_code == 1
    assert "Er staan geen uitbetalingen klaar. / Error: No payouts are waiting." in nothing.stderr
    assert merchant_id


def _burned_payout(api, service, cents: int) -> int:
    """The demo resident Anna pays the demo bakery (from her start bonus); the bakery redeems it."""
    import time

    resident = api.post("/auth/login", json={"case_number": "DEMO-0001", "pin": "38271"}).json()["token"]
    merchant_id = api.get("/municipality/merchants").json()[0]["id"]
    merchant = api.post(
        "/municipality/tokens", json={"role": "merchant", "subject_id": merchant_id, "label": "cli test"}
    ).json()["token"]
    paid = api.post(
        "/residents/me/payments",
        headers={"Authorization": f"Bearer {resident}", "Idempotency-Key": str(uuid.uuid4())},
        json={"merchant_id": merchant_id, "coin": "GKW", "amount_cents": cents, "pin": "38271"},
    )
    assert paid.status_code == 202, paid.text
    merchant_headers = {"Authorization": f"Bearer {merchant}"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        balances = api.get("/merchants/me/balances", headers=merchant_headers).json()
        if sum(b["amount_cents"] for b in balances if b["symbol"] == "GKW") >= cents:
            break
        time.sleep(0.2)
    redeemed = api.post(
        "/merchants/me/payouts",
        headers={**merchant_headers, "Idempotency-Key": str(uuid.uuid4())},
        json={"coin": "GKW", "amount_cents": cents, "pin": "61504"},
    )
    assert redeemed.status_code == 202, redeemed.text
    while time.monotonic() < deadline:
        if api.get("/municipality/payouts", params={"status": "burned"}).json():
            return merchant_id
        time.sleep(0.2)
    raise AssertionError("the payout was not burned within 30 s")


# --------------------------------------------------------------------------------------------------
# The creditor's settlement report

DUTCH_COLUMNS = [
    "afgelost_op",
    "zaak",
    "schuldeiser",
    "kenmerk",
    "bedrag",
    "bedrag_centen",
    "nog_open_centen",
    "munt",
    "transactie",
]
ENGLISH_COLUMNS = [
    "settled_at",
    "debt_case_id",
    "creditor",
    "creditor_reference",
    "amount_eur",
    "amount_cents",
    "remaining_after_cents",
    "coin",
    "tx_hash",
]


def test_the_settlement_csv_is_written_as_dutch_excel_reads_it_or_in_english_on_request():
    from socialcoin.domain.debts import ReportLine
    from socialcoin.domain.reports import settlement_csv

    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    lines = [
        ReportLine(moment, 7, "=CJIB", "-K1", 7_05, 1_227_51, "ARS", "0xab"),
        ReportLine(moment, 7, "=CJIB", "-K1", 1_227_51, 0, "ARS", "0xcd"),
    ]
    dutch = settlement_csv(lines)
    assert dutch.startswith("\ufeff")  # UTF-8 with BOM once encoded: Excel reads the accents right
    rows = list(csv.reader(io.StringIO(dutch.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == DUTCH_COLUMNS
    assert rows[1] == [moment.isoformat(), "7", "'=CJIB", "'-K1", "7,05", "705", "122751", "ARS", "0xab"]
    assert rows[2][4:7] == ["1227,51", "122751", "0"]

    english = settlement_csv(lines, "en")
    assert not english.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(english)))
    assert rows[0] == ENGLISH_COLUMNS
    assert rows[1] == [moment.isoformat(), "7", "'=CJIB", "'-K1", "7.05", "705", "122751", "ARS", "0xab"]
    assert rows[2][4] == "1227.51"


def _settled_debt(cli_run, api, tmp_path, unique: str) -> dict:
    """A debt of the demo resident Anna at a creditor of this test's own, of which she pays 7,05 with debt
    coins (ARS) minted for her for an hour at the demo's Taalcafé: the settlement, once confirmed."""
    anna = api.post("/municipality/residents/lookup", json={"case_numbers": ["DEMO-0001"]}).json()[0]
    creditor = f"Deurwaarder {unique}"
    case = api.post(
        "/municipality/debts",
        json={
            "resident_id": anna["resident_id"],
            "creditor": creditor,
            "creditor_reference": f"DW-{unique}",
            "amount_cents": 1_234_56,
        },
    )
    assert case.status_code == 201, case.text
    taalcafe = next(a for a in api.get("/municipality/activities").json() if a["title"].startswith("Taalcaf"))
    rewards = write(
        tmp_path / "taalcafe.csv",
        f"dossiernummer;activiteit;eenheden;claimkenmerk\nDEMO-0001;{taalcafe['id']};1;{unique}/taalcafe\n",
    )
    minted = cli_run("mint", rewards)
    assert minted.exit_code == 0, minted.output
    resident = api.post("/auth/login", json={"case_number": "DEMO-0001", "pin": "38271"}).json()["token"]
    paid = api.post(
        f"/residents/me/debts/{case.json()['id']}/settlements",
        headers={"Authorization": f"Bearer {resident}", "Idempotency-Key": str(uuid.uuid4())},
        json={"coin": "ARS", "amount_cents": 7_05, "pin": "38271"},
    )
    assert paid.status_code == 202, paid.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        settlements = api.get(f"/municipality/debts/{case.json()['id']}").json()["settlements"]
        if settlements and settlements[0]["status"] != "pending":
            assert settlements[0]["status"] == "settled", settlements
            return {"creditor": creditor, **settlements[0]}
        time.sleep(0.2)
    raise AssertionError("the settlement was not confirmed within 60 s")


def test_debts_report_downloads_the_creditors_csv_in_dutch_or_english(cli_run, api, tmp_path, unique):
    settled = _settled_debt(cli_run, api, tmp_path, unique)
    creditor = settled["creditor"]
    dutch = tmp_path / "cjib.csv"
    result = cli_run("debts", "report", "--creditor", creditor, "-o", dutch)
    assert result.exit_code == 0, result.output
    content = dutch.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == DUTCH_COLUMNS
    assert [row[2:8] for row in rows[1:]] == [[creditor, f"DW-{unique}", "7,05", "705", "122751", "ARS"]]
    assert rows[1][8] == settled["tx_hash"]
    assert "betalingen / settlements" in result.stdout and "€ 7,05" in result.stdout

    english = tmp_path / "cjib-en.csv"
    answer = cli_run("debts", "report", "--creditor", creditor, "--lang", "en", "-o", english, "--json")
    assert answer.exit_code == 0, answer.output
    summary = json.loads(answer.stdout)
    assert (summary["file"], summary["settlements"], summary["total_cents"]) == (str(english), 1, 705)
    rows = list(csv.reader(io.StringIO(english.read_text(encoding="utf-8"))))
    assert rows[0] == ENGLISH_COLUMNS and rows[1][4:7] == ["7.05", "705", "122751"]

    # --since and --until are days in Dutch time, both included.
    day = datetime.fromisoformat(settled["settled_at"]).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    for since, until, count in (
        (day, day, 1),
        (day + timedelta(days=1), None, 0),
        (None, day - timedelta(days=1), 0),
    ):
        period = [*(["--since", since] if since else []), *(["--until", until] if until else [])]
        answer = cli_run("debts", "report", "--creditor", creditor, *period, "-o", "-")
        assert answer.exit_code == 0, answer.output
        assert answer.stdout_bytes.count(b"\r\n") == 1 + count, (period, answer.stdout)


def test_debts_report_refuses_a_period_that_ends_before_it_starts(cli_run):
    result = cli_run(
        "debts", "report", "--creditor", "CJIB", "--since", "2026-03-02", "--until", "2026-03-01"
    )
    assert result.exit_code == 2 and "--until" in result.stderr
