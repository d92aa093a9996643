"""Recovery of a lost wallet in two steps (L1-L9) and delisting spent coins (D1-D3)."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, ParticipantRegistry, chain, web3
from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import Kind, Purpose, TransferRefusal
from support import (
    ADMIN_DELAY,
    BUURT,
    GEMEENTE,
    RECOVERY_DELAY,
    WIJK,
    coin_domain,
    emitters,
    local_account,
    random_nonce,
    recover_wallet,
    ref,
    reverts_with,
    sign_with,
    window,
)

CASE = ref("case Z-2026-0042")
DAY = 24 * 3600
UNREGISTERED = (0, b"\0" * 8, 0, False, b"\0" * 32)
NO_REQUEST = (ZERO_ADDRESS, 0, b"\0" * 32)


def stored(registry, account) -> tuple:
    kind, area, purposes, frozen, record_hash = registry.participant(account)
    return int(kind), bytes(area), int(purposes), bool(frozen), bytes(record_hash)


def request_of(registry, lost) -> tuple:
    replacement, executable_at, case = registry.recoveryRequest(lost)
    return replacement, int(executable_at), bytes(case)


def latest_time() -> int:
    return web3.eth.get_block("latest").timestamp


@pytest.fixture(scope="module")
def replacement():
    """The new wallet of a resident who lost theirs: a local key, never registered."""
    return local_account("recovery replacement wallet")


@pytest.fixture
def holdings(wijk_coin, debt_coin, give, resident):
    """The resident holds EUR 3.00 in the wijk coin and EUR 5.00 in the debt coin."""
    give(wijk_coin, resident, 300)
    give(debt_coin, resident, 500)
    return {wijk_coin: 300, debt_coin: 500}


@pytest.fixture
def frozen_resident(registry, compliance, resident):
    registry.freeze([resident], {"from": compliance})
    return resident


@pytest.fixture
def requested(registry, compliance, frozen_resident, replacement):
    """A pending request to move the (frozen) resident's wallet to the replacement."""
    return registry.requestRecovery(frozen_resident, replacement, CASE, {"from": compliance})


def wait_out(registry, seconds: int | None = None) -> None:
    chain.sleep(registry.recoveryDelay() + 1 if seconds is None else seconds)


# --------------------------------------------------------------------------------------------------
# L1: compliance only; the registrar never
# --------------------------------------------------------------------------------------------------


def test_only_compliance_may_request_a_recovery(
    registry, admin, registrar, pauser, stranger, frozen_resident, replacement
):
    """spec: L1"""
    for caller in (admin, registrar, pauser, stranger):
        with reverts_with("AccessControlUnauthorizedAccount", caller, registry.COMPLIANCE_ROLE()):
            registry.requestRecovery(frozen_resident, replacement, CASE, {"from": caller})
    assert request_of(registry, frozen_resident) == NO_REQUEST


def test_only_compliance_may_execute_a_recovery(
    registry, admin, registrar, pauser, stranger, requested, resident, replacement
):
    """spec: L1"""
    wait_out(registry)
    for caller in (admin, registrar, pauser, stranger, resident):
        with reverts_with("AccessControlUnauthorizedAccount", caller, registry.COMPLIANCE_ROLE()):
            registry.executeRecovery(resident, {"from": caller})
    assert stored(registry, replacement) == UNREGISTERED


# --------------------------------------------------------------------------------------------------
# L2: what a request needs
# --------------------------------------------------------------------------------------------------


def test_a_request_records_the_case_and_when_it_may_be_executed(
    registry, compliance, frozen_resident, replacement
):
    """spec: L2"""
    tx = registry.requestRecovery(frozen_resident, replacement, CASE, {"from": compliance})
    executable_at = tx.timestamp + RECOVERY_DELAY
    event = tx.events["RecoveryRequested"]
    assert (event["lost"], event["replacement"], bytes(event["caseReference"]), event["executableAt"]) == (
        frozen_resident,
        replacement,
        CASE,
        executable_at,
    )
    assert request_of(registry, frozen_resident) == (replacement, executable_at, CASE)
    # Nothing moves yet.
    assert stored(registry, replacement) == UNREGISTERED
    assert stored(registry, frozen_resident)[0] == Kind.RESIDENT


def test_a_request_needs_a_registered_lost_wallet(registry, compliance, stranger, replacement):
    """spec: L2"""
    with reverts_with("RegistryNotRegistered", stranger):
        registry.requestRecovery(stranger, replacement, CASE, {"from": compliance})


def test_a_request_needs_the_lost_wallet_frozen_first(registry, compliance, resident, replacement):
    """spec: L2"""
    with reverts_with("RegistryNotFrozen", resident):
        registry.requestRecovery(resident, replacement, CASE, {"from": compliance})
    assert request_of(registry, resident) == NO_REQUEST


def test_a_request_needs_a_case_reference(registry, compliance, frozen_resident, replacement):
    """spec: L2"""
    with reverts_with("RegistryMissingCaseReference"):
        registry.requestRecovery(frozen_resident, replacement, b"\0" * 32, {"from": compliance})
    assert request_of(registry, frozen_resident) == NO_REQUEST


def test_a_request_needs_a_new_replacement(registry, compliance, frozen_resident, neighbour):
    """spec: L2"""
    with reverts_with("RegistryZeroAddress"):
        registry.requestRecovery(frozen_resident, ZERO_ADDRESS, CASE, {"from": compliance})
    for taken in (neighbour, frozen_resident):
        with reverts_with("RegistryAlreadyRegistered", taken):
            registry.requestRecovery(frozen_resident, taken, CASE, {"from": compliance})
    registry.freeze([neighbour], {"from": compliance})
    with reverts_with("RegistryAlreadyRegistered", neighbour):
        registry.requestRecovery(frozen_resident, neighbour, CASE, {"from": compliance})
    assert request_of(registry, frozen_resident) == NO_REQUEST


def test_a_second_request_for_the_same_wallet_is_refused(
    registry, compliance, requested, resident, replacement
):
    """spec: L2"""
    other = local_account("another replacement")
    with reverts_with("RegistryRecoveryPending", resident, replacement):
        registry.requestRecovery(resident, other, ref("another case"), {"from": compliance})
    assert request_of(registry, resident)[0] == replacement


# --------------------------------------------------------------------------------------------------
# L3: the delay
# --------------------------------------------------------------------------------------------------


def test_execution_waits_for_the_recovery_delay(
    registry, compliance, holdings, requested, resident, replacement
):
    """spec: L3"""
    executable_at = requested.timestamp + RECOVERY_DELAY
    with reverts_with("RegistryRecoveryNotDue", resident, executable_at):
        registry.executeRecovery(resident, {"from": compliance})
    wait_out(registry, executable_at - latest_time() - 120)
    with reverts_with("RegistryRecoveryNotDue", resident, executable_at):
        registry.executeRecovery(resident, {"from": compliance})
    assert stored(registry, replacement) == UNREGISTERED
    for coin, value in holdings.items():
        assert coin.balanceOf(resident) == value

    wait_out(registry, 240)
    registry.executeRecovery(resident, {"from": compliance})
    assert stored(registry, replacement)[0] == Kind.RESIDENT


def test_execution_without_a_request_is_refused(registry, compliance, frozen_resident):
    """spec: L3"""
    with reverts_with("RegistryNoRecoveryRequest", frozen_resident):
        registry.executeRecovery(frozen_resident, {"from": compliance})


# --------------------------------------------------------------------------------------------------
# L4: what execution moves
# --------------------------------------------------------------------------------------------------


def test_execution_moves_the_registration_and_every_balance(
    registry, compliance, holdings, requested, resident, replacement, make_coin
):
    """spec: L4"""
    empty_coin = make_coin(Purpose.SPORT_CULTURE, GEMEENTE)
    kind, area, purposes, frozen, record_hash = stored(registry, resident)
    assert frozen
    supplies = {coin: coin.totalSupply() for coin in holdings}
    wait_out(registry)

    tx = registry.executeRecovery(resident, {"from": compliance})

    # The registration moves unfrozen: the freeze guarded the lost key, which is retired now.
    assert stored(registry, replacement) == (kind, area, purposes, False, record_hash)
    assert stored(registry, resident) == UNREGISTERED
    assert registry.participantWord(resident) == 0
    assert registry.isLost(resident)
    assert not registry.isLost(replacement)
    assert request_of(registry, resident) == NO_REQUEST
    for coin, value in holdings.items():
        assert coin.balanceOf(resident) == 0
        assert coin.balanceOf(replacement) == value
        assert coin.totalSupply() == supplies[coin]
    assert empty_coin.balanceOf(replacement) == 0

    recovered = tx.events["ParticipantRecovered"]
    assert (recovered["lost"], recovered["replacement"], bytes(recovered["caseReference"])) == (
        resident,
        replacement,
        CASE,
    )
    # One BalanceRecovered per coin with a balance, emitted by that coin; none by the empty coin.
    moved = {
        coin: (event["lost"], event["replacement"], event["value"])
        for coin, event in zip(
            emitters(tx, "BalanceRecovered(address,address,uint256)"),
            tx.events["BalanceRecovered"],
            strict=True,
        )
    }
    assert moved == {coin.address: (resident, replacement, value) for coin, value in holdings.items()}


def test_after_recovery_only_the_replacement_can_pay(
    wijk_coin, registry, compliance, resident, replacement, merchant, holdings
):
    """spec: L4, L9"""
    recover_wallet(registry, compliance, resident, replacement)
    refused = TransferRefusal.SENDER_NOT_REGISTERED
    assert tuple(wijk_coin.canTransfer(resident, merchant, 0)) == (False, refused)
    with reverts_with("CoinTransferRefused", resident, merchant, 0, int(refused)):
        wijk_coin.transfer(merchant, 0, {"from": resident})

    wijk_coin.transfer(merchant, 100, {"from": replacement})
    assert wijk_coin.balanceOf(merchant) == 100
    assert wijk_coin.balanceOf(replacement) == 200


def test_recovery_moves_balances_of_an_expired_coin(
    registry, compliance, make_coin, give, resident, replacement
):
    """spec: L4"""
    coin = make_coin(Purpose.MOBILITY, GEMEENTE, expiry=latest_time() + 600)
    give(coin, resident, 400)
    chain.sleep(1200)
    recover_wallet(registry, compliance, resident, replacement)
    assert coin.balanceOf(replacement) == 400
    assert coin.balanceOf(resident) == 0


def test_recovery_of_a_participant_without_coins_moves_only_the_registration(
    registry, compliance, merchant, replacement, wijk_coin
):
    """spec: L4"""
    kind, area, purposes, _frozen, record_hash = stored(registry, merchant)
    tx = recover_wallet(registry, compliance, merchant, replacement)
    assert stored(registry, replacement) == (kind, area, purposes, False, record_hash)
    assert "BalanceRecovered" not in tx.events
    assert "ParticipantRecovered" in tx.events


def test_only_the_registry_moves_a_balance_for_recovery(
    wijk_coin, compliance, stranger, resident, replacement, holdings
):
    """spec: L4"""
    for caller in (compliance, stranger):
        with reverts_with("CoinUnauthorizedCaller", caller):
            wijk_coin.recoverBalance(resident, replacement, {"from": caller})
    assert wijk_coin.balanceOf(resident) == holdings[wijk_coin]


# --------------------------------------------------------------------------------------------------
# L5: execution checks again
# --------------------------------------------------------------------------------------------------


def test_execution_is_refused_once_the_lost_wallet_was_unfrozen(
    registry, compliance, holdings, requested, resident, replacement
):
    """spec: L5"""
    registry.unfreeze([resident], {"from": compliance})
    wait_out(registry)
    with reverts_with("RegistryNotFrozen", resident):
        registry.executeRecovery(resident, {"from": compliance})
    assert stored(registry, replacement) == UNREGISTERED
    assert holdings[list(holdings)[0]] == list(holdings)[0].balanceOf(resident)


def test_execution_is_refused_once_the_replacement_was_registered(
    registry, registrar, compliance, enrol, requested, resident, replacement
):
    """spec: L5"""
    enrol.register(replacement, Kind.MERCHANT, WIJK)
    wait_out(registry)
    with reverts_with("RegistryAlreadyRegistered", replacement):
        registry.executeRecovery(resident, {"from": compliance})
    assert stored(registry, resident)[0] == Kind.RESIDENT
    assert stored(registry, replacement)[0] == Kind.MERCHANT


# --------------------------------------------------------------------------------------------------
# L6: cancelling
# --------------------------------------------------------------------------------------------------


def test_the_lost_key_itself_cancels_a_pending_request(
    registry, compliance, holdings, requested, resident, replacement
):
    """spec: L6"""
    tx = registry.cancelRecovery(resident, {"from": resident})
    event = tx.events["RecoveryCancelled"]
    assert (event["lost"], event["replacement"], bytes(event["caseReference"]), event["cancelledBy"]) == (
        resident,
        replacement,
        CASE,
        resident,
    )
    assert request_of(registry, resident) == NO_REQUEST
    wait_out(registry)
    with reverts_with("RegistryNoRecoveryRequest", resident):
        registry.executeRecovery(resident, {"from": compliance})
    for coin, value in holdings.items():
        assert coin.balanceOf(resident) == value
    assert stored(registry, replacement) == UNREGISTERED


def test_the_admin_cancels_a_pending_request_even_while_paused(
    registry, admin, pauser, compliance, requested, resident
):
    """spec: L6, L7"""
    registry.pause({"from": pauser})
    tx = registry.cancelRecovery(resident, {"from": admin})
    assert tx.events["RecoveryCancelled"]["cancelledBy"] == admin
    assert request_of(registry, resident) == NO_REQUEST


def test_nobody_else_may_cancel_a_request(
    registry, compliance, registrar, pauser, stranger, requested, resident, replacement
):
    """spec: L6"""
    for caller in (compliance, registrar, pauser, stranger, replacement):
        with reverts_with("RegistryCancelNotAllowed", caller, resident):
            registry.cancelRecovery(resident, {"from": caller})
    assert request_of(registry, resident)[0] == replacement


def test_cancelling_without_a_request_is_refused(registry, admin, resident):
    """spec: L6"""
    for caller in (admin, resident):
        with reverts_with("RegistryNoRecoveryRequest", resident):
            registry.cancelRecovery(resident, {"from": caller})


def test_after_a_cancel_a_new_request_can_be_made(registry, compliance, requested, resident):
    """spec: L6, L2"""
    registry.cancelRecovery(resident, {"from": resident})
    other = local_account("the right replacement")
    registry.requestRecovery(resident, other, ref("case corrected"), {"from": compliance})
    wait_out(registry)
    registry.executeRecovery(resident, {"from": compliance})
    assert stored(registry, other)[0] == Kind.RESIDENT


# --------------------------------------------------------------------------------------------------
# L7: not while paused
# --------------------------------------------------------------------------------------------------


def test_requesting_is_refused_while_paused(registry, pauser, compliance, frozen_resident, replacement):
    """spec: L7"""
    registry.pause({"from": pauser})
    with reverts_with("EnforcedPause"):
        registry.requestRecovery(frozen_resident, replacement, CASE, {"from": compliance})
    assert request_of(registry, frozen_resident) == NO_REQUEST


def test_executing_is_refused_while_paused_and_works_after_the_pause(
    registry, pauser, compliance, holdings, requested, resident, replacement
):
    """spec: L7"""
    wait_out(registry)
    registry.pause({"from": pauser})
    with reverts_with("EnforcedPause"):
        registry.executeRecovery(resident, {"from": compliance})
    assert stored(registry, replacement) == UNREGISTERED
    registry.unpause({"from": pauser})
    registry.executeRecovery(resident, {"from": compliance})
    for coin, value in holdings.items():
        assert coin.balanceOf(replacement) == value


# --------------------------------------------------------------------------------------------------
# L8: the delay is fixed at deployment
# --------------------------------------------------------------------------------------------------


def test_the_recovery_delay_is_fixed_at_deployment(registry):
    """spec: L8"""
    assert registry.recoveryDelay() == RECOVERY_DELAY
    changers = [
        item["name"]
        for item in registry.abi
        if item["type"] == "function"
        and "delay" in item["name"].lower()
        and "recovery" in item["name"].lower()
        and item["stateMutability"] not in ("view", "pure")
    ]
    assert changers == []


def test_the_recovery_delay_has_a_maximum(admin):
    """spec: L8"""
    maximum = 30 * DAY
    with reverts_with("RegistryRecoveryDelayOutOfRange", maximum + 1, 0, maximum):
        ParticipantRegistry.deploy(ADMIN_DELAY, admin, maximum + 1, {"from": admin})
    assert ParticipantRegistry.deploy(ADMIN_DELAY, admin, maximum, {"from": admin}).recoveryDelay() == maximum


def constructor_answer(admin, delay: int) -> bytes:
    """Runs the registry's constructor in an eth_call (no transaction: anvil's signers keep their chain
    id): its revert data, or b"" when it deploys."""
    creation = ParticipantRegistry.deploy.encode_input(ADMIN_DELAY, admin, delay)
    try:
        web3.eth.call({"from": admin.address, "data": creation})
    except (ContractCustomError, ValueError) as refusal:  # brownie's middleware raises the node's error
        data = refusal.data if isinstance(refusal, ContractCustomError) else refusal.args[0]["data"]
        return bytes.fromhex(str(data).removeprefix("0x"))
    return b""


def out_of_range(delay: int, minimum: int, maximum: int) -> bytes:
    selector = keccak(text="RegistryRecoveryDelayOutOfRange(uint256,uint256,uint256)")[:4]
    return selector + encode(["uint256"] * 3, [delay, minimum, maximum])


def test_no_recovery_delay_is_allowed_on_the_development_chain_only(admin):
    """spec: L8"""
    assert web3.eth.chain_id == 31337
    assert ParticipantRegistry.deploy(ADMIN_DELAY, admin, 0, {"from": admin}).recoveryDelay() == 0
    assert constructor_answer(admin, 0) == b""
    web3.provider.make_request("anvil_setChainId", [1337])
    try:
        assert int(web3.provider.make_request("eth_chainId", [])["result"], 16) == 1337
        for delay in (0, 3600, DAY - 1):
            assert constructor_answer(admin, delay) == out_of_range(delay, DAY, 30 * DAY)
        assert constructor_answer(admin, DAY) == b""
    finally:
        web3.provider.make_request("anvil_setChainId", [31337])
    assert int(web3.provider.make_request("eth_chainId", [])["result"], 16) == 31337


# --------------------------------------------------------------------------------------------------
# L9: a lost address stays lost
# --------------------------------------------------------------------------------------------------


def test_a_lost_address_can_never_be_registered_again(
    registry, registrar, compliance, enrol, resident, replacement
):
    """spec: L9"""
    recover_wallet(registry, compliance, resident, replacement)
    registration = (resident.address, int(Kind.RESIDENT), to_bytes8(WIJK), 0, ref("again"))
    with reverts_with("RegistryAddressLost", resident):
        registry.register(registration, {"from": registrar})
    with reverts_with("RegistryAddressLost", resident):
        registry.registerBatch([registration], {"from": registrar})
    with reverts_with("RegistryNotRegistered", resident):
        registry.update(registration, {"from": registrar})
    with reverts_with("RegistryNotRegistered", resident):
        registry.freeze([resident], {"from": compliance})
    assert stored(registry, resident) == UNREGISTERED


def test_a_lost_address_can_never_be_a_recovery_replacement(
    registry, compliance, resident, neighbour, replacement
):
    """spec: L9"""
    recover_wallet(registry, compliance, resident, replacement)
    # Neither for someone else nor back from the replacement: the old key would come back to life.
    for lost in (neighbour, replacement):
        registry.freeze([lost], {"from": compliance})
        with reverts_with("RegistryAddressLost", resident):
            registry.requestRecovery(lost, resident, CASE, {"from": compliance})
    assert stored(registry, resident) == UNREGISTERED


def test_what_the_lost_key_signed_stays_refused(
    registry, compliance, wijk_coin, give, issuer, funded_minter, resident, neighbour, merchant, replacement
):
    """spec: L9, A1, A7, T11"""
    give(wijk_coin, resident, 1000)
    domain = coin_domain(wijk_coin)
    valid_after, valid_before = window(10 * DAY)  # valid well beyond the recovery
    nonce = random_nonce()
    authorization = {
        "from": resident.address,
        "to": merchant.address,
        "value": 100,
        "validAfter": valid_after,
        "validBefore": valid_before,
        "nonce": nonce,
    }
    signed = sign_with(resident, domain, "TransferWithAuthorization", authorization)
    deadline = valid_before
    permit = {
        "owner": resident.address,
        "spender": neighbour.address,
        "value": 300,
        "nonce": wijk_coin.nonces(resident),
        "deadline": deadline,
    }
    permitted = sign_with(resident, domain, "Permit", permit)
    wijk_coin.approve(neighbour, 500, {"from": resident})

    recover_wallet(registry, compliance, resident, replacement)
    assert wijk_coin.balanceOf(replacement) == 1000

    refused = int(TransferRefusal.SENDER_NOT_REGISTERED)
    with reverts_with("CoinTransferRefused", resident, merchant, 100, refused):
        wijk_coin.transferWithAuthorization(
            resident,
            merchant,
            100,
            valid_after,
            valid_before,
            nonce,
            signed.v,
            signed.r,
            signed.s,
            {"from": neighbour},
        )
    with reverts_with("CoinTransferRefused", resident, merchant, 50, refused):
        wijk_coin.transferFrom(resident, merchant, 50, {"from": neighbour})
    wijk_coin.permit(
        resident, neighbour, 300, deadline, permitted.v, permitted.r, permitted.s, {"from": neighbour}
    )
    with reverts_with("CoinTransferRefused", resident, merchant, 50, refused):
        wijk_coin.transferFrom(resident, merchant, 50, {"from": neighbour})
    # Nor can coins reach the lost address again, to be spent by what it signed.
    with reverts_with("IssuerNotAResident", resident):
        issuer.adminMint(wijk_coin, resident, 100, ref("to a lost wallet"), {"from": funded_minter})
    receiver_refused = int(TransferRefusal.RECEIVER_NOT_REGISTERED)
    with reverts_with("CoinTransferRefused", replacement, resident, 100, receiver_refused):
        wijk_coin.transfer(resident, 100, {"from": replacement})
    assert wijk_coin.balanceOf(resident) == 0
    assert wijk_coin.balanceOf(merchant) == 0


# --------------------------------------------------------------------------------------------------
# D1-D3: delisting spent coins
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def spent_coin(make_coin, give, issuer, master_minter, resident):
    """An expired coin whose last holder's coins were reclaimed: total supply 0."""
    coin = make_coin(Purpose.ENERGY, GEMEENTE, expiry=latest_time() + 600, symbol="OLD")
    give(coin, resident, 300)
    chain.sleep(1200)
    chain.mine()
    issuer.reclaimExpired(coin, [resident], ZERO_ADDRESS, {"from": master_minter})
    assert coin.totalSupply() == 0
    return coin


def test_anyone_may_delist_an_expired_coin_nobody_holds(registry, spent_coin, wijk_coin, stranger):
    """spec: D1"""
    before = list(registry.coins())
    assert spent_coin in before
    tx = registry.delistCoin(spent_coin, {"from": stranger})
    assert tx.events["CoinDelisted"]["coin"] == spent_coin
    assert not registry.isCoin(spent_coin)
    assert sorted(registry.coins()) == sorted(c for c in before if c != spent_coin)
    assert registry.isCoin(wijk_coin)


def test_delisting_refuses_a_coin_that_is_not_listed_live_or_held(
    registry, make_coin, give, spent_coin, wijk_coin, resident, stranger
):
    """spec: D2"""
    with reverts_with("RegistryUnknownCoin", stranger):
        registry.delistCoin(stranger, {"from": stranger})
    with reverts_with("RegistryCoinNotExpired", wijk_coin, 0):
        registry.delistCoin(wijk_coin, {"from": stranger})
    expiry = latest_time() + 3600
    live = make_coin(Purpose.MOBILITY, GEMEENTE, expiry=expiry)
    with reverts_with("RegistryCoinNotExpired", live, expiry):
        registry.delistCoin(live, {"from": stranger})
    give(live, resident, 250)
    chain.sleep(7200)
    chain.mine()
    with reverts_with("RegistryCoinNotEmpty", live, 250):
        registry.delistCoin(live, {"from": stranger})
    assert registry.isCoin(live)

    registry.delistCoin(spent_coin, {"from": stranger})
    with reverts_with("RegistryUnknownCoin", spent_coin):
        registry.delistCoin(spent_coin, {"from": stranger})


def test_delisting_keeps_every_other_coin_listed(registry, make_coin, spent_coin, stranger):
    """spec: D1"""
    later = make_coin(Purpose.EDUCATION, GEMEENTE)
    listed = list(registry.coins())
    assert listed.index(spent_coin) < listed.index(later)  # the last coin takes the delisted one's place
    registry.delistCoin(spent_coin, {"from": stranger})
    assert sorted(registry.coins()) == sorted(c for c in listed if c != spent_coin)
    for coin in registry.coins():
        assert registry.isCoin(coin)
    assert registry.coins()[listed.index(spent_coin)] == later


def test_the_issuer_refuses_a_delisted_coin(
    registry, issuer, spent_coin, stranger, registrar, verifier, funded_minter, resident
):
    """spec: D3"""
    registry.delistCoin(spent_coin, {"from": stranger})
    with reverts_with("IssuerUnknownCoin", spent_coin):
        issuer.adminMint(spent_coin, resident, 100, ref("late bonus"), {"from": funded_minter})
    with reverts_with("IssuerUnknownCoin", spent_coin):
        issuer.setVerifier(spent_coin, verifier, True, {"from": registrar})


def test_recovery_stops_visiting_delisted_coins(
    registry, compliance, make_coin, give, issuer, master_minter, resident, neighbour, stranger
):
    """spec: D3, L4"""
    expiry = latest_time() + 600
    old = [make_coin(Purpose.ENERGY, area, expiry=expiry) for area in (GEMEENTE, WIJK)]
    old += [make_coin(Purpose.MOBILITY, area, expiry=expiry) for area in (GEMEENTE, WIJK)]
    chain.sleep(1200)
    chain.mine()
    with_old = recover_wallet(registry, compliance, resident, local_account("first replacement"))
    for coin in old:
        registry.delistCoin(coin, {"from": stranger})
    without_old = recover_wallet(registry, compliance, neighbour, local_account("second replacement"))
    # Each listed coin costs a recovery a call to a cold contract (at least 2,600 gas).
    assert with_old.gas_used - without_old.gas_used >= len(old) * 2_600
    assert "BalanceRecovered" not in with_old.events


def test_an_account_with_coins_in_a_listed_coin_is_recovered_also_after_delisting_others(
    registry, compliance, spent_coin, wijk_coin, give, neighbour, stranger
):
    """spec: D3, L4"""
    give(wijk_coin, neighbour, 700)
    registry.delistCoin(spent_coin, {"from": stranger})
    replacement = local_account("neighbour's new wallet")
    tx = recover_wallet(registry, compliance, neighbour, replacement)
    assert wijk_coin.balanceOf(replacement) == 700
    assert emitters(tx, "BalanceRecovered(address,address,uint256)") == [wijk_coin.address]


def test_a_recovered_resident_can_receive_new_mints(
    registry, compliance, give, wijk_coin, resident, replacement
):
    """spec: L4"""
    recover_wallet(registry, compliance, resident, replacement)
    give(wijk_coin, replacement, 150)
    assert wijk_coin.balanceOf(replacement) == 150
    assert stored(registry, replacement)[1] == to_bytes8(BUURT)
