"""The operator commands: chain administration through the backend's operator key, each waiting for its
operation and checked on chain; refusals come back Dutch and English (exit 1) and change nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from web3 import Web3

from conftest import ROOT, admit_residents, balance, task_activities, write


@pytest.fixture(scope="module")
def contracts(service):
    web3 = Web3(Web3.HTTPProvider(service.node.url))

    def contract(name: str):
        abi = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())["abi"]
        return web3.eth.contract(address=service.demo["contracts"][name], abi=abi).functions

    return {"registry": contract("ParticipantRegistry"), "issuer": contract("ActivityIssuer"), "web3": web3}


def indexed_up_to_head(api, timeout: float = 60) -> None:
    """Waits until the backend's index has read the chain's newest block (the indexer runs beside)."""
    deadline = time.monotonic() + timeout
    while (status := api.get("/public/status").json())["indexed_block"] < status["chain_head"]:
        assert time.monotonic() < deadline, f"the index did not catch up: {status}"
        time.sleep(0.1)


def frozen(contracts, address: str) -> bool:
    return contracts["registry"].participant(address).call()[3]


def test_pause_and_unpause(cli_run, contracts):
    paused = cli_run("pause", "--reason", "storing bij de bank", "--json")
    assert paused.exit_code == 0, paused.output
    assert json.loads(paused.stdout)["status"] == "done"
    assert contracts["registry"].paused().call() is True
    again = cli_run("pause")
    assert again.exit_code == 1 and " / Error: " in again.stderr  # already paused: refused
    unpaused = cli_run("unpause")
    assert unpaused.exit_code == 0, unpaused.output
    assert "status                    done" in unpaused.stdout
    assert contracts["registry"].paused().call() is False


def test_freeze_and_unfreeze_wallets(cli_run, contracts, tmp_path, unique):
    anna, bram = admit_residents(cli_run, tmp_path, unique, 2)
    wallets = [anna["wallet"], bram["wallet"]]
    result = cli_run("freeze", *wallets, "--reason", "fraudemelding")
    assert result.exit_code == 0, result.output
    assert [frozen(contracts, w) for w in wallets] == [True, True]
    missing = cli_run("freeze", anna["wallet"])
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    result = cli_run("unfreeze", bram["wallet"], "--reason", "melding onterecht")
    assert result.exit_code == 0, result.output
    assert [frozen(contracts, w) for w in wallets] == [True, False]


def test_recover_in_two_steps_moves_a_lost_wallet_and_refuses_a_custodial_one(
    cli_run, api, service, contracts, tmp_path, unique
):
    (lost,) = admit_residents(cli_run, tmp_path, unique, 1)
    new = Account.create().address
    case = ("--case", f"{unique}-Z", "--reason", "telefoon kwijt, ID gecontroleerd")
    unfrozen = cli_run("recover", "request", lost["wallet"], new, *case)
    assert unfrozen.exit_code == 1 and "Bevries wallet" in unfrozen.stderr and " / Error: " in unfrozen.stderr
    assert cli_run("freeze", lost["wallet"], "--reason", "telefoon kwijt").exit_code == 0

    requested = cli_run("recover", "request", lost["wallet"], new, *case, "--json")
    assert requested.exit_code == 0, requested.output
    executable_at = json.loads(requested.stdout)["result"]["executable_at"]
    early = cli_run("recover", "execute", lost["wallet"], new)
    assert early.exit_code == 1 and "wachttijd" in early.stderr
    shown = api.get("/municipality/residents", params={"case_number": lost["case_number"]}).json()
    assert shown[0]["wallet_address"] == lost["wallet"]

    service.node.rpc("evm_setNextBlockTimestamp", [executable_at])  # the delay has passed
    service.node.rpc("evm_mine")
    executed = cli_run("recover", "execute", lost["wallet"], new)
    assert executed.exit_code == 0, executed.output
    shown = api.get("/municipality/residents", params={"case_number": lost["case_number"]}).json()
    assert shown[0]["wallet_address"] == new
    assert frozen(contracts, new) is False

    path = write(tmp_path / "bewaard.csv", f"dossiernummer;naam;wijk\n{unique}-C;Bewaard;BU02020101\n")
    assert cli_run("admit", path).exit_code == 0
    custodial = api.get("/municipality/residents", params={"case_number": f"{unique}-C"}).json()[0]
    refused = cli_run("recover", "request", custodial["wallet_address"], Account.create().address, *case)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Fout: ") and " / Error: " in refused.stderr
    after = api.get("/municipality/residents", params={"case_number": f"{unique}-C"}).json()[0]
    assert after["wallet_address"] == custodial["wallet_address"]


def test_recover_cancel_withdraws_a_request(cli_run, contracts, tmp_path, unique):
    (lost,) = admit_residents(cli_run, tmp_path, unique, 1)
    assert cli_run("freeze", lost["wallet"], "--reason", "kwijt").exit_code == 0
    new = Account.create().address
    assert (
        cli_run("recover", "request", lost["wallet"], new, "--case", unique, "--reason", "kwijt").exit_code
        == 0
    )
    assert contracts["registry"].recoveryRequest(lost["wallet"]).call()[0] == new
    cancelled = cli_run("recover", "cancel", lost["wallet"], "--reason", "toch gevonden")
    assert cancelled.exit_code == 0, cancelled.output
    assert int(contracts["registry"].recoveryRequest(lost["wallet"]).call()[0], 16) == 0
    again = cli_run("recover", "cancel", lost["wallet"], "--reason", "nog eens")
    assert again.exit_code == 1 and " / Error: " in again.stderr


def test_minter_allowance_is_raised_and_lowered(cli_run):
    before = json.loads(cli_run("report", "--json").stdout)["minter_allowance_cents"]
    raised = cli_run("minter-allowance", "increase", "1.234,56")
    assert raised.exit_code == 0, raised.output
    assert json.loads(cli_run("report", "--json").stdout)["minter_allowance_cents"] == before + 1234_56
    lowered = cli_run("minter-allowance", "decrease", "34,56")
    assert lowered.exit_code == 0, lowered.output
    assert json.loads(cli_run("report", "--json").stdout)["minter_allowance_cents"] == before + 1200_00
    bad = cli_run("minter-allowance", "increase", "veel")
    assert bad.exit_code == 2 and "geen bedrag in euro" in bad.stderr
    gone = cli_run("minter-allowance", "set", "100")
    assert gone.exit_code == 2  # no absolute setter any more


def test_a_new_coin_minted_expired_and_reclaimed(cli_run, api, service, contracts, tmp_path, unique):
    web3 = contracts["web3"]
    now = web3.eth.get_block("latest")["timestamp"]
    expiry = now + 120
    symbol = "V" + unique[:6]
    result = cli_run(
        "coin", "create", "--name", f"Socialcoin Vervoer {unique}", "--symbol", symbol,
        "--purpose", "MOBILITY", "--area", "GM0202", "--expiry", expiry, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    coin = json.loads(result.stdout)["result"]["coin"]

    # Something to reclaim: a reward in the new coin, through the command.
    ends = (datetime.now(UTC) + timedelta(seconds=100)).isoformat()  # before the coin's expiry
    (activity,) = task_activities(
        api, coin, f"Meerijden {unique}", area="GM0202", value_cents_per_unit=500, ends_on=ends, task_days=1
    )
    (rider,) = admit_residents(cli_run, tmp_path, unique, 1)
    rewards = write(
        tmp_path / "ritten.csv",
        f"dossiernummer;activiteit;eenheden;claimkenmerk\n{rider['case_number']};{activity};2;{unique}/rit\n",
    )
    assert cli_run("mint", rewards).exit_code == 0
    assert balance(service.node, coin, rider["wallet"]) == 10_00

    early = cli_run("reclaim", symbol)
    assert early.exit_code == 1 and " / Error: " in early.stderr  # not expired yet: refused
    assert balance(service.node, coin, rider["wallet"]) == 10_00

    service.node.rpc("evm_setNextBlockTimestamp", [expiry])  # the chain's clock, moved past the expiry
    service.node.rpc("evm_mine")
    indexed_up_to_head(api)  # reclaiming every holder waits for the index to pass the expiry
    allowance = json.loads(cli_run("report", "--json").stdout)["minter_allowance_cents"]
    reclaimed = cli_run("reclaim", coin)
    assert reclaimed.exit_code == 0, reclaimed.output
    assert balance(service.node, coin, rider["wallet"]) == 0
    assert json.loads(cli_run("report", "--json").stdout)["minter_allowance_cents"] == allowance + 10_00
