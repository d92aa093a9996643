"""socialcoin admit: residents from a spreadsheet, activation codes for the letters, all or nothing."""

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
    assert codes.read_bytes() == first_codes  # the same codes again, the file complete

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
