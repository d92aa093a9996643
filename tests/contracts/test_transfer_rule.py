"""The transfer rule (docs/contracts.md, T1-T12, C2): every balance change of a coin passes one rule.

Every refusal is provoked twice: through a real balance change, which reverts with
CoinTransferRefused(from, to, value, reason) and leaves all balances as they were, and through
canTransfer(from, to, value), which must give the same reason without moving anything.
"""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, chain

from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import BurnReason, Kind, Purpose, purpose_set
from socialcoin.chain.constants import TransferRefusal as Refusal
from support import OTHER_GEMEENTE, WIJK, local_account, ref, reverts_with

TEN_EUROS = 1_000


# ------------------------------------------------------------------------------------------------
# Fixtures of this module
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def p2p_coin(make_coin):
    """A wijk coin residents may pay each other with; no merchant accepts its purpose."""
    return make_coin(Purpose.ENERGY, WIJK, p2p=True, name="Socialcoin Geitenkamp - Energie", symbol="GKE")


@pytest.fixture(scope="module")
def far_municipality(enrol):
    """A municipality registered in another gemeente than any coin's area."""
    account = local_account("far municipality")
    enrol.register(account, Kind.MUNICIPALITY, OTHER_GEMEENTE)
    return account


@pytest.fixture
def funded(wijk_coin, give, resident):
    """The resident holds EUR 10.00 of the wijk coin."""
    give(wijk_coin, resident, TEN_EUROS)
    return wijk_coin


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _address(party) -> str:
    return party if isinstance(party, str) else party.address


def balances(coin, *holders) -> list[int]:
    return [coin.balanceOf(_address(holder)) for holder in holders]


def assert_verdict(coin, sender, receiver, value, reason: Refusal):
    """canTransfer gives `reason` (allowed exactly when the reason is None)."""
    allowed, given = coin.canTransfer(_address(sender), _address(receiver), value)
    assert (allowed, Refusal(given)) == (reason == Refusal.NONE, reason)


def assert_transfer_event(tx, sender, receiver, value, index: int = 0):
    event = tx.events["Transfer"][index]
    assert event["from"] == _address(sender)
    assert event["to"] == _address(receiver)
    assert event["value"] == value


def assert_transfer_allowed(coin, sender, receiver, value):
    """canTransfer allows it, and the transfer moves `value` and emits Transfer."""
    assert_verdict(coin, sender, receiver, value, Refusal.NONE)
    before = balances(coin, sender, receiver)
    tx = coin.transfer(receiver, value, {"from": sender})
    assert_transfer_event(tx, sender, receiver, value)
    assert balances(coin, sender, receiver) == [before[0] - value, before[1] + value]
    return tx


def assert_transfer_refused(coin, sender, receiver, value, reason: Refusal):
    """canTransfer gives `reason`, and the transfer reverts with it and moves nothing."""
    assert_verdict(coin, sender, receiver, value, reason)
    before = balances(coin, sender, receiver)
    supply = coin.totalSupply()
    with reverts_with("CoinTransferRefused", sender, receiver, value, int(reason)):
        coin.transfer(receiver, value, {"from": sender})
    assert balances(coin, sender, receiver) == before
    assert coin.totalSupply() == supply


def assert_mint_refused(coin, give, receiver, value, reason: Refusal):
    """canTransfer(0, receiver) gives `reason`, and a mint reverts with it and mints nothing."""
    assert_verdict(coin, ZERO_ADDRESS, receiver, value, reason)
    supply = coin.totalSupply()
    before = coin.balanceOf(receiver)
    with reverts_with("CoinTransferRefused", ZERO_ADDRESS, receiver, value, int(reason)):
        give(coin, receiver, value)
    assert coin.balanceOf(receiver) == before
    assert coin.totalSupply() == supply


# ------------------------------------------------------------------------------------------------
# C2: units
# ------------------------------------------------------------------------------------------------


def test_coin_has_two_decimals_so_100_units_are_one_euro(wijk_coin, debt_coin, give, resident, merchant):
    """spec: C2"""
    assert wijk_coin.decimals() == 2
    assert debt_coin.decimals() == 2
    give(wijk_coin, resident, 250)  # EUR 2.50
    tx = wijk_coin.transfer(merchant, 100, {"from": resident})  # EUR 1.00
    assert_transfer_event(tx, resident, merchant, 100)
    assert balances(wijk_coin, resident, merchant) == [150, 100]


# ------------------------------------------------------------------------------------------------
# T1-T5: who may receive
# ------------------------------------------------------------------------------------------------


def test_merchant_within_area_accepting_purpose_can_receive_coin(funded, resident, merchant):
    """spec: T1, T10"""
    assert_transfer_allowed(funded, resident, merchant, 250)
    assert balances(funded, resident, merchant) == [TEN_EUROS - 250, 250]


def test_merchant_outside_area_cannot_receive_local_coin(funded, resident, distant_merchant):
    """spec: T2, T10"""
    assert_transfer_refused(funded, resident, distant_merchant, 250, Refusal.RECEIVER_OUTSIDE_AREA)


def test_resident_outside_area_cannot_receive_person_to_person_coin(p2p_coin, give, resident, outsider):
    """spec: T2, T4, T10"""
    give(p2p_coin, resident, TEN_EUROS)
    assert_transfer_refused(p2p_coin, resident, outsider, 250, Refusal.RECEIVER_OUTSIDE_AREA)


def test_merchant_not_accepting_purpose_cannot_receive_coin(p2p_coin, debt_coin, give, resident, merchant):
    """spec: T3, T10"""
    # The merchant lies within both coins' areas but accepts neither ENERGY nor DEBT_SETTLEMENT;
    # a coin's person-to-person setting only helps residents.
    give(p2p_coin, resident, TEN_EUROS)
    assert_transfer_refused(p2p_coin, resident, merchant, 250, Refusal.PURPOSE_NOT_ACCEPTED)
    give(debt_coin, resident, TEN_EUROS)
    assert_transfer_refused(debt_coin, resident, merchant, 250, Refusal.PURPOSE_NOT_ACCEPTED)


def test_organisation_not_accepting_purpose_cannot_receive_coin(debt_coin, give, resident, organisation):
    """spec: T3, T10"""
    give(debt_coin, resident, TEN_EUROS)
    assert_transfer_refused(debt_coin, resident, organisation, 100, Refusal.PURPOSE_NOT_ACCEPTED)


def test_resident_can_pay_neighbour_with_person_to_person_coin(p2p_coin, give, resident, neighbour):
    """spec: T4, T10"""
    give(p2p_coin, resident, TEN_EUROS)
    assert p2p_coin.personToPerson()
    assert_transfer_allowed(p2p_coin, resident, neighbour, 400)
    assert_transfer_allowed(p2p_coin, neighbour, resident, 150)
    assert balances(p2p_coin, resident, neighbour) == [TEN_EUROS - 400 + 150, 400 - 150]


def test_resident_cannot_pay_neighbour_without_person_to_person(funded, resident, neighbour):
    """spec: T4, T10"""
    assert not funded.personToPerson()
    assert_transfer_refused(funded, resident, neighbour, 400, Refusal.PERSON_TO_PERSON_NOT_ALLOWED)


def test_resident_who_accepts_the_purpose_receives_without_person_to_person(
    funded, resident, neighbour, registry, registrar
):
    """spec: T4, T10"""
    assert not funded.personToPerson()
    registry.update(
        (
            neighbour.address,
            int(Kind.RESIDENT),
            to_bytes8(WIJK),
            purpose_set(Purpose.LOCAL_SPENDING),
            ref("n"),
        ),
        {"from": registrar},
    )
    assert_transfer_allowed(funded, resident, neighbour, 400)
    assert balances(funded, resident, neighbour) == [TEN_EUROS - 400, 400]


def test_municipality_receives_any_coin_wherever_registered(
    wijk_coin, p2p_coin, debt_coin, give, resident, merchant, municipality, far_municipality
):
    """spec: T5, T10"""
    # The municipality is registered for the gemeente (not within the wijk) and accepts no purpose.
    for coin in (wijk_coin, p2p_coin, debt_coin):
        give(coin, resident, TEN_EUROS)
        assert_transfer_allowed(coin, resident, municipality, 100)
        assert_transfer_allowed(coin, resident, far_municipality, 200)
        assert balances(coin, resident, municipality, far_municipality) == [TEN_EUROS - 300, 100, 200]
    # Merchants can pay it too.
    assert_transfer_allowed(wijk_coin, resident, merchant, 500)
    assert_transfer_allowed(wijk_coin, merchant, far_municipality, 500)
    assert balances(wijk_coin, merchant, far_municipality) == [0, 700]


# ------------------------------------------------------------------------------------------------
# T6-T9: who may send, and when
# ------------------------------------------------------------------------------------------------


def test_unregistered_sender_is_refused(wijk_coin, stranger, merchant):
    """spec: T6, T10"""
    # The rule comes before the balance: canTransfer says SenderNotRegistered, not InsufficientBalance.
    assert_transfer_refused(wijk_coin, stranger, merchant, 100, Refusal.SENDER_NOT_REGISTERED)


def test_unregistered_receiver_is_refused(funded, resident, stranger):
    """spec: T6, T10"""
    assert_transfer_refused(funded, resident, stranger, 100, Refusal.RECEIVER_NOT_REGISTERED)


def test_frozen_sender_is_refused_until_unfrozen(funded, registry, resident, merchant, compliance):
    """spec: T7, T10"""
    registry.freeze([resident], {"from": compliance})
    assert_transfer_refused(funded, resident, merchant, 100, Refusal.SENDER_FROZEN)
    registry.unfreeze([resident], {"from": compliance})
    assert_transfer_allowed(funded, resident, merchant, 100)


def test_frozen_receiver_is_refused(funded, registry, resident, merchant, compliance):
    """spec: T7, T10"""
    registry.freeze([merchant], {"from": compliance})
    assert_transfer_refused(funded, resident, merchant, 100, Refusal.RECEIVER_FROZEN)


def test_sender_is_checked_before_receiver(funded, registry, resident, stranger, compliance):
    """spec: T6, T7, T10"""
    registry.freeze([resident], {"from": compliance})
    assert_transfer_refused(funded, resident, stranger, 100, Refusal.SENDER_FROZEN)


def test_pause_refuses_every_balance_change(
    wijk_coin, debt_coin, give, registry, pauser, resident, merchant, municipality, compliance
):
    """spec: T8, T10, T12"""
    give(wijk_coin, resident, TEN_EUROS)
    give(debt_coin, resident, TEN_EUROS)
    registry.pause({"from": pauser})

    # Payment.
    assert_transfer_refused(wijk_coin, resident, merchant, 100, Refusal.SYSTEM_PAUSED)
    assert_transfer_refused(wijk_coin, resident, municipality, 100, Refusal.SYSTEM_PAUSED)
    # Mint.
    assert_mint_refused(wijk_coin, give, resident, 100, Refusal.SYSTEM_PAUSED)
    # Burn.
    assert_verdict(debt_coin, resident, ZERO_ADDRESS, 100, Refusal.SYSTEM_PAUSED)
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 100, int(Refusal.SYSTEM_PAUSED)):
        debt_coin.settleDebt(100, ref("debt case 1"), {"from": resident})
    assert debt_coin.balanceOf(resident) == TEN_EUROS
    # The pause is reported before anything the parties would be refused for.
    registry.freeze([resident], {"from": compliance})
    assert_transfer_refused(wijk_coin, resident, merchant, 100, Refusal.SYSTEM_PAUSED)
    registry.unfreeze([resident], {"from": compliance})

    registry.unpause({"from": pauser})
    assert_transfer_allowed(wijk_coin, resident, merchant, 100)


def test_expired_coin_does_not_move(make_coin, give, resident, municipality):
    """spec: T9, T10, T12"""
    expiry = chain.time() + 3600
    coin = make_coin(Purpose.EDUCATION, WIJK, expiry=expiry, symbol="GKO")
    assert coin.expiry() == expiry
    give(coin, resident, TEN_EUROS)
    assert_transfer_allowed(coin, resident, municipality, 100)

    chain.sleep(3600 + 60)  # with a margin: the node's clock and brownie's may differ by a second
    chain.mine()
    # Payment.
    assert_transfer_refused(coin, resident, municipality, 100, Refusal.COIN_EXPIRED)
    # Mint.
    assert_mint_refused(coin, give, resident, 100, Refusal.COIN_EXPIRED)
    # Burn (EDUCATION coins may be redeemed for services).
    assert_verdict(coin, resident, ZERO_ADDRESS, 100, Refusal.COIN_EXPIRED)
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 100, int(Refusal.COIN_EXPIRED)):
        coin.redeemService(100, ref("sport pass 7"), {"from": resident})
    assert balances(coin, resident, municipality) == [TEN_EUROS - 100, 100]


# ------------------------------------------------------------------------------------------------
# T10: canTransfer and the balance
# ------------------------------------------------------------------------------------------------


def test_can_transfer_reports_insufficient_balance_that_a_transfer_reverts_for(funded, resident, merchant):
    """spec: T10"""
    assert_verdict(funded, resident, merchant, TEN_EUROS, Refusal.NONE)
    assert_verdict(funded, resident, merchant, TEN_EUROS + 1, Refusal.INSUFFICIENT_BALANCE)
    with reverts_with("ERC20InsufficientBalance", resident, TEN_EUROS, TEN_EUROS + 1):
        funded.transfer(merchant, TEN_EUROS + 1, {"from": resident})
    assert balances(funded, resident, merchant) == [TEN_EUROS, 0]
    # A burn, too, is checked against the balance (a merchant's payout; residents make no burn with a
    # LOCAL_SPENDING coin: T14).
    assert_verdict(funded, merchant, ZERO_ADDRESS, 1, Refusal.INSUFFICIENT_BALANCE)
    assert_verdict(funded, resident, ZERO_ADDRESS, 1, Refusal.BURN_NOT_ALLOWED)
    assert_transfer_allowed(funded, resident, merchant, TEN_EUROS)


# ------------------------------------------------------------------------------------------------
# T11: transferFrom
# ------------------------------------------------------------------------------------------------


def test_transfer_from_after_approve_passes_the_transfer_rule(
    funded, registry, compliance, resident, merchant, distant_merchant
):
    """spec: T11, T2, T7"""
    spender = merchant  # a merchant collecting what the resident allowed it (a registered participant)
    tx = funded.approve(spender, 600, {"from": resident})
    approval = {"owner": resident.address, "spender": spender.address, "value": 600}
    assert dict(tx.events["Approval"]) == approval

    tx = funded.transferFrom(resident, merchant, 200, {"from": spender})
    assert_transfer_event(tx, resident, merchant, 200)
    assert balances(funded, resident, merchant) == [TEN_EUROS - 200, 200]
    assert funded.allowance(resident, spender) == 400

    # The spender cannot take the coins where the holder could not send them.
    with reverts_with(
        "CoinTransferRefused", resident, distant_merchant, 200, int(Refusal.RECEIVER_OUTSIDE_AREA)
    ):
        funded.transferFrom(resident, distant_merchant, 200, {"from": spender})
    registry.freeze([resident], {"from": compliance})
    with reverts_with("CoinTransferRefused", resident, merchant, 200, int(Refusal.SENDER_FROZEN)):
        funded.transferFrom(resident, merchant, 200, {"from": spender})
    registry.unfreeze([resident], {"from": compliance})
    assert balances(funded, resident, merchant, distant_merchant) == [TEN_EUROS - 200, 200, 0]
    assert funded.allowance(resident, spender) == 400

    # Nor more than the allowance.
    with reverts_with("ERC20InsufficientAllowance", spender, 400, 401):
        funded.transferFrom(resident, merchant, 401, {"from": spender})
    assert balances(funded, resident, merchant) == [TEN_EUROS - 200, 200]


# ------------------------------------------------------------------------------------------------
# T13: the spender of transferFrom
# ------------------------------------------------------------------------------------------------


def test_an_unregistered_spender_cannot_move_coins_with_transfer_from(funded, resident, merchant, stranger):
    """spec: T13"""
    funded.approve(stranger, 600, {"from": resident})
    with reverts_with("CoinSpenderNotRegistered", stranger):
        funded.transferFrom(resident, merchant, 200, {"from": stranger})
    assert balances(funded, resident, merchant) == [TEN_EUROS, 0]
    assert funded.allowance(resident, stranger) == 600


def test_a_frozen_spender_cannot_move_coins_with_transfer_from(
    funded, registry, resident, merchant, compliance
):
    """spec: T13, T7"""
    funded.approve(merchant, 600, {"from": resident})
    registry.freeze([merchant], {"from": compliance})
    with reverts_with("CoinSpenderFrozen", merchant):
        funded.transferFrom(resident, merchant, 200, {"from": merchant})
    registry.unfreeze([merchant], {"from": compliance})
    funded.transferFrom(resident, merchant, 200, {"from": merchant})
    assert balances(funded, resident, merchant) == [TEN_EUROS - 200, 200]


def test_a_spender_that_is_a_participant_moves_coins_to_a_third_party(funded, resident, neighbour, merchant):
    """spec: T13, T11"""
    funded.approve(neighbour, 300, {"from": resident})
    tx = funded.transferFrom(resident, merchant, 300, {"from": neighbour})
    assert_transfer_event(tx, resident, merchant, 300)
    assert balances(funded, resident, neighbour, merchant) == [TEN_EUROS - 300, 0, 300]


# ------------------------------------------------------------------------------------------------
# T12: minting, and burning
# ------------------------------------------------------------------------------------------------


def test_minting_to_resident_within_area_ignores_person_to_person(wijk_coin, give, resident, neighbour):
    """spec: T12, T10"""
    assert not wijk_coin.personToPerson()
    for receiver, amount in ((resident, 300), (neighbour, 500)):
        assert_verdict(wijk_coin, ZERO_ADDRESS, receiver, amount, Refusal.NONE)
        tx = give(wijk_coin, receiver, amount)
        assert_transfer_event(tx, ZERO_ADDRESS, receiver, amount)
    assert balances(wijk_coin, resident, neighbour) == [300, 500]
    assert wijk_coin.totalSupply() == 800


def test_minting_follows_the_rule_on_the_receivers_side(
    wijk_coin,
    debt_coin,
    give,
    issuer,
    funded_minter,
    registry,
    resident,
    outsider,
    distant_merchant,
    organisation,
    stranger,
    compliance,
):
    """spec: T12, T2, T3, T6, T7, T10"""
    allowance = issuer.minterAllowance(funded_minter)
    assert_mint_refused(wijk_coin, give, outsider, 100, Refusal.RECEIVER_OUTSIDE_AREA)
    # Mints reach residents only (M14); the coin's own verdict for the others is still the rule's.
    assert_verdict(wijk_coin, ZERO_ADDRESS, distant_merchant, 100, Refusal.RECEIVER_OUTSIDE_AREA)
    assert_verdict(wijk_coin, ZERO_ADDRESS, stranger, 100, Refusal.RECEIVER_NOT_REGISTERED)
    assert_verdict(debt_coin, ZERO_ADDRESS, organisation, 100, Refusal.PURPOSE_NOT_ACCEPTED)
    registry.freeze([resident], {"from": compliance})
    assert_mint_refused(wijk_coin, give, resident, 100, Refusal.RECEIVER_FROZEN)
    # A refused mint spends nothing of the minter's allowance.
    assert issuer.minterAllowance(funded_minter) == allowance


# ------------------------------------------------------------------------------------------------
# T14: canTransfer and canBurn give a burn the burn's own verdict
# ------------------------------------------------------------------------------------------------


def assert_burn_verdict(coin, holder, reason, value, expected: Refusal):
    allowed, given = coin.canBurn(_address(holder), int(reason), value)
    assert (allowed, Refusal(given)) == (expected == Refusal.NONE, expected)


def test_can_transfer_to_nobody_answers_as_the_holders_burn_would(
    wijk_coin, debt_coin, give, resident, merchant, municipality, organisation, stranger
):
    """spec: T14, B5"""
    give(wijk_coin, resident, TEN_EUROS)
    give(debt_coin, resident, TEN_EUROS)
    wijk_coin.transfer(merchant, 500, {"from": resident})
    debt_coin.transfer(municipality, 500, {"from": resident})
    # A resident has no burn with a LOCAL_SPENDING coin; the burn itself says so.
    assert_verdict(wijk_coin, resident, ZERO_ADDRESS, 100, Refusal.BURN_NOT_ALLOWED)
    with reverts_with("CoinBurnNotAllowed", resident, int(BurnReason.SERVICE_REDEMPTION)):
        wijk_coin.redeemService(100, ref("not a service coin"), {"from": resident})
    # The municipality, organisations and strangers make no burns at all.
    for holder in (municipality, organisation, stranger):
        assert_verdict(debt_coin, holder, ZERO_ADDRESS, 1, Refusal.BURN_NOT_ALLOWED)
    # Those a burn is allowed to: the merchant's payout, the resident's debt settlement.
    assert_verdict(wijk_coin, merchant, ZERO_ADDRESS, 500, Refusal.NONE)
    assert_verdict(debt_coin, resident, ZERO_ADDRESS, 500, Refusal.NONE)
    wijk_coin.redeemPayout(500, ref("payout"), {"from": merchant})
    debt_coin.settleDebt(500, ref("debt"), {"from": resident})


def test_can_burn_answers_per_reason_as_the_burn_does(
    debt_coin, wijk_coin, give, registry, pauser, resident, merchant, compliance
):
    """spec: T14, B1, B3, B5, T7, T8"""
    give(debt_coin, resident, TEN_EUROS)
    assert_burn_verdict(debt_coin, resident, BurnReason.DEBT_SETTLEMENT, TEN_EUROS, Refusal.NONE)
    assert_burn_verdict(
        debt_coin, resident, BurnReason.DEBT_SETTLEMENT, TEN_EUROS + 1, Refusal.INSUFFICIENT_BALANCE
    )
    for reason in (BurnReason.SERVICE_REDEMPTION, BurnReason.MERCHANT_PAYOUT, BurnReason.EXPIRY_RECLAIM):
        assert_burn_verdict(debt_coin, resident, reason, 1, Refusal.BURN_NOT_ALLOWED)
    assert_burn_verdict(wijk_coin, merchant, BurnReason.DEBT_SETTLEMENT, 1, Refusal.BURN_NOT_ALLOWED)

    # The kind comes first (as in the burn), then the pause and the freeze.
    registry.freeze([resident], {"from": compliance})
    assert_burn_verdict(debt_coin, resident, BurnReason.DEBT_SETTLEMENT, 1, Refusal.SENDER_FROZEN)
    assert_burn_verdict(debt_coin, resident, BurnReason.SERVICE_REDEMPTION, 1, Refusal.BURN_NOT_ALLOWED)
    registry.pause({"from": pauser})
    assert_burn_verdict(debt_coin, resident, BurnReason.DEBT_SETTLEMENT, 1, Refusal.SYSTEM_PAUSED)
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 1, int(Refusal.SYSTEM_PAUSED)):
        debt_coin.settleDebt(1, ref("debt"), {"from": resident})


def test_burn_checks_only_the_senders_side(debt_coin, give, registry, resident, compliance):
    """spec: T7, T10"""
    give(debt_coin, resident, TEN_EUROS)
    assert_verdict(debt_coin, resident, ZERO_ADDRESS, 300, Refusal.NONE)
    tx = debt_coin.settleDebt(300, ref("debt case 42"), {"from": resident})
    assert_transfer_event(tx, resident, ZERO_ADDRESS, 300)
    assert debt_coin.balanceOf(resident) == TEN_EUROS - 300
    assert debt_coin.totalSupply() == TEN_EUROS - 300

    registry.freeze([resident], {"from": compliance})
    assert_verdict(debt_coin, resident, ZERO_ADDRESS, 300, Refusal.SENDER_FROZEN)
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 300, int(Refusal.SENDER_FROZEN)):
        debt_coin.settleDebt(300, ref("debt case 43"), {"from": resident})
    assert debt_coin.balanceOf(resident) == TEN_EUROS - 300
    assert debt_coin.totalSupply() == TEN_EUROS - 300
