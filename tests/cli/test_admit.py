"""socialcoin admit: residents from a spreadsheet, activation codes for the letters (each shown once, kept
in the letters file, reissued explicitly), all or nothing."""

from __future__ import annotations

import csv
import json
import signal
import stat

from eth_account import Account

from conftest import command, committed, counted, halfway, write
from socialcoin.cli.batch import HALFWAY_FILE

HEADER = "dossiernummer;naam;wijk;email;wallet\n"  # wijk: the old name of the buurt column, still read


def lookup(api, case_numbers: list[str]) -> dict[str, dict]:
    answer = api.post("/municipality/residents/lookup", json={"case_numbers": case_numbers})
    assert answer.status_code == 200, answer.text
    return {item["case_number"]: item for item in answer.json()}


def read_codes(path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file, delimiter=";"))


def test_admit_registers_on_chain_and_writes_the_activation_codes(cli_run, api, tmp_path, unique):
    own = Account.create().address
    path = write(
        tmp_path / "bewoners.csv",
        HEADER + f"{unique}-1;Eva de Vries;BU02020101;eva@example.nl;\n"
        f"{unique}-2;Jan Jansen;BU02020102;;\n"
        f"{unique}-3;Fatima Yilmaz;BU02020103;;{own}\n",
    )
    result = cli_run("admit", path, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"new": 3, "exists": 0, "rejected": 0, "done": 3, "failed": 0, "pending": 0}
    assert all("activation_code" not in row for row in summary["results"])  # only in the 0600 file
    assert summary["codes_written"] == 2
    found = lookup(api, [f"{unique}-{i}" for i in (1, 2, 3)])
    assert {item["onchain"] for item in found.values()} == {"done"}

    codes = tmp_path / "bewoners.activation-codes.csv"
    assert stat.S_IMODE(codes.stat().st_mode) == 0o600
    letters = read_codes(codes)
    assert [(row["dossiernummer"], row["naam"], row["buurt"]) for row in letters] == [
        (f"{unique}-1", "Eva de Vries", "BU02020101"),
        (f"{unique}-2", "Jan Jansen", "BU02020102"),
    ]
    first_codes = codes.read_bytes()

    again = cli_run("admit", path)
    assert again.exit_code == 0, again.output
    assert (counted(again.stdout, "nieuw / new"), counted(again.stdout, "bestond al / exists")) == (0, 3)
    assert codes.read_bytes() == first_codes  # kept as it was: the codes were shown once, and are in it
    assert "2 bewoners kregen eerder al een activeringscode; die wordt niet opnieuw getoond" in again.stderr
    assert "socialcoin activation-code reissue DOSSIERNUMMER" in again.stderr
    assert "2 residents were issued an activation code before; it is not shown again" in again.stderr

    # Run elsewhere (the letters file is not there): still no codes, and no empty file either.
    codes.rename(tmp_path / "brieven.csv")
    elsewhere = json.loads(cli_run("admit", path, "--json").stdout)
    assert (elsewhere["codes_written"], elsewhere["codes_issued_before"], elsewhere["codes_file"]) == (
        0,
        2,
        None,
    )
    assert not codes.exists()

    activated = api.post(
        "/auth/activate",
        json={"case_number": f"{unique}-2", "activation_code": letters[1]["activeringscode"], "pin": "40615"},
    )
    assert activated.status_code == 200, activated.text  # the code on the letter works


def test_any_fault_refuses_the_whole_file_naming_line_and_column(cli_run, api, tmp_path, unique):
    path = write(
        tmp_path / "bewoners.csv",
        "dossiernummer;naam;wijk\n"
        f"{unique}-1;Goed Ingevuld;BU02020101\n"
        "123456782;Met BSN;BU02020101\n"
        f"{unique}-3;Verkeerde Wijk;XX0202\n"
        f"{unique}-1;Dubbel;BU02020101\n",
    )
    result = cli_run("admit", path)
    assert result.exit_code == 1
    faults = result.stderr.splitlines()
    assert faults[0].startswith(f"{path}:3:1 (dossiernummer): ") and " / " in faults[0]
    assert "BSN" in faults[0]
    assert faults[1].startswith(f"{path}:4:3 (wijk): ")
    assert faults[2] == (
        f"{path}:5:1 (dossiernummer): Dubbel: dossiernummer '{unique}-1' staat ook op regel 2. Elke regel "
        f"moet uniek zijn. / Duplicate: dossiernummer '{unique}-1' is also on line 2. Each line must be "
        "unique."
    )
    assert "3 regels kloppen niet; er is niets toegepast." in result.stderr
    assert lookup(api, [f"{unique}-1", f"{unique}-3"])[f"{unique}-1"]["resident_id"] is None
    assert not (tmp_path / "bewoners.activation-codes.csv").exists()


def test_the_summary_counts_the_lines_of_the_file_in_singular_and_plural(cli_run, tmp_path, unique):
    bad = {2, 5, 7}
    lines = "".join(
        f"{unique}-{i};Bewoner {i};{'XX0202' if i in bad else 'BU02020101'};;\n" for i in range(8)
    )
    eight = write(tmp_path / "acht.csv", HEADER + lines)
    result = cli_run("admit", eight)
    assert result.exit_code == 1
    assert f"{eight}: 8 regels / 8 lines\n" in result.stdout  # every line of the file, not the rejected ones
    assert counted(result.stdout, "afgewezen / rejected") == 3
    assert "3 regels kloppen niet; er is niets toegepast. / 3 lines are invalid; nothing was applied." in (
        result.stderr
    )
    dry = cli_run("admit", eight, "--dry-run")
    assert "dry run, nothing was changed (8 regels / 8 lines)\n" in dry.stdout
    assert "3 regels kloppen niet; zo zou er niets worden toegepast. / 3 lines are invalid;" in dry.stderr

    one = write(tmp_path / "een.csv", HEADER + f"{unique}-9;Bewoner 9;XX0202;;\n")
    single = cli_run("admit", one)
    assert single.exit_code == 1
    assert f"{one}: 1 regel / 1 line\n" in single.stdout
    assert "1 regel klopt niet; er is niets toegepast. / 1 line is invalid; nothing was applied." in (
        single.stderr
    )


def test_dry_run_shows_what_would_happen_and_changes_nothing(cli_run, api, tmp_path, unique):
    path = write(tmp_path / "b.csv", HEADER + f"{unique}-1;Eva;BU02020101;;\n{unique}-2;Jan;BU02020102;;\n")
    result = cli_run("admit", path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "proef, er is niets veranderd / dry run, nothing was changed" in result.stdout
    assert counted(result.stdout, "nieuw / new") == 2
    assert f"{unique}-2" in result.stdout  # the first lines are shown
    assert all(item["resident_id"] is None for item in lookup(api, [f"{unique}-1", f"{unique}-2"]).values())
    assert not (tmp_path / "b.activation-codes.csv").exists()


def test_skip_invalid_applies_the_valid_lines_and_writes_the_rejects(cli_run, api, tmp_path, unique):
    path = write(
        tmp_path / "b.csv",
        HEADER
        + f"{unique}-1;Eva;BU02020101;;\n{unique}-2;Jan;XX0202;;\n{unique}-3;Piet;BU02020103;geen-email;\n",
    )
    rejects = tmp_path / "fout.csv"
    result = cli_run("admit", path, "--skip-invalid", "--rejects", rejects, "--no-wait", "--json")
    assert result.exit_code == 1  # some lines were refused
    summary = json.loads(result.stdout)
    assert (summary["counts"]["new"], summary["counts"]["rejected"]) == (1, 2)
    found = lookup(api, [f"{unique}-{i}" for i in (1, 2, 3)])
    assert [found[f"{unique}-{i}"]["resident_id"] is not None for i in (1, 2, 3)] == [True, False, False]
    with rejects.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert rows[0] == ["dossiernummer", "naam", "wijk", "email", "wallet", "regel", "reden", "reason"]
    assert [row[:6] for row in rows[1:]] == [
        [f"{unique}-2", "Jan", "XX0202", "", "", "3"],
        [f"{unique}-3", "Piet", "BU02020103", "geen-email", "", "4"],
    ]
    assert rows[1][6].startswith("wijk: ") and rows[2][6].startswith("email: ")
    assert rows[2][7].startswith("email: ") and rows[2][6] != rows[2][7]  # Dutch, then English


def test_ctrl_c_stops_with_exit_130_and_a_rerun_finishes(cli_run, api, service, tmp_path, unique):
    count, chunk = 300, 150
    wallets = [Account.create().address for _ in range(count)]
    lines = "".join(f"{unique}-{i};Bewoner {i};BU02020101;;{wallets[i]}\n" for i in range(count))
    path = write(tmp_path / "veel.csv", HEADER + lines)
    marker, log = tmp_path / "halfway", tmp_path / "run.log"
    args = ["admit", str(path), "--chunk-size", str(chunk), "--no-wait"]
    with command(args, {**service.env, HALFWAY_FILE: str(marker)}, log) as first:
        halfway(first, marker, log)  # the first chunk is applied, the second not sent
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 130
    told = log.read_text()
    assert "Onderbroken. Voer hetzelfde commando opnieuw uit" in told and "Interrupted." in told

    def admitted() -> list[int]:
        found = lookup(api, [f"{unique}-{i}" for i in range(count)])
        return [i for i in range(count) if found[f"{unique}-{i}"]["resident_id"] is not None]

    assert committed(admitted, list(range(chunk))) == list(range(chunk))  # the first chunk, no more

    again = cli_run("admit", path, "--json")
    assert again.exit_code == 0, again.output
    counts = json.loads(again.stdout)["counts"]
    assert (counts["exists"], counts["new"], counts["done"]) == (chunk, count - chunk, count)


def test_codes_answered_but_never_written_down_are_reissued_by_the_rerun(
    cli_run, api, service, tmp_path, unique
):
    """Ctrl-C after the backend admitted a chunk and before its codes reached the letters file: those codes
    exist nowhere (the backend shows a code once). The re-run finishes the file, reissues the codes that
    were never written down (on record, by its token) and writes them: every resident is reachable."""
    count, chunk = 6, 3
    lines = "".join(f"{unique}-{i};Bewoner {i};BU02020101;;\n" for i in range(count))
    path = write(tmp_path / "brief.csv", HEADER + lines)
    marker, log = tmp_path / "halfway", tmp_path / "run.log"
    args = ["admit", str(path), "--chunk-size", str(chunk), "--no-wait"]
    with command(args, {**service.env, HALFWAY_FILE: str(marker)}, log) as first:
        halfway(first, marker, log)  # the first chunk is admitted; its codes are not written yet
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 130
    codes = tmp_path / "brief.activation-codes.csv"
    assert not codes.exists() or read_codes(codes) == []

    again = cli_run("admit", path)
    assert again.exit_code == 0, again.output
    assert (counted(again.stdout, "bestond al / exists"), counted(again.stdout, "nieuw / new")) == (
        chunk,
        chunk,
    )
    assert "3 activeringscodes waren in een eerdere run uitgegeven maar nooit opgeschreven" in again.stderr
    assert "3 activation codes were issued in an earlier run but never written down" in again.stderr
    assert "6 activeringscodes voor de brieven staan in" in again.stderr
    letters = {row["dossiernummer"]: row["activeringscode"] for row in read_codes(codes)}
    assert sorted(letters) == sorted(f"{unique}-{i}" for i in range(count))
    for case_number, code in letters.items():
        done = api.post(
            "/auth/activate", json={"case_number": case_number, "activation_code": code, "pin": "40615"}
        )
        assert done.status_code == 200, (case_number, done.text)

    third = json.loads(cli_run("admit", path, "--json").stdout)  # nothing lost now: nothing reissued
    assert (third["codes_written"], third["codes_reissued"]) == (0, 0)
    resident_id = lookup(api, [f"{unique}-0"])[f"{unique}-0"]["resident_id"]
    issues = api.get(f"/municipality/residents/{resident_id}/activation-codes").json()
    assert [(i["reason"], i["status"], i["issued_by"]["label"]) for i in issues] == [
        ("admission", "replaced", "cli"),
        ("reissue", "used", "cli"),
    ]


def test_reissue_replaces_a_residents_code_and_writes_the_new_one_for_the_letter(
    cli_run, api, tmp_path, unique
):
    path = write(tmp_path / "b.csv", HEADER + f"{unique}-1;Eva de Vries;BU02020101;;\n")
    assert cli_run("admit", path, "--no-wait").exit_code == 0
    old = read_codes(tmp_path / "b.activation-codes.csv")[0]["activeringscode"]

    letters = tmp_path / "nieuwe-brieven.csv"
    result = cli_run("activation-code", "reissue", f"{unique}-1", "--codes", letters)
    assert result.exit_code == 0, result.output
    assert "1 nieuwe activeringscode staat in" in result.stderr and "old one stops working" in result.stderr
    assert old not in result.output  # codes go to the file only
    assert stat.S_IMODE(letters.stat().st_mode) == 0o600
    (written,) = read_codes(letters)
    assert (written["dossiernummer"], written["naam"], written["buurt"]) == (
        f"{unique}-1",
        "Eva de Vries",
        "BU02020101",
    )
    assert written["activeringscode"] != old

    refused = api.post(
        "/auth/activate", json={"case_number": f"{unique}-1", "activation_code": old, "pin": "40615"}
    )
    assert refused.json()["code"] == "activation_failed"  # the old letter is void
    history = cli_run("activation-code", "history", f"{unique}-1", "--json")
    assert history.exit_code == 0, history.output
    issues = json.loads(history.stdout)["activation_codes"]
    assert [(i["reason"], i["status"]) for i in issues] == [("admission", "replaced"), ("reissue", "current")]
    assert all(i["acknowledged_at"] for i in issues)  # both written down: by admit and by reissue
    shown = cli_run("activation-code", "history", f"{unique}-1")
    assert (
        "reissue" in shown.stdout and "cli" in shown.stdout and written["activeringscode"] not in shown.stdout
    )

    done = api.post(
        "/auth/activate",
        json={"case_number": f"{unique}-1", "activation_code": written["activeringscode"], "pin": "40615"},
    )
    assert done.status_code == 200, done.text
    late = cli_run("activation-code", "reissue", f"{unique}-1", "--codes", letters)
    assert late.exit_code == 1 and "already" in late.stderr
    assert read_codes(letters) == [written]  # nothing changed


def test_reissue_checks_every_case_number_before_it_changes_anything(cli_run, api, tmp_path, unique):
    path = write(tmp_path / "b.csv", HEADER + f"{unique}-1;Eva;BU02020101;;\n")
    assert cli_run("admit", path, "--no-wait").exit_code == 0
    letters = tmp_path / "nieuw.csv"
    result = cli_run("activation-code", "reissue", f"{unique}-1", f"{unique}-404", "--codes", letters)
    assert result.exit_code == 1
    assert f"Onbekend dossiernummer: {unique}-404" in result.stderr and "Unknown case number" in result.stderr
    assert not letters.exists()
    resident_id = lookup(api, [f"{unique}-1"])[f"{unique}-1"]["resident_id"]
    assert len(api.get(f"/municipality/residents/{resident_id}/activation-codes").json()) == 1
