"""socialcoin merchants import and socialcoin organisations import: merchants (with the IBAN their payouts
go to) and organisations from a spreadsheet, registered on chain, all or nothing, and finished by a re-run
after an interruption; the same runner as `socialcoin admit`."""

from __future__ import annotations

import csv
import json
import signal

from click.testing import CliRunner
from eth_account import Account

from conftest import command, committed, counted, halfway, write
from socialcoin.cli.batch import HALFWAY_FILE
from socialcoin.cli.main import cli

MERCHANT_HEADER = "naam;iban;bic;gebied;doelen;wallet\n"


def iban(account: int) -> str:
    """A Dutch IBAN at bank ABNA with correct check digits."""
    body = f"ABNA{account:010d}"
    number = int("".join(str(int(ch, 36)) for ch in body + "NL00"))
    return f"NL{98 - number % 97:02d}{body}"


def merchants(api, wallets: list[str]) -> list[dict]:
    answer = api.post("/municipality/merchants/lookup", json={"wallet_addresses": wallets})
    assert answer.status_code == 200, answer.text
    return answer.json()


def organisations(api, names: list[str]) -> list[dict]:
    answer = api.post("/municipality/organisations/lookup", json={"names": names})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_merchants_import_registers_them_on_chain_with_their_iban_and_a_rerun_skips_them(
    cli_run, api, tmp_path, unique
):
    bakery, club = Account.create().address, Account.create().address
    path = write(
        tmp_path / "ondernemers.csv",
        MERCHANT_HEADER
        + f'Bakkerij {unique};{iban(1)};ABNANL2A;WK020201;"LOCAL_SPENDING;SPORT_CULTURE";{bakery}\n'
        f"Sportclub {unique};NL{iban(2)[2:4]} ABNA {iban(2)[8:]};;GM0202;sport_culture;{club.lower()}\n",
    )
    result = cli_run("merchants", "import", path, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"new": 2, "exists": 0, "rejected": 0, "done": 2, "failed": 0, "pending": 0}
    found = merchants(api, [bakery, club])
    assert [item["onchain"] for item in found] == ["done", "done"]
    shown = api.get(f"/municipality/merchants/{found[0]['merchant_id']}").json()
    assert (shown["name"], shown["iban"], shown["bic"], shown["area"]) == (
        f"Bakkerij {unique}",
        iban(1),
        "ABNANL2A",
        "WK020201",
    )
    assert sorted(shown["purposes"]) == ["LOCAL_SPENDING", "SPORT_CULTURE"]
    club_shown = api.get(f"/municipality/merchants/{found[1]['merchant_id']}").json()
    assert (club_shown["iban"], club_shown["bic"], club_shown["purposes"]) == (
        iban(2),
        None,
        ["SPORT_CULTURE"],
    )

    again = cli_run("merchants", "import", path)
    assert again.exit_code == 0, again.output
    assert (counted(again.stdout, "nieuw / new"), counted(again.stdout, "bestond al / exists")) == (0, 2)
    assert counted(again.stdout, "geregistreerd / registered") == 2


def test_organisations_import_reads_english_columns_and_registers_them_on_chain(
    cli_run, api, tmp_path, unique
):
    centre, club = Account.create().address, Account.create().address
    path = write(
        tmp_path / "organisations.csv",
        "name,area,wallet_address\n"
        f"Buurtcentrum {unique},WK020201,{centre}\n"
        f"Sportbond {unique},GM0202,{club}\n",
        encoding="utf-8",
    )
    result = cli_run("organisations", "import", path, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"] == {"new": 2, "exists": 0, "rejected": 0, "done": 2, "failed": 0, "pending": 0}
    found = organisations(api, [f"Buurtcentrum {unique}", f"Sportbond {unique}"])
    assert [item["onchain"] for item in found] == ["done", "done"]
    shown = api.get(f"/municipality/organisations/{found[1]['organisation_id']}").json()
    assert (shown["area"], shown["wallet_address"]) == ("GM0202", club)


def test_a_bad_merchants_file_is_refused_by_file_line_and_column_and_changes_nothing(
    cli_run, api, tmp_path, unique
):
    good = Account.create().address
    path = write(
        tmp_path / "ondernemers.csv",
        MERCHANT_HEADER + f"Goed {unique};{iban(3)};;WK020201;LOCAL_SPENDING;{good}\n"
        f"IBAN {unique};NL00ABNA0123456789;;WK020201;LOCAL_SPENDING;{Account.create().address}\n"
        f"Doel {unique};{iban(4)};;WK020201;BOODSCHAPPEN;{Account.create().address}\n"
        f"Zonder wallet {unique};{iban(5)};;WK020201;LOCAL_SPENDING;\n"
        f"Dubbel {unique};{iban(6)};;WK020201;LOCAL_SPENDING;{good}\n",
    )
    result = cli_run("merchants", "import", path)
    assert result.exit_code == 1
    faults = result.stderr.splitlines()
    assert faults[0].startswith(f"{path}:3:2 (iban): ") and " / " in faults[0]
    assert faults[1].startswith(f"{path}:4:5 (doelen): Doel 'BOODSCHAPPEN' bestaat niet")
    assert faults[2].startswith(f"{path}:5:6 (wallet): ") and "pincode" in faults[2] and "PIN" in faults[2]
    assert faults[3] == (
        f"{path}:6:6 (wallet): Dubbel: wallet '{good}' staat ook op regel 2. Elke regel moet uniek zijn. / "
        f"Duplicate: wallet '{good}' is also on line 2. Each line must be unique."
    )
    assert "4 regels kloppen niet; er is niets toegepast." in result.stderr
    assert merchants(api, [good])[0]["merchant_id"] is None


def test_skip_invalid_registers_the_valid_organisations_and_writes_the_rejects(
    cli_run, api, tmp_path, unique
):
    path = write(
        tmp_path / "organisaties.csv",
        "naam;gebied;walletadres\n"
        f"Goed {unique};WK020201;{Account.create().address}\n"
        f"Fout {unique};Arnhem;{Account.create().address}\n",
    )
    rejects = tmp_path / "fout.csv"
    result = cli_run("organisations", "import", path, "--skip-invalid", "--rejects", rejects, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["counts"]["new"] == 1
    assert [
        item["organisation_id"] is not None
        for item in organisations(api, [f"Goed {unique}", f"Fout {unique}"])
    ] == [
        True,
        False,
    ]
    with rejects.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert rows[0] == ["naam", "gebied", "walletadres", "regel", "reden", "reason"]
    assert rows[1][:2] + rows[1][3:4] == [f"Fout {unique}", "Arnhem", "3"]
    assert rows[1][4].startswith("gebied: ") and rows[1][5].startswith("gebied: ")


def test_an_interrupted_merchants_import_finishes_when_run_again(cli_run, api, service, tmp_path, unique):
    count, chunk = 200, 100
    wallets = [Account.create().address for _ in range(count)]
    lines = "".join(
        f"Winkel {unique} {i};{iban(1000 + i)};;WK020201;LOCAL_SPENDING;{wallets[i]}\n" for i in range(count)
    )
    path = write(tmp_path / "veel.csv", MERCHANT_HEADER + lines)
    marker, log = tmp_path / "halfway", tmp_path / "run.log"
    args = ["merchants", "import", str(path), "--chunk-size", str(chunk), "--no-wait"]
    with command(args, {**service.env, HALFWAY_FILE: str(marker)}, log) as first:
        halfway(first, marker, log)  # the first chunk is applied, the second not sent
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 130
    assert "Onderbroken. Voer hetzelfde commando opnieuw uit" in log.read_text()

    def registered() -> list[int]:
        found = merchants(api, wallets)
        return [i for i in range(count) if found[i]["merchant_id"] is not None]

    assert committed(registered, list(range(chunk))) == list(range(chunk))  # the first chunk, no more

    again = cli_run("merchants", "import", path, "--json")
    assert again.exit_code == 0, again.output
    counts = json.loads(again.stdout)["counts"]
    assert (counts["exists"], counts["new"], counts["done"]) == (chunk, count - chunk, count)
    assert {item["onchain"] for item in merchants(api, wallets)} == {"done"}


def test_the_help_names_the_columns_and_that_merchants_bring_their_own_wallet():
    merchants_help = CliRunner().invoke(cli, ["merchants", "import", "--help"], prog_name="socialcoin")
    described, example = merchants_help.stdout.split("Voorbeeld / example:")
    assert "naam;iban;bic;gebied;doelen;wallet\n" in example
    described = " ".join(described.split())
    assert "eigen wallet" in described and "own wallet" in described
    organisations_help = CliRunner().invoke(
        cli, ["organisations", "import", "--help"], prog_name="socialcoin"
    )
    assert "naam;gebied;wallet\n" in organisations_help.stdout
