"""A coin's holding cap (docs/contracts.md, H1-H4): the most a resident may hold of it, checked on every
balance change into a resident, with its own reason in canTransfer."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, accounts

from socialcoin.chain.constants import Kind, Purpose, TransferRefusal, purpose_set
from support import (
    BUURT,
    GEMEENTE,
    ONE_EURO,
    WIJK,
    coin_domain,
    issuer_domain,
    local_account,
    random_nonce,
    recover_wallet,
    ref,
    reverts_with,
    sign_with,
    window,
)

CAP = 3_000 * ONE_EURO  # about the proposed digital euro holding limit
OVER = TransferRefusal.HOLDING_CAP_EXCEEDED


def verdict(answer) -> tuple[bool, TransferRefusal]:
    allowed, reason = answer
    return bool(allowed), TransferRefusal(int(reason))


@pytest.fixture(scope="module")
def capped(make_coin):
    """A person-to-person ENERGY coin for the gemeente with a cap of EUR 3,000 per resident."""
    return make_coin(Purpose.ENERGY, GEMEENTE, p2p=True, cap=CAP, name="Energiemunt", symbol="AEN")


@pytest.fixture(scope="module")
def energy_merchant(enrol):
    account = local_account("cap: energy merchant")
    enrol.register(account, Kind.MERCHANT, WIJK, purpose_set(Purpose.ENERGY))
    return account


@pytest.fixture(scope="module")
def energy_resident(enrol):
    """A resident whose own record accepts the coin's purpose (T4): still a resident, so capped."""
    account = local_account("cap: energy resident")
    enrol.register(account, Kind.RESIDENT, BUURT, purpose_set(Purpose.ENERGY))
    return account


def test_a_mint_up_to_the_cap_is_allowed_and_beyond_it_refused(capped, give, issuer, resident):
    """spec: H2, H3, M9"""
    give(capped, resident, CAP - 100)
    assert verdict(capped.canTransfer(ZERO_ADDRESS, resident, 100)) == (True, TransferRefusal.NONE)
    assert verdict(capped.canTransfer(ZERO_ADDRESS, resident, 101)) == (False, OVER)
    with reverts_with("CoinTransferRefused", ZERO_ADDRESS, resident, 101, OVER):
        give(capped, resident, 101)
    give(capped, resident, 100)
    assert capped.balanceOf(resident) == CAP


def test_an_activity_mint_beyond_the_cap_is_refused(
    capped, give, issuer, registrar, verifier, funded_minter, resident
):
    """spec: H2"""
    issuer.setVerifier(capped, verifier, True, {"from": registrar})
    give(capped, resident, CAP)
    attestation = {
        "resident": resident.address,
        "coin": capped.address,
        "amount": 1,
        "activityId": ref("cap activity"),
        "claimId": ref("cap claim"),
        "evidenceHash": ref("cap evidence"),
        "deadline": window()[1],
    }
    signature = sign_with(verifier, issuer_domain(issuer), "Attestation", attestation)
    with reverts_with("CoinTransferRefused", ZERO_ADDRESS, resident, 1, OVER):
        issuer.mintWithAttestation(tuple(attestation.values()), signature.packed, {"from": funded_minter})
    assert not issuer.claimUsed(ref("cap claim"))


def test_a_person_to_person_payment_beyond_the_cap_is_refused(capped, give, resident, neighbour):
    """spec: H2, H3"""
    give(capped, resident, 1_000)
    give(capped, neighbour, CAP - 500)
    assert verdict(capped.canTransfer(resident, neighbour, 501)) == (False, OVER)
    with reverts_with("CoinTransferRefused", resident, neighbour, 501, OVER):
        capped.transfer(neighbour, 501, {"from": resident})
    with reverts_with("CoinTransferRefused", resident, neighbour, 501, OVER):
        capped.pay(neighbour, 501, ref("gift"), {"from": resident})
    capped.transfer(neighbour, 500, {"from": resident})
    assert capped.balanceOf(neighbour) == CAP


def test_a_relayed_payment_beyond_the_cap_is_refused(capped, give, resident, neighbour, relayer):
    """spec: H2"""
    give(capped, resident, 1_000)
    give(capped, neighbour, CAP)
    after, before = window()
    message = {
        "from": resident.address,
        "to": neighbour.address,
        "value": 1,
        "validAfter": after,
        "validBefore": before,
        "nonce": random_nonce(),
    }
    signature = sign_with(resident, coin_domain(capped), "TransferWithAuthorization", message)
    with reverts_with("CoinTransferRefused", resident, neighbour, 1, OVER):
        capped.transferWithAuthorization(
            *message.values(), signature.v, signature.r, signature.s, {"from": relayer}
        )
    assert not capped.authorizationState(resident, message["nonce"])


def test_a_resident_who_accepts_the_purpose_is_capped_too(capped, give, resident, energy_resident):
    """spec: H2"""
    give(capped, energy_resident, CAP)
    give(capped, resident, 100)
    with reverts_with("CoinTransferRefused", resident, energy_resident, 1, OVER):
        capped.transfer(energy_resident, 1, {"from": resident})


def test_a_refund_beyond_the_cap_is_refused(capped, give, resident, energy_merchant):
    """spec: H2, F4, F7"""
    give(capped, resident, CAP)
    capped.pay(energy_merchant, 500, ref("energy bill"), {"from": resident})
    give(capped, resident, 400)
    assert verdict(capped.canRefund(energy_merchant, resident, 101, ref("energy bill"))) == (False, OVER)
    with reverts_with("CoinTransferRefused", energy_merchant, resident, 101, OVER):
        capped.refund(resident, 101, ref("energy bill"), {"from": energy_merchant})
    capped.refund(resident, 100, ref("energy bill"), {"from": energy_merchant})
    assert capped.balanceOf(resident) == CAP
    assert tuple(capped.payment(resident, energy_merchant, ref("energy bill"))) == (500, 100)


def test_merchants_and_the_municipality_have_no_cap(
    capped, give, resident, neighbour, energy_merchant, municipality
):
    """spec: H2"""
    for payer in (resident, neighbour):
        give(capped, payer, CAP)
        capped.transfer(energy_merchant, CAP - 1_000, {"from": payer})
        capped.transfer(municipality, 1_000, {"from": payer})
    assert capped.balanceOf(energy_merchant) == 2 * (CAP - 1_000)
    assert capped.balanceOf(municipality) == 2_000
    assert verdict(capped.canTransfer(energy_merchant, municipality, 2 * (CAP - 1_000))) == (
        True,
        TransferRefusal.NONE,
    )


def test_the_rule_and_the_balance_come_before_the_cap(
    capped, give, registry, resident, neighbour, compliance
):
    """spec: H3, T10"""
    give(capped, resident, 100)
    give(capped, neighbour, CAP)
    assert verdict(capped.canTransfer(resident, neighbour, 200)) == (
        False,
        TransferRefusal.INSUFFICIENT_BALANCE,
    )
    with reverts_with("ERC20InsufficientBalance", resident, 100, 200):
        capped.transfer(neighbour, 200, {"from": resident})
    registry.freeze([neighbour], {"from": compliance})
    assert verdict(capped.canTransfer(resident, neighbour, 50)) == (False, TransferRefusal.RECEIVER_FROZEN)


def test_a_coin_without_cap_lets_residents_hold_any_amount(make_coin, give, resident):
    """spec: H1"""
    coin = make_coin(Purpose.ENERGY, WIJK, p2p=True, symbol="NOC")
    assert coin.holdingCap() == 0
    give(coin, resident, 100 * CAP)
    assert coin.balanceOf(resident) == 100 * CAP


def test_recovery_moves_a_whole_balance_past_the_cap(
    capped, give, registry, registrar, compliance, resident, energy_merchant
):
    """spec: H4

    A merchant that the registrar turns into a resident keeps what it holds above the cap (the cap stops
    coins arriving); recovering its wallet moves all of it: the replacement is a new address."""
    give(capped, resident, CAP)
    capped.transfer(energy_merchant, CAP, {"from": resident})
    give(capped, resident, CAP)
    capped.transfer(energy_merchant, CAP, {"from": resident})
    registry.update(
        (
            energy_merchant.address,
            int(Kind.RESIDENT),
            registry.participant(energy_merchant)[1],
            0,
            ref("now a resident"),
        ),
        {"from": registrar},
    )
    replacement = accounts[16]
    recover_wallet(registry, compliance, energy_merchant, replacement)
    assert capped.balanceOf(replacement) == 2 * CAP
    give(capped, resident, 1)
    with reverts_with("CoinTransferRefused", resident, replacement, 1, OVER):
        capped.transfer(replacement, 1, {"from": resident})
