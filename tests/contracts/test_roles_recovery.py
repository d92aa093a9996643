"""Roles (G1, G2, G5, G6): the admin handover, the pause, role events, which grants wait and which do not.
Recovery itself is in test_recovery.py."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, accounts, chain
from eth_utils import keccak

from socialcoin.chain.constants import Purpose, TransferRefusal
from support import ADMIN_DELAY, local_account, reverts_with

DEFAULT_ADMIN_ROLE = b"\0" * 32
AUDITOR_ROLE = keccak(text="AUDITOR_ROLE")
ADMINISTERED = ["registry", "issuer", "factory"]


def role_event(event) -> tuple:
    return bytes(event["role"]), event["account"], event["sender"]


@pytest.fixture(scope="module")
def administered(registry, issuer, factory):
    """The contracts with an admin, by name (deployed before any test's snapshot)."""
    return {"registry": registry, "issuer": issuer, "factory": factory}


@pytest.fixture(scope="module")
def new_admin():
    return accounts[11]


@pytest.fixture
def holdings(wijk_coin, debt_coin, give, resident):
    """The resident holds EUR 3.00 in the wijk coin and EUR 5.00 in the debt coin."""
    give(wijk_coin, resident, 300)
    give(debt_coin, resident, 500)
    return {wijk_coin: 300, debt_coin: 500}


# --------------------------------------------------------------------------------------------------
# G1: the admin handover waits for the admin delay
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ADMINISTERED)
def test_the_admin_role_passes_only_after_the_admin_delay(administered, name, admin, new_admin):
    """spec: G1, G5"""
    contract = administered[name]
    assert contract.defaultAdmin() == admin
    assert contract.defaultAdminDelay() == ADMIN_DELAY

    tx = contract.beginDefaultAdminTransfer(new_admin, {"from": admin})
    schedule = tx.timestamp + ADMIN_DELAY
    scheduled = tx.events["DefaultAdminTransferScheduled"]
    assert (scheduled["newAdmin"], scheduled["acceptSchedule"]) == (new_admin, schedule)
    assert tuple(contract.pendingDefaultAdmin()) == (new_admin, schedule)

    with reverts_with("AccessControlEnforcedDefaultAdminDelay", schedule):
        contract.acceptDefaultAdminTransfer({"from": new_admin})
    chain.sleep(ADMIN_DELAY - 120)
    with reverts_with("AccessControlEnforcedDefaultAdminDelay", schedule):
        contract.acceptDefaultAdminTransfer({"from": new_admin})
    assert contract.defaultAdmin() == admin

    chain.sleep(240)
    tx = contract.acceptDefaultAdminTransfer({"from": new_admin})
    assert contract.defaultAdmin() == new_admin
    assert contract.hasRole(DEFAULT_ADMIN_ROLE, new_admin)
    assert not contract.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert role_event(tx.events["RoleRevoked"]) == (DEFAULT_ADMIN_ROLE, admin, new_admin)
    assert role_event(tx.events["RoleGranted"]) == (DEFAULT_ADMIN_ROLE, new_admin, new_admin)
    assert tuple(contract.pendingDefaultAdmin()) == (ZERO_ADDRESS, 0)


@pytest.mark.parametrize("name", ADMINISTERED)
def test_after_the_handover_only_the_new_admin_administers(administered, name, admin, new_admin, stranger):
    """spec: G1"""
    contract = administered[name]
    contract.beginDefaultAdminTransfer(new_admin, {"from": admin})
    chain.sleep(ADMIN_DELAY + 120)
    contract.acceptDefaultAdminTransfer({"from": new_admin})

    with reverts_with("AccessControlUnauthorizedAccount", admin, DEFAULT_ADMIN_ROLE):
        contract.grantRole(AUDITOR_ROLE, stranger, {"from": admin})
    contract.grantRole(AUDITOR_ROLE, stranger, {"from": new_admin})
    assert contract.hasRole(AUDITOR_ROLE, stranger)


def test_the_new_registry_admin_adds_purposes_and_the_old_one_cannot(registry, admin, new_admin):
    """spec: G1"""
    registry.beginDefaultAdminTransfer(new_admin, {"from": admin})
    chain.sleep(ADMIN_DELAY + 120)
    registry.acceptDefaultAdminTransfer({"from": new_admin})
    code = b"CHILDCARE".ljust(32, b"\0")
    with reverts_with("AccessControlUnauthorizedAccount", admin, DEFAULT_ADMIN_ROLE):
        registry.addPurpose(code, 0, {"from": admin})
    assert registry.addPurpose(code, 0, {"from": new_admin}).return_value == len(Purpose)


@pytest.mark.parametrize("name", ADMINISTERED)
def test_only_the_pending_admin_may_accept_the_admin_role(administered, name, admin, new_admin, stranger):
    """spec: G1"""
    contract = administered[name]
    contract.beginDefaultAdminTransfer(new_admin, {"from": admin})
    chain.sleep(ADMIN_DELAY + 120)
    for caller in (stranger, admin):
        with reverts_with("AccessControlInvalidDefaultAdmin", caller):
            contract.acceptDefaultAdminTransfer({"from": caller})
    assert contract.defaultAdmin() == admin


@pytest.mark.parametrize("name", ADMINISTERED)
def test_only_the_admin_may_begin_or_cancel_a_handover(administered, name, admin, new_admin, stranger):
    """spec: G1"""
    contract = administered[name]
    with reverts_with("AccessControlUnauthorizedAccount", stranger, DEFAULT_ADMIN_ROLE):
        contract.beginDefaultAdminTransfer(stranger, {"from": stranger})
    contract.beginDefaultAdminTransfer(new_admin, {"from": admin})
    with reverts_with("AccessControlUnauthorizedAccount", new_admin, DEFAULT_ADMIN_ROLE):
        contract.cancelDefaultAdminTransfer({"from": new_admin})
    assert contract.pendingDefaultAdmin()[0] == new_admin


@pytest.mark.parametrize("name", ADMINISTERED)
def test_a_cancelled_handover_cannot_be_accepted(administered, name, admin, new_admin):
    """spec: G1"""
    contract = administered[name]
    contract.beginDefaultAdminTransfer(new_admin, {"from": admin})
    tx = contract.cancelDefaultAdminTransfer({"from": admin})
    assert "DefaultAdminTransferCanceled" in tx.events
    chain.sleep(ADMIN_DELAY + 120)
    with reverts_with("AccessControlInvalidDefaultAdmin", new_admin):
        contract.acceptDefaultAdminTransfer({"from": new_admin})
    assert contract.defaultAdmin() == admin


@pytest.mark.parametrize("name", ADMINISTERED)
def test_the_admin_role_cannot_be_granted_or_revoked_directly(administered, name, admin, new_admin):
    """spec: G1"""
    contract = administered[name]
    with reverts_with("AccessControlEnforcedDefaultAdminRules"):
        contract.grantRole(DEFAULT_ADMIN_ROLE, new_admin, {"from": admin})
    with reverts_with("AccessControlEnforcedDefaultAdminRules"):
        contract.revokeRole(DEFAULT_ADMIN_ROLE, admin, {"from": admin})
    assert contract.defaultAdmin() == admin
    assert not contract.hasRole(DEFAULT_ADMIN_ROLE, new_admin)


# --------------------------------------------------------------------------------------------------
# G2: only the pauser pauses and unpauses
# --------------------------------------------------------------------------------------------------


def test_the_pauser_pauses_and_unpauses_every_coin(registry, pauser, wijk_coin, resident, merchant):
    """spec: G2"""
    assert not registry.paused()
    tx = registry.pause({"from": pauser})
    assert tx.events["Paused"]["account"] == pauser
    assert registry.paused()
    assert tuple(wijk_coin.canTransfer(resident, merchant, 0)) == (False, TransferRefusal.SYSTEM_PAUSED)

    tx = registry.unpause({"from": pauser})
    assert tx.events["Unpaused"]["account"] == pauser
    assert not registry.paused()
    assert tuple(wijk_coin.canTransfer(resident, merchant, 0)) == (True, TransferRefusal.NONE)


def test_only_the_pauser_may_pause(registry, admin, registrar, compliance, stranger):
    """spec: G2"""
    for caller in (admin, registrar, compliance, stranger):
        with reverts_with("AccessControlUnauthorizedAccount", caller, registry.PAUSER_ROLE()):
            registry.pause({"from": caller})
    assert not registry.paused()


def test_only_the_pauser_may_unpause(registry, pauser, admin, registrar, compliance, stranger):
    """spec: G2"""
    registry.pause({"from": pauser})
    for caller in (admin, registrar, compliance, stranger):
        with reverts_with("AccessControlUnauthorizedAccount", caller, registry.PAUSER_ROLE()):
            registry.unpause({"from": caller})
    assert registry.paused()


def test_pausing_twice_or_unpausing_a_running_system_is_refused(registry, pauser):
    """spec: G2"""
    with reverts_with("ExpectedPause"):
        registry.unpause({"from": pauser})
    registry.pause({"from": pauser})
    with reverts_with("EnforcedPause"):
        registry.pause({"from": pauser})
    assert registry.paused()


def test_a_former_pauser_may_no_longer_pause(registry, admin, pauser):
    """spec: G2, G5"""
    registry.revokeRole(registry.PAUSER_ROLE(), pauser, {"from": admin})
    with reverts_with("AccessControlUnauthorizedAccount", pauser, registry.PAUSER_ROLE()):
        registry.pause({"from": pauser})


# --------------------------------------------------------------------------------------------------
# G6: operational roles are granted at once; recovery's own delay is the check
# --------------------------------------------------------------------------------------------------


def test_the_admin_grants_itself_compliance_at_once_yet_cannot_take_a_wallet_at_once(
    registry, admin, resident, holdings
):
    """spec: G6, L3, L6"""
    compliance_role = registry.COMPLIANCE_ROLE()
    tx = registry.grantRole(compliance_role, admin, {"from": admin})
    assert role_event(tx.events["RoleGranted"]) == (bytes(compliance_role), admin, admin)
    assert registry.hasRole(compliance_role, admin)

    taker = local_account("an address the admin controls")
    registry.freeze([resident], {"from": admin})
    request = registry.requestRecovery(resident, taker, keccak(text="no real case"), {"from": admin})
    executable_at = request.timestamp + registry.recoveryDelay()
    with reverts_with("RegistryRecoveryNotDue", resident, executable_at):
        registry.executeRecovery(resident, {"from": admin})
    # The resident, who still has the key, sees the request (an event) and cancels it.
    registry.cancelRecovery(resident, {"from": resident})
    chain.sleep(registry.recoveryDelay() + 60)
    with reverts_with("RegistryNoRecoveryRequest", resident):
        registry.executeRecovery(resident, {"from": admin})
    for coin, value in holdings.items():
        assert coin.balanceOf(resident) == value
        assert coin.balanceOf(taker) == 0


def test_the_registrar_never_holds_freeze_or_recovery_powers(registry, registrar, resident):
    """spec: G6, R1, L1"""
    compliance_role = registry.COMPLIANCE_ROLE()
    assert not registry.hasRole(compliance_role, registrar)
    with reverts_with("AccessControlUnauthorizedAccount", registrar, compliance_role):
        registry.freeze([resident], {"from": registrar})
    with reverts_with("AccessControlUnauthorizedAccount", registrar, compliance_role):
        registry.requestRecovery(resident, local_account("x"), keccak(text="case"), {"from": registrar})


# --------------------------------------------------------------------------------------------------
# G5: every role change emits RoleGranted or RoleRevoked
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ADMINISTERED)
def test_granting_revoking_and_renouncing_a_role_emit_events(administered, name, admin, stranger):
    """spec: G5"""
    contract = administered[name]
    tx = contract.grantRole(AUDITOR_ROLE, stranger, {"from": admin})
    assert role_event(tx.events["RoleGranted"]) == (AUDITOR_ROLE, stranger, admin)
    assert contract.hasRole(AUDITOR_ROLE, stranger)

    tx = contract.revokeRole(AUDITOR_ROLE, stranger, {"from": admin})
    assert role_event(tx.events["RoleRevoked"]) == (AUDITOR_ROLE, stranger, admin)
    assert not contract.hasRole(AUDITOR_ROLE, stranger)

    contract.grantRole(AUDITOR_ROLE, stranger, {"from": admin})
    tx = contract.renounceRole(AUDITOR_ROLE, stranger, {"from": stranger})
    assert role_event(tx.events["RoleRevoked"]) == (AUDITOR_ROLE, stranger, stranger)
    assert not contract.hasRole(AUDITOR_ROLE, stranger)


@pytest.mark.parametrize("name", ADMINISTERED)
def test_no_change_no_role_event(administered, name, admin, stranger):
    """spec: G5"""
    contract = administered[name]
    contract.grantRole(AUDITOR_ROLE, stranger, {"from": admin})
    tx = contract.grantRole(AUDITOR_ROLE, stranger, {"from": admin})
    assert "RoleGranted" not in tx.events
    contract.revokeRole(AUDITOR_ROLE, stranger, {"from": admin})
    tx = contract.revokeRole(AUDITOR_ROLE, stranger, {"from": admin})
    assert "RoleRevoked" not in tx.events


@pytest.mark.parametrize("name", ADMINISTERED)
def test_only_the_roles_admin_may_grant_or_revoke_it(administered, name, admin, stranger, new_admin):
    """spec: G5"""
    contract = administered[name]
    with reverts_with("AccessControlUnauthorizedAccount", stranger, DEFAULT_ADMIN_ROLE):
        contract.grantRole(AUDITOR_ROLE, stranger, {"from": stranger})
    contract.grantRole(AUDITOR_ROLE, new_admin, {"from": admin})
    with reverts_with("AccessControlUnauthorizedAccount", stranger, DEFAULT_ADMIN_ROLE):
        contract.revokeRole(AUDITOR_ROLE, new_admin, {"from": stranger})
    with reverts_with("AccessControlBadConfirmation"):
        contract.renounceRole(AUDITOR_ROLE, new_admin, {"from": stranger})
    assert contract.hasRole(AUDITOR_ROLE, new_admin)


def test_the_registrys_roles_change_with_events(registry, admin, stranger):
    """spec: G5"""
    for getter in ("REGISTRAR_ROLE", "PAUSER_ROLE", "COMPLIANCE_ROLE", "COIN_FACTORY_ROLE"):
        role = bytes(getattr(registry, getter)())
        assert role == keccak(text=getter)
        tx = registry.grantRole(role, stranger, {"from": admin})
        assert role_event(tx.events["RoleGranted"]) == (role, stranger, admin)
        tx = registry.revokeRole(role, stranger, {"from": admin})
        assert role_event(tx.events["RoleRevoked"]) == (role, stranger, admin)


def test_making_and_removing_a_minter_emit_role_events(issuer, master_minter, stranger):
    """spec: G5"""
    minter_role = bytes(issuer.MINTER_ROLE())
    tx = issuer.increaseMinterAllowance(stranger, 1000, {"from": master_minter})
    assert role_event(tx.events["RoleGranted"]) == (minter_role, stranger, master_minter)
    tx = issuer.increaseMinterAllowance(stranger, 2000, {"from": master_minter})
    assert "RoleGranted" not in tx.events
    tx = issuer.removeMinter(stranger, {"from": master_minter})
    assert role_event(tx.events["RoleRevoked"]) == (minter_role, stranger, master_minter)
    assert not issuer.hasRole(minter_role, stranger)
