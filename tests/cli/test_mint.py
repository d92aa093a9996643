"""socialcoin mint: a month's rewards from a spreadsheet, each minted once, all or nothing."""

from __future__ import annotations

import json

import pytest

from conftest import admit_residents, balance, write
from socialcoin.cli.batch import REWARDS, BatchRun, Options
from socialcoin.cli.client import ApiError

HEADER = "dossiernummer;activiteit;eenheden;claimkenmerk\n"


@pytest.fixture(scope="module")
def garden(api) -> dict:
    """The demo's 'Buurtmoestuin onderhouden': GKW in wijk Geitenkamp, 8 euro an hour, at most 20 a month."""
    activities = api.get("/municipality/activities").json()
    return next(a for a in activities if a["title"].startswith("Buurtmoestuin"))


def lookup(api, references: list[str]) -> dict[str, dict]:
    answer = api.post("/municipality/rewards/lookup", json={"claim_references": references})
    assert answer.status_code == 200, answer.text
    return {item["claim_reference"]: item for item in answer.json()}


def test_mint_grants_each_reward_once_also_when_run_twice(cli_run, api, service, garden, tmp_path, unique):
    anna, bram = admit_residents(cli_run, tmp_path, unique, 2)
    path = write(
        tmp_path / "maart.csv",
        HEADER
        + f"{anna['case_number']};{garden['id']};3;{unique}/1\n"
        + f"{bram['case_number']};{garden['id']};2;{unique}/2\n",
    )
    result = cli_run("mint", path, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"new": 2, "exists": 0, "rejected": 0, "minted": 2, "failed": 0, "pending": 0}
    assert {r["amount_cents"] for r in summary["results"]} == {3 * 800, 2 * 800}
    coin = service.demo["coins"]["GKW"]
    balances = [balance(service.node, coin, resident["wallet"]) for resident in (anna, bram)]
    assert balances == [2400, 1600]

    again = cli_run("mint", path)
    assert again.exit_code == 0, again.output
    assert "bestond al / exists" in again.stdout and "gemunt / minted" in again.stdout
    assert [balance(service.node, coin, resident["wallet"]) for resident in (anna, bram)] == balances
    assert {item["mint"] for item in lookup(api, [f"{unique}/1", f"{unique}/2"]).values()} == {"minted"}


def test_bad_rows_are_named_by_line_and_column_and_nothing_is_minted(cli_run, api, garden, tmp_path, unique):
    anna, bram = admit_residents(cli_run, tmp_path, unique, 2)
    earlier = write(
        tmp_path / "eerder.csv", HEADER + f"{anna['case_number']};{garden['id']};1;{unique}/eerder\n"
    )
    assert cli_run("mint", earlier).exit_code == 0
    budgets = api.get("/municipality/budgets").json()["programmes"]
    activity = garden["id"]
    path = write(
        tmp_path / "april.csv",
        HEADER + f"{anna['case_number']};{activity};1;{unique}/goed\n"  # line 2: fine on its own
        f"ONBEKEND-{unique};{activity};1;{unique}/a\n"  # 3: no such resident
        f"{bram['case_number']};{activity};-1;{unique}/b\n"  # 4: negative units
        f"{bram['case_number']};{activity};21;{unique}/c\n"  # 5: over the cap of 20 hours a month
        f"{bram['case_number']};{activity};1;{unique}/goed\n"  # 6: the reference of line 2 again
        f"{bram['case_number']};{activity};2;{unique}/eerder\n",  # 7: a reference minted before
    )
    result = cli_run("mint", path)
    assert result.exit_code == 1
    faults = [line for line in result.stderr.splitlines() if line.startswith(str(path))]
    places = [fault.split(": ", 1)[0].removeprefix(str(path)) for fault in faults]
    assert places == [
        ":3:1 (dossiernummer)",
        ":4:3 (eenheden)",
        ":5:3 (eenheden)",
        ":6:4 (claimkenmerk)",  # the reference of line 2 again
        ":7:4 (claimkenmerk)",  # a reference used before: it differs in resident and units, both said
        ":7:4 (claimkenmerk)",
    ]
    assert all(" / " in fault for fault in faults)  # Dutch, English beside
    assert "-1 mag niet; het getal moet groter dan 0 zijn. / -1 is not allowed" in faults[1]
    assert f"Claimreferentie {unique}/eerder is al gebruikt" in faults[4]
    assert "met dossier" in faults[4] and "met aantal eenheden 1; in het bestand staat 2" in faults[5]
    assert "5 regels kloppen niet; er is niets toegepast." in result.stderr
    found = lookup(api, [f"{unique}/goed", f"{unique}/c", f"{unique}/eerder"])
    assert found[f"{unique}/goed"]["reward_id"] is None and found[f"{unique}/c"]["reward_id"] is None
    assert found[f"{unique}/eerder"]["amount_cents"] == 800  # the earlier reward is as it was
    assert api.get("/municipality/budgets").json()["programmes"] == budgets


def test_the_servers_claim_reference_faults_point_at_the_claim_reference_column(tmp_path):
    """The server names what differs from the earlier reward (case_number, units); in the file, the claim
    reference is what was used again, so its column is at fault. The same for a reference twice in one
    request (which the command finds itself before sending)."""
    path = write(tmp_path / "r.csv", HEADER + "A-1;4;1;maart/1\nA-2;4;2;maart/2\n")
    run = BatchRun(None, REWARDS, path, Options())
    refused = ApiError(
        422,
        {
            "code": "batch_invalid",
            "errors": [
                {
                    "line": 2,
                    "field": "case_number",
                    "code": "claim_reference_reused",
                    "detail": "a",
                    "detail_en": "b",
                },
                {
                    "line": 2,
                    "field": "units",
                    "code": "claim_reference_reused",
                    "detail": "c",
                    "detail_en": "d",
                },
                {"line": 3, "field": "claim_reference", "code": "claim_reference_duplicate", "detail": "e"},
                {"line": 3, "field": "units", "code": "cap_exceeded", "detail": "f", "detail_en": "g"},
            ],
        },
    )
    faults = run._server_faults(refused, run.table.rows)
    assert [(f.line, f.column, f.column_name, f.nl) for f in faults] == [
        (2, 4, "claimkenmerk", "a"),
        (2, 4, "claimkenmerk", "c"),
        (3, 4, "claimkenmerk", "e"),
        (3, 3, "eenheden", "f"),  # other faults stay where the server puts them
    ]


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        (HEADER + "A-1;1;1;Café/1\n", "cp1252", "'CSV UTF-8 (gescheiden door komma's)'"),
        ("dossiernummer;activiteit;aantal;claimkenmerk\nA-1;1;1;x/1\n", "utf-8-sig", "Onbekende kolom"),
        ("", "utf-8", "Het bestand is leeg. / The file is empty."),
    ],
)
def test_unreadable_files_are_refused_before_anything_is_sent(cli_run, tmp_path, content, encoding, message):
    path = write(tmp_path / "rewards.csv", content, encoding)
    result = cli_run("mint", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:") and message in result.stderr


def test_mint_while_paused_is_refused_with_the_reason_and_a_rerun_after_the_pause_mints(
    cli_run, api, service, garden, tmp_path, unique
):
    (anna,) = admit_residents(cli_run, tmp_path, unique, 1)
    path = write(tmp_path / "pauze.csv", HEADER + f"{anna['case_number']};{garden['id']};2;{unique}/p\n")
    assert cli_run("pause", "--reason", "onderhoud").exit_code == 0
    try:
        refused = cli_run("mint", path, "--no-wait")
        assert refused.exit_code == 1, refused.output
        assert "staat stil" in refused.stderr and "paused" in refused.stderr
        assert lookup(api, [f"{unique}/p"])[f"{unique}/p"]["mint"] is None  # nothing recorded
    finally:
        assert cli_run("unpause").exit_code == 0
    minted = cli_run("mint", path, "--json")
    assert minted.exit_code == 0, minted.output
    assert json.loads(minted.stdout)["counts"]["minted"] == 1
    assert balance(service.node, service.demo["coins"]["GKW"], anna["wallet"]) == 2 * 800
