"""The admin scripts (scripts/*.py) against a deployed system: what each one does on chain, and its
refusals (bad arguments, a missing role, a wrong keystore password), which come before anything is
sent. The scripts find the system through SOCIALCOIN_DEPLOYMENT, as an operator's would through
deployments/<network>.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from brownie import chain, network
from eth_account import Account
from eth_utils import keccak

from scripts import (
    create_coin,
    freeze,
    minter_budget,
    pause,
    reclaim,
    recover,
    register,
    roles,
    unfreeze,
    unpause,
    verifiers,
)
from scripts._admin import DEPLOYMENT, KEYSTORE, KEYSTORE_PASSWORD, OPERATOR_KEY, OPERATOR_ROLES, Refusal
from scripts.deploy import write_deployment
from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import Kind, Purpose, purpose_set
from support import BUURT, GEMEENTE, WIJK, local_account

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def refusal(run, *args) -> str:
    """The message of the refusal that running the script with these arguments gives."""
    with pytest.raises(Refusal) as refused:
        run(*args)
    return refused.value.text()


@pytest.fixture(scope="module")
def deployment(system, tmp_path_factory) -> Path:
    return write_deployment(system, tmp_path_factory.mktemp("deployment") / "deployment.json")


@pytest.fixture(autouse=True)
def environment(monkeypatch, deployment, tmp_path) -> Path:
    """A fresh copy of the deployment file for each test, and no key in the environment."""
    path = tmp_path / "deployment.json"
    path.write_text(deployment.read_text())
    monkeypatch.setenv(DEPLOYMENT, str(path))
    for name in (KEYSTORE, KEYSTORE_PASSWORD, OPERATOR_KEY):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture(scope="module")
def operator(system, admin):
    """An operator's key with every operational role, as the admin sets it up."""
    account = local_account("operator")
    for contract_name, role in OPERATOR_ROLES:
        contract = getattr(system, contract_name)
        contract.grantRole(getattr(contract, role)(), account, {"from": admin})
    return account


@pytest.fixture
def as_operator(monkeypatch, operator):
    monkeypatch.setenv(OPERATOR_KEY, operator.private_key)
    return operator


@pytest.fixture
def keystore(tmp_path, operator) -> Path:
    """The operator's key in an eth-account keystore file (a cheap KDF, to keep the test fast)."""
    path = tmp_path / "operator.json"
    path.write_text(json.dumps(Account.encrypt(operator.private_key, PASSWORD, kdf="pbkdf2", iterations=2)))
    return path


def participant(registry, account) -> tuple:
    kind, area, purposes, frozen, record_hash = registry.participant(account)
    return int(kind), bytes(area), int(purposes), bool(frozen), bytes(record_hash)


# --------------------------------------------------------------------------------------------------
# Coins
# --------------------------------------------------------------------------------------------------


def test_create_coin_creates_the_coin_and_adds_it_to_the_deployment_file(
    environment, registry, admin, capsys
):
    tx = create_coin.main(
        "name=Socialcoin Geitenkamp - Sport",
        "symbol=GKS",
        "purpose=sport_culture",
        f"area={WIJK}",
        "expiry=2099-12-31",
        "person_to_person=ja",
        "redemption_grace_days=30",
        "holding_cap=3000",
    )
    created = tx.events["CoinCreated"]
    assert (created["redemptionGrace"], created["holdingCap"]) == (30 * 24 * 3600, 300_000)
    assert (created["symbol"], created["purposeId"], bytes(created["area"])) == (
        "GKS",
        Purpose.SPORT_CULTURE,
        to_bytes8(WIJK),
    )
    assert created["personToPerson"] is True
    assert created["expiry"] == 4102441200  # 2100-01-01 00:00 in Amsterdam: the coin is valid on 31 December
    assert registry.isCoin(created["coin"])
    assert json.loads(environment.read_text())["coins"]["GKS"] == created["coin"]
    output = capsys.readouterr().out
    assert f"brownie's accounts[0] ({admin.address})" in output  # the development fallback says so
    assert tx.txid in output


def test_create_coin_lists_every_bad_argument_and_creates_nothing(registry):
    message = refusal(
        create_coin.main,
        "symbol=GKS",
        "purpose=LOCAL_SPENDIN",
        f"area={BUURT}",
        "expiry=31-12-2027",
        "colour=red",
    )
    assert "argument 'name' ontbreekt" in message and "argument 'name' is missing" in message
    assert "doel 'LOCAL_SPENDIN' bestaat niet; bekend: DEBT_SETTLEMENT" in message
    assert "purpose 'LOCAL_SPENDIN' does not exist" in message
    assert f"not to {BUURT}" in message
    assert "'31-12-2027' is geen datum (JJJJ-MM-DD)" in message
    assert "onbekend argument 'colour'" in message and "unknown argument 'colour'" in message
    assert "brownie run scripts/create_coin.py main" in message  # the usage


def test_create_coin_refuses_a_grace_without_expiry_and_bad_grace_or_cap(registry):
    before = registry.coins()
    message = refusal(
        create_coin.main,
        "name=Socialcoin Geitenkamp - Energie",
        "symbol=GKE",
        "purpose=ENERGY",
        f"area={WIJK}",
        "redemption_grace_days=30",
    )
    assert "redemption_grace_days needs a coin with an expiry" in message
    message = refusal(
        create_coin.main,
        "name=Socialcoin Geitenkamp - Energie",
        "symbol=GKE",
        "purpose=ENERGY",
        f"area={WIJK}",
        "expiry=2099-12-31",
        "redemption_grace_days=a month",
        "holding_cap=3.000,00",
    )
    assert "'a month' is not a number of days" in message
    assert "'3.000,00' is not an amount in euros" in message
    assert registry.coins() == before
    assert list(registry.coins()) == []


def test_create_coin_refuses_a_taken_symbol_a_second_live_coin_and_a_past_expiry(wijk_coin):
    common = ("name=Nieuwe munt", f"area={WIJK}")
    message = refusal(create_coin.main, *common, "symbol=gkw", "purpose=ENERGY")
    assert f"symbol gkw already belongs to coin GKW ({wijk_coin.address})" in message
    message = refusal(create_coin.main, *common, "symbol=GKN", "purpose=LOCAL_SPENDING")
    assert f"a live coin for purpose LOCAL_SPENDING in {WIJK} exists: GKW ({wijk_coin.address})" in message
    message = refusal(create_coin.main, *common, "symbol=GKN", "purpose=ENERGY", "expiry=2020-01-01")
    assert "expiry ligt in het verleden" in message


def test_create_coin_needs_the_factory_admin_and_says_who_that_is(as_operator, factory, admin):
    message = refusal(create_coin.main, "name=X", "symbol=X", "purpose=ENERGY", f"area={GEMEENTE}")
    assert (
        f"{as_operator.address} lacks role DEFAULT_ADMIN_ROLE on CoinFactory ({factory.address})" in message
    )
    assert f"alleen de beheerder van CoinFactory, nu {admin.address}" in message


# --------------------------------------------------------------------------------------------------
# Participants
# --------------------------------------------------------------------------------------------------


def test_register_puts_a_salted_hash_of_the_record_on_chain_never_the_record(as_operator, registry):
    first, second = local_account("new resident"), local_account("second wallet")
    tx = register.main(f"address={first.address}", "kind=bewoner", f"area={BUURT}", "record=Z-2026-0042")
    event = tx.events["ParticipantRegistered"]
    assert (event["account"], event["kind"], bytes(event["area"])) == (
        first.address,
        Kind.RESIDENT,
        to_bytes8(BUURT),
    )
    stored = participant(registry, first)
    assert stored[:4] == (Kind.RESIDENT, to_bytes8(BUURT), 0, False)
    assert stored[4] not in (b"\0" * 32, keccak(text="Z-2026-0042"))
    # The same record again (a second wallet) gets another hash: the hash cannot be matched back.
    register.main(
        f"address={second.address}",
        "kind=ondernemer",
        f"area={WIJK}",
        "purposes=LOCAL_SPENDING+sport_culture",
        "record=Z-2026-0042",
    )
    assert participant(registry, second)[:3] == (
        Kind.MERCHANT,
        to_bytes8(WIJK),
        purpose_set(Purpose.LOCAL_SPENDING, Purpose.SPORT_CULTURE),
    )
    assert participant(registry, second)[4] != stored[4]


def test_register_a_dutch_excel_file_and_run_it_again_after_an_interruption(as_operator, registry, tmp_path):
    people = [local_account(f"csv participant {i}") for i in range(3)]
    rows = [
        f"{people[0].address};bewoner;{BUURT};;Z-1",
        f"{people[1].address};ondernemer;{WIJK};LOCAL_SPENDING+SPORT_CULTURE;KVK-1",
        f"{people[2].address};organisatie;{GEMEENTE};;KVK-2",
    ]
    path = tmp_path / "deelnemers.csv"
    # Excel's "CSV UTF-8" with Dutch settings: a byte-order mark, semicolons, CRLF.
    path.write_bytes(
        ("Address;Kind;Area;Purposes;Record\r\n" + "\r\n".join(rows) + "\r\n").encode("utf-8-sig")
    )
    # An earlier run was interrupted after the first participant.
    register.main(f"address={people[0].address}", "kind=resident", f"area={BUURT}", "record=Z-1")

    txs = register.batch(f"file={path}")
    assert len(txs) == 1
    registered = [event["account"] for event in txs[0].events["ParticipantRegistered"]]
    assert registered == [people[1].address, people[2].address]
    assert participant(registry, people[1])[:3] == (
        Kind.MERCHANT,
        to_bytes8(WIJK),
        purpose_set(Purpose.LOCAL_SPENDING, Purpose.SPORT_CULTURE),
    )
    assert participant(registry, people[2])[0] == Kind.ORGANISATION
    assert register.batch(f"file={path}") == []  # a third run finds nothing to do


def test_register_reports_every_bad_row_with_its_line_and_column_and_sends_nothing(
    as_operator, registry, resident, tmp_path
):
    fresh = local_account("fresh participant")
    letter = next(i for i, char in enumerate(fresh.address) if i > 1 and char.isalpha())
    mistyped = fresh.address[:letter] + fresh.address[letter].swapcase() + fresh.address[letter + 1 :]
    rows = [
        f"{fresh.address},bewoner,{BUURT},,Z-1",  # line 2: fine on its own
        f"0x1234,bewoner,{BUURT},,Z-2",  # line 3
        f"{local_account('a').address},burger,{BUURT},,Z-3",  # line 4
        f"{local_account('b').address},bewoner,WK12,,Z-4",  # line 5
        f"{local_account('c').address},ondernemer,{WIJK},LOCAL_SPENDING+BAKERY,Z-5",  # line 6
        f"{local_account('d').address},bewoner,{BUURT},,",  # line 7
        f"{fresh.address},bewoner,{BUURT},,Z-8",  # line 8: the same address as line 2
        f"{resident.address},bewoner,{WIJK},,Z-9",  # line 9: registered with another area
        f"{local_account('e').address},bewoner",  # line 10
        f"{mistyped},bewoner,{BUURT},,Z-11",  # line 11
    ]
    path = tmp_path / "bad.csv"
    path.write_text("address,kind,area,purposes,record\n" + "\n".join(rows) + "\n")
    message = refusal(register.batch, f"file={path}")
    for where, text in [
        (f"{path}:3 address", "'0x1234' is geen adres"),
        (f"{path}:4 kind", "soort 'burger' bestaat niet"),
        (f"{path}:5 area", "'WK12' is geen CBS-gebiedscode"),
        (f"{path}:6 purposes", "doel 'BAKERY' bestaat niet"),
        (f"{path}:7 record", "mag niet leeg zijn"),
        (f"{path}:10", "2 kolommen in plaats van 5"),
        (f"{path}:11 address", "de hoofdletters van"),
        (f"{path}:8 address", "zelfde address als op regel 2"),
        (
            f"{path}:9 address",
            f"{resident.address} is al geregistreerd met andere gegevens (resident {BUURT} -)",
        ),
    ]:
        assert f"{where}: {text}" in message
    assert "9 fout(en)" in message
    assert participant(registry, fresh)[0] == 0


def test_register_refuses_a_file_with_other_columns_or_another_encoding(as_operator, tmp_path):
    path = tmp_path / "kolommen.csv"
    path.write_text("address,kind,area,purpose,naam\n")
    message = refusal(register.batch, f"file={path}")
    assert "missing: purposes, record; unknown: purpose, naam" in message
    path.write_bytes("address,kind,area,purposes,record\n0x0,bewoner,GM0202,,Jos\xe9\n".encode("latin-1"))
    assert "is not UTF-8" in refusal(register.batch, f"file={path}")
    assert "cannot be read" in refusal(register.batch, f"file={tmp_path / 'missing.csv'}")


def test_register_without_the_registrar_role_names_the_role_and_who_grants_it(registry, admin):
    account = local_account("unregistered")
    message = refusal(
        register.main, f"address={account.address}", "kind=bewoner", f"area={BUURT}", "record=Z"
    )
    assert (
        f"{admin.address} heeft rol REGISTRAR_ROLE op ParticipantRegistry ({registry.address}) niet"
        in message
    )
    assert (
        f"the admin {admin.address} can grant it: brownie run scripts/roles.py grant role=REGISTRAR_ROLE "
        f"contract=registry account={admin.address} --network {network.show_active()}"
    ) in message
    assert participant(registry, account)[0] == 0


def test_freeze_and_unfreeze_skip_who_already_is(as_operator, registry, resident, neighbour):
    tx = freeze.main(f"addresses={resident.address}, {neighbour.address.lower()}")
    assert [event["account"] for event in tx.events["ParticipantFrozen"]] == [
        resident.address,
        neighbour.address,
    ]
    assert participant(registry, resident)[3] and participant(registry, neighbour)[3]
    assert freeze.main(f"addresses={resident.address}") is None

    unfreeze.main(f"addresses={resident.address}")
    tx = unfreeze.main(f"addresses={resident.address},{neighbour.address}")
    assert [event["account"] for event in tx.events["ParticipantUnfrozen"]] == [neighbour.address]
    assert not participant(registry, neighbour)[3]


def test_freeze_refuses_unregistered_duplicated_and_mistyped_addresses(as_operator, resident):
    stranger = local_account("never registered")
    message = refusal(freeze.main, f"addresses={resident.address},{stranger.address}")
    assert f"{stranger.address}: niet geregistreerd" in message
    message = refusal(freeze.main, f"addresses={resident.address},{resident.address}")
    assert "is listed twice" in message
    message = refusal(unfreeze.main, f"addresses={resident.address[:-1]}")
    assert "is not an address" in message
    assert "brownie run scripts/unfreeze.py main addresses=" in message


def test_recover_requests_then_executes_after_the_delay(
    as_operator, registry, resident, wijk_coin, debt_coin, give, capsys
):
    give(wijk_coin, resident, 300)
    give(debt_coin, resident, 500)
    kind, area, purposes, _frozen, record_hash = participant(registry, resident)
    replacement = local_account("replacement wallet")
    message = refusal(recover.request, f"lost={resident.address}", f"new={replacement.address}", "case=Z-1")
    assert "freeze the wallet first: brownie run scripts/freeze.py main" in message

    freeze.main(f"addresses={resident.address}")
    tx = recover.request(f"lost={resident.address}", f"new={replacement.address}", "case=Z-2026-0042")
    requested = tx.events["RecoveryRequested"]
    assert (requested["lost"], requested["replacement"]) == (resident.address, replacement.address)
    assert bytes(requested["caseReference"]) != b"\0" * 32
    assert "It can be executed from" in capsys.readouterr().out
    assert "the delay has not passed" in refusal(recover.execute, f"lost={resident.address}")
    assert recover.show(f"lost={resident.address}")[0] == replacement.address

    chain.sleep(registry.recoveryDelay() + 1)
    chain.mine()
    tx = recover.execute(f"lost={resident.address}")
    assert tx.events["ParticipantRecovered"]["replacement"] == replacement.address
    assert sorted(event["value"] for event in tx.events["BalanceRecovered"]) == [300, 500]
    assert (wijk_coin.balanceOf(replacement), debt_coin.balanceOf(replacement)) == (300, 500)
    assert participant(registry, replacement) == (kind, area, purposes, False, record_hash)
    assert participant(registry, resident)[0] == 0
    assert recover.show(f"lost={resident.address}") is None
    assert "this wallet was recovered and stays out of use" in capsys.readouterr().out


def test_recover_refuses_a_registered_or_lost_new_wallet_and_an_unregistered_lost_one(
    as_operator, registry, resident, neighbour
):
    freeze.main(f"addresses={resident.address},{neighbour.address}")
    message = refusal(recover.request, f"lost={resident.address}", f"new={neighbour.address}", "case=Z")
    assert f"new={neighbour.address} is registered already" in message
    stranger = local_account("stranger wallet")
    assert f"lost={stranger.address} is not registered" in refusal(
        recover.request, f"lost={stranger.address}", f"new={local_account('x').address}", "case=Z"
    )
    assert "lost en new zijn hetzelfde adres" in refusal(
        recover.request, f"lost={resident.address}", f"new={resident.address}", "case=Z"
    )
    assert "argument 'case' is missing" in refusal(
        recover.request, f"lost={resident.address}", f"new={local_account('y').address}"
    )
    assert "choose request, execute (after the delay), cancel (withdraw) or show" in refusal(recover.main)
    assert f"lost={resident.address} has no pending request" in refusal(
        recover.execute, f"lost={resident.address}"
    )


def test_recover_cancel_by_the_admin_and_refused_for_others(
    monkeypatch, as_operator, registry, resident, admin
):
    freeze.main(f"addresses={resident.address}")
    recover.request(f"lost={resident.address}", f"new={local_account('new').address}", "case=Z-7")
    # The operator holds compliance, not the admin role: it cannot withdraw the request.
    assert f"{as_operator.address} lacks role DEFAULT_ADMIN_ROLE on ParticipantRegistry" in refusal(
        recover.cancel, f"lost={resident.address}"
    )
    monkeypatch.delenv(OPERATOR_KEY)  # the development chain's accounts[0], the admin
    tx = recover.cancel(f"lost={resident.address}")
    assert tx.events["RecoveryCancelled"]["cancelledBy"] == admin.address
    assert recover.show(f"lost={resident.address}") is None
    assert "has no pending request" in refusal(recover.cancel, f"lost={resident.address}")


def test_recover_cancel_by_the_lost_key_itself(monkeypatch, as_operator, registry, resident):
    freeze.main(f"addresses={resident.address}")
    recover.request(f"lost={resident.address}", f"new={local_account('new').address}", "case=Z-8")
    monkeypatch.setenv(OPERATOR_KEY, resident.private_key)
    tx = recover.cancel(f"lost={resident.address}")
    assert tx.events["RecoveryCancelled"]["cancelledBy"] == resident.address


def test_recover_refuses_while_paused(as_operator, registry, pauser, resident):
    freeze.main(f"addresses={resident.address}")
    registry.pause({"from": pauser})
    message = refusal(
        recover.request, f"lost={resident.address}", f"new={local_account('z').address}", "case=Z"
    )
    assert "a recovery waits until the pause ends" in message


# --------------------------------------------------------------------------------------------------
# Verifiers, minters, the pause, expired coins, roles
# --------------------------------------------------------------------------------------------------


def test_verifiers_add_and_remove(as_operator, issuer, wijk_coin, verifier):
    tx = verifiers.add("coin=gkw", f"verifier={verifier.address}")
    changed = tx.events["VerifierAuthorizationChanged"]
    assert (changed["coin"], changed["verifier"], changed["authorized"]) == (
        wijk_coin,
        verifier.address,
        True,
    )
    assert issuer.isVerifier(wijk_coin, verifier)
    assert verifiers.add(f"coin={wijk_coin.address}", f"verifier={verifier.address}") is None  # nothing to do

    tx = verifiers.remove("coin=GKW", f"verifier={verifier.address}")
    assert tx.events["VerifierAuthorizationChanged"]["authorized"] is False
    assert not issuer.isVerifier(wijk_coin, verifier)


def test_verifiers_refuse_an_unknown_coin_and_a_missing_verb(as_operator, wijk_coin, verifier):
    message = refusal(verifiers.add, "coin=XYZ", "verifier=0x12")
    assert f"coin=XYZ: die munt bestaat niet in deze registry; bekend: GKW ({wijk_coin.address})" in message
    assert "verifier=0x12: '0x12' is geen adres" in message
    assert "choose add (authorise) or remove (revoke)" in refusal(verifiers.main)


def test_minter_budget_increase_decrease_show_and_remove(as_operator, issuer):
    minter = local_account("a new minter")
    assert f"{minter.address} is not a minter; there is no budget to lower" in refusal(
        minter_budget.decrease, f"minter={minter.address}", "euros=1"
    )
    tx = minter_budget.increase(f"minter={minter.address}", "euros=50000,5")
    changed = tx.events["MinterAllowanceChanged"]
    assert (changed["minter"], changed["oldAllowance"], changed["newAllowance"]) == (minter, 0, 5_000_050)
    tx = minter_budget.increase(f"minter={minter.address}", "euros=10")
    assert tx.events["MinterAllowanceChanged"]["newAllowance"] == 5_001_050
    tx = minter_budget.decrease(f"minter={minter.address}", "euros=1000")
    assert tx.events["MinterAllowanceChanged"]["newAllowance"] == 4_901_050
    assert minter_budget.show(f"minter={minter.address}") == 4_901_050

    tx = minter_budget.remove(f"minter={minter.address}")
    changed = tx.events["MinterAllowanceChanged"]
    assert (changed["minter"], changed["newAllowance"]) == (minter, 0)
    assert issuer.minterAllowance(minter) == 0
    assert not issuer.hasRole(issuer.MINTER_ROLE(), minter)
    assert f"{minter.address} is not a minter" in refusal(minter_budget.remove, f"minter={minter.address}")


def test_minter_budget_refuses_thousands_separators_and_an_operator_without_the_role(admin, minter):
    message = refusal(minter_budget.increase, f"minter={minter.address}", "euros=50.000,00")
    assert "'50.000,00' is geen bedrag in euro's" in message
    assert "euros=0: moet meer dan 0 zijn" in refusal(
        minter_budget.increase, f"minter={minter.address}", "euros=0"
    )
    message = refusal(minter_budget.increase, f"minter={minter.address}", "euros=10")
    assert "lacks role MASTER_MINTER_ROLE on ActivityIssuer" in message


def test_pause_and_unpause(as_operator, registry):
    tx = pause.main()
    assert tx.events["Paused"]["account"] == as_operator
    assert registry.paused()
    assert pause.main() is None  # already paused: nothing sent
    tx = unpause.main()
    assert tx.events["Unpaused"]["account"] == as_operator
    assert not registry.paused()
    assert unpause.main() is None


def test_pause_takes_no_arguments_and_needs_the_pauser_role(registry):
    assert "unknown argument 'now'" in refusal(pause.main, "now=yes")
    assert "lacks role PAUSER_ROLE on ParticipantRegistry" in refusal(pause.main)
    assert not registry.paused()


def test_reclaim_expired_coins_into_a_minters_budget(
    as_operator, issuer, make_coin, give, resident, neighbour, funded_minter
):
    old = make_coin(Purpose.ENERGY, WIJK, expiry=chain.time() + 3600, symbol="OLD")
    give(old, resident, 300)
    give(old, neighbour, 200)
    message = refusal(reclaim.main, "coin=OLD")
    assert f"coin OLD ({old.address}) expires only at" in message

    chain.sleep(3700)
    chain.mine()
    allowance = issuer.minterAllowance(funded_minter)
    txs = reclaim.main("coin=OLD", f"credit_minter={funded_minter.address}")
    reclaimed = txs[0].events["ExpiredCoinsReclaimed"]
    assert (reclaimed["coin"], reclaimed["amount"], reclaimed["holders"]) == (old, 500, 2)
    assert (old.balanceOf(resident), old.balanceOf(neighbour), old.totalSupply()) == (0, 0, 0)
    assert issuer.minterAllowance(funded_minter) == allowance + 500
    assert reclaim.main("coin=OLD") == []  # nothing left


def test_reclaim_leaves_merchants_out_during_the_grace_and_pays_them_out_after(
    as_operator, issuer, make_coin, give, resident, merchant, capsys
):
    old = make_coin(Purpose.LOCAL_SPENDING, GEMEENTE, expiry=chain.time() + 3600, grace=3600, symbol="OLD")
    give(old, resident, 500)
    old.transfer(merchant, 200, {"from": resident})
    chain.sleep(3700)
    chain.mine()
    capsys.readouterr()
    txs = reclaim.main("coin=OLD")
    assert "1 merchant(s) may redeem their OLD themselves until" in capsys.readouterr().out
    assert txs[0].events["ExpiredCoinsReclaimed"]["holders"] == 1
    assert (old.balanceOf(resident), old.balanceOf(merchant)) == (0, 200)

    chain.sleep(3700)
    chain.mine()
    txs = reclaim.main("coin=OLD")
    assert "EUR 2.00 of merchants becomes payouts in euros" in capsys.readouterr().out
    assert txs[0].events["PayoutRedeemed"]["value"] == 200
    assert old.totalSupply() == 0
    assert reclaim.main("coin=OLD") == []


def test_reclaim_refuses_a_coin_that_never_expires_and_a_credit_to_a_non_minter(
    as_operator, wijk_coin, make_coin, give, resident, funded_minter
):
    assert f"coin GKW ({wijk_coin.address}) never expires" in refusal(reclaim.main, "coin=GKW")
    old = make_coin(Purpose.ENERGY, WIJK, expiry=chain.time() + 60, symbol="OLD")
    give(old, resident, 100)
    chain.sleep(120)
    chain.mine()
    stranger = local_account("not a minter")
    message = refusal(reclaim.main, "coin=OLD", f"credit_minter={stranger.address}")
    assert f"credit_minter={stranger.address} is not a minter" in message
    assert old.balanceOf(resident) == 100


def test_roles_grant_show_and_revoke(registry, issuer, admin):
    account = local_account("new registrar")
    tx = roles.grant("role=REGISTRAR_ROLE", "contract=issuer", f"account={account.address}")
    granted = tx.events["RoleGranted"]
    assert (bytes(granted["role"]), granted["account"], granted["sender"]) == (
        bytes(issuer.REGISTRAR_ROLE()),
        account.address,
        admin.address,
    )
    roles.grant("role=pauser_role", f"account={account.address}")  # only the registry has it
    assert roles.show(f"account={account.address}") == {
        "registry": ["PAUSER_ROLE"],
        "issuer": ["REGISTRAR_ROLE"],
        "factory": [],
    }
    tx = roles.revoke("role=PAUSER_ROLE", f"account={account.address}")
    assert tx.events["RoleRevoked"]["account"] == account.address
    assert not registry.hasRole(registry.PAUSER_ROLE(), account)


def test_roles_refuses_an_ambiguous_or_foreign_role_and_a_granter_without_the_admin_role(as_operator):
    account = local_account("new registrar")
    message = refusal(roles.grant, "role=REGISTRAR_ROLE", f"account={account.address}")
    assert "REGISTRAR_ROLE exists on registry and issuer: choose with contract=" in message
    message = refusal(roles.grant, "role=MINTER_ROLE", f"account={account.address}")
    assert "a minter gets its role with a budget: scripts/minter_budget.py increase" in message
    message = refusal(roles.grant, "role=PAUSER_ROLE", f"account={account.address}")
    assert f"{as_operator.address} lacks role DEFAULT_ADMIN_ROLE on ParticipantRegistry" in message


# --------------------------------------------------------------------------------------------------
# Keys and the deployment
# --------------------------------------------------------------------------------------------------


def test_a_keystore_signs_with_its_password_from_the_environment_or_the_prompt(
    monkeypatch, keystore, operator, registry
):
    monkeypatch.setenv(KEYSTORE, str(keystore))
    monkeypatch.setenv(KEYSTORE_PASSWORD, PASSWORD)
    assert pause.main().events["Paused"]["account"] == operator

    monkeypatch.delenv(KEYSTORE_PASSWORD)
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or PASSWORD)
    assert unpause.main().events["Unpaused"]["account"] == operator
    assert prompts == [f"Wachtwoord / password for {keystore}: "]


def test_a_wrong_keystore_password_or_a_bad_key_is_refused_before_sending(monkeypatch, keystore, registry):
    monkeypatch.setenv(KEYSTORE, str(keystore))
    monkeypatch.setenv(KEYSTORE_PASSWORD, "wrong")
    assert f"het wachtwoord opent keystore {keystore} niet" in refusal(pause.main)
    monkeypatch.setenv(OPERATOR_KEY, "0x" + "11" * 32)
    assert "set one, so that it is clear who signs" in refusal(pause.main)
    monkeypatch.delenv(KEYSTORE)
    monkeypatch.setenv(OPERATOR_KEY, "not-a-key")
    assert f"{OPERATOR_KEY} is not a valid private key" in refusal(pause.main)
    assert not registry.paused()


def test_a_missing_or_foreign_deployment_is_refused(monkeypatch, environment, tmp_path):
    monkeypatch.setenv(DEPLOYMENT, str(tmp_path / "nowhere.json"))
    assert f"first brownie run scripts/deploy.py --network {network.show_active()}" in refusal(pause.main)
    deployment = json.loads(environment.read_text())
    deployment["chain_id"] = 1
    environment.write_text(json.dumps(deployment))
    monkeypatch.setenv(DEPLOYMENT, str(environment))
    assert "belongs to chain 1" in refusal(pause.main)


# --------------------------------------------------------------------------------------------------
# Through `brownie run`, as an operator types it
# --------------------------------------------------------------------------------------------------


def brownie_run(*words: str, **environ: str) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).parent / "brownie"),
        "run",
        *words,
        "--network",
        network.show_active(),
    ]
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_brownie_run_passes_the_arguments_and_exits_with_the_refusal(operator, registry, resident):
    done = brownie_run(
        "scripts/freeze.py", "main", f"addresses={resident.address}", **{OPERATOR_KEY: operator.private_key}
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Gedaan: 1 wallet(s) bevroren" in done.stdout
    assert participant(registry, resident)[3]

    refused = brownie_run("scripts/freeze.py", "main", "addresses=0x12")
    assert refused.returncode == 1
    assert "Geweigerd: de argumenten kloppen niet; er is niets verstuurd" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
