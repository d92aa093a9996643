"""SocialCoin burns: debt settlement, service redemption, merchant payout, signed burns and expiry
reclaim (rules B1–B8)."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, chain, web3
from eth_account import Account
from eth_account.messages import encode_typed_data

from socialcoin.chain.constants import BurnReason, Purpose, TransferRefusal
from socialcoin.chain.typed_data import typed_message
from support import GEMEENTE, coin_domain, random_nonce, ref, reverts_with, sign_with, window

ZERO_REFERENCE = b"\x00" * 32


def block_time() -> int:
    """The latest block's timestamp. After a snapshot revert anvil's clock restarts from the snapshot's
    block while brownie's chain.time() keeps counting, so times that must already have passed are
    taken from the chain itself (the next block is never earlier)."""
    return web3.eth.get_block("latest")["timestamp"]


def b32(value) -> str:
    """A bytes32 error argument as brownie 1.22 prints it in a decoded custom error (Python's bytes repr);
    support.reverts_with passes such text through unchanged."""
    return str(bytes(value))


def burn_message(holder, reason, value, reference, valid_after=None, valid_before=None, nonce=None) -> dict:
    after, before = window()
    return {
        "from": holder.address,
        "reason": int(reason),
        "value": value,
        "burnReference": reference,
        "validAfter": after if valid_after is None else valid_after,
        "validBefore": before if valid_before is None else valid_before,
        "nonce": random_nonce() if nonce is None else nonce,
    }


def send_signed_burn(coin, message: dict, signature, sender):
    return coin.burnWithAuthorization(
        message["from"],
        message["reason"],
        message["value"],
        message["burnReference"],
        message["validAfter"],
        message["validBefore"],
        message["nonce"],
        signature.v,
        signature.r,
        signature.s,
        {"from": sender},
    )


def signed_burn(coin, holder, reason, value, reference, sender, **window_fields):
    message = burn_message(holder, reason, value, reference, **window_fields)
    signature = sign_with(holder, coin_domain(coin), "BurnWithAuthorization", message)
    return send_signed_burn(coin, message, signature, sender), message


def only_event(tx, name):
    assert len(tx.events[name]) == 1, f"expected one {name}, got {len(tx.events[name])}"
    return tx.events[name][0]


def assert_burn_transfer(tx, coin, holder, value):
    transfers = [e for e in tx.events["Transfer"] if e.address == coin.address]
    assert [(e["from"], e["to"], e["value"]) for e in transfers] == [(holder.address, ZERO_ADDRESS, value)]


@pytest.fixture(scope="module")
def service_coin(make_coin):
    return make_coin(Purpose.MUNICIPAL_SERVICES, GEMEENTE, name="Socialcoin Arnhem - Diensten", symbol="ADI")


@pytest.fixture
def expiring_coin(make_coin):
    """A MOBILITY coin for the gemeente that expires in an hour."""
    return make_coin(Purpose.MOBILITY, GEMEENTE, expiry=chain.time() + 3600, name="Socialcoin Arnhem - OV")


def expire(coin):
    chain.sleep(coin.expiry() - block_time() + 60)
    chain.mine()


# ------------------------------------------------------------------------------------------------
# B1: debt settlement
# ------------------------------------------------------------------------------------------------


def test_a_resident_settles_debt_by_burning_debt_settlement_coins(debt_coin, give, resident):
    """spec: B1"""
    give(debt_coin, resident, 1000)
    supply = debt_coin.totalSupply()
    tx = debt_coin.settleDebt(400, ref("debt case 17"), {"from": resident})

    event = only_event(tx, "DebtSettled")
    assert event.address == debt_coin.address
    assert (event["resident"], event["value"], bytes(event["debtReference"])) == (
        resident.address,
        400,
        ref("debt case 17"),
    )
    assert_burn_transfer(tx, debt_coin, resident, 400)
    assert debt_coin.balanceOf(resident) == 600
    assert debt_coin.totalSupply() == supply - 400


@pytest.mark.parametrize(
    "purpose", [Purpose.LOCAL_SPENDING, Purpose.MUNICIPAL_SERVICES, Purpose.SPORT_CULTURE]
)
def test_debt_cannot_be_settled_with_coins_of_another_purpose(make_coin, give, resident, purpose):
    """spec: B1, B5, P3"""
    coin = make_coin(purpose, GEMEENTE)
    give(coin, resident, 1000)
    with reverts_with("CoinBurnNotAllowed", resident, BurnReason.DEBT_SETTLEMENT):
        coin.settleDebt(400, ref("debt case 17"), {"from": resident})
    assert coin.balanceOf(resident) == 1000


def test_only_a_resident_settles_debt(debt_coin, give, municipality, merchant):
    """spec: B1, B5"""
    give(debt_coin, municipality, 1000)
    for holder in (municipality, merchant):
        with reverts_with("CoinBurnNotAllowed", holder, BurnReason.DEBT_SETTLEMENT):
            debt_coin.settleDebt(400, ref("debt case 17"), {"from": holder})
    assert debt_coin.balanceOf(municipality) == 1000


# ------------------------------------------------------------------------------------------------
# B2: service redemption
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "purpose", [Purpose.MUNICIPAL_SERVICES, Purpose.SPORT_CULTURE, Purpose.MOBILITY, Purpose.EDUCATION]
)
def test_a_resident_redeems_a_service_with_coins_whose_purpose_allows_it(make_coin, give, resident, purpose):
    """spec: B2, P3"""
    coin = make_coin(purpose, GEMEENTE)
    give(coin, resident, 1000)
    tx = coin.redeemService(250, ref("swimming pass 2026"), {"from": resident})

    event = only_event(tx, "ServiceRedeemed")
    assert event.address == coin.address
    assert (event["resident"], event["value"], bytes(event["serviceReference"])) == (
        resident.address,
        250,
        ref("swimming pass 2026"),
    )
    assert_burn_transfer(tx, coin, resident, 250)
    assert coin.balanceOf(resident) == 750
    assert coin.totalSupply() == 750


@pytest.mark.parametrize("purpose", [Purpose.DEBT_SETTLEMENT, Purpose.LOCAL_SPENDING, Purpose.ENERGY])
def test_a_service_cannot_be_redeemed_with_coins_whose_purpose_does_not_allow_it(
    make_coin, debt_coin, give, resident, purpose
):
    """spec: B2, B5, P3"""
    coin = debt_coin if purpose == Purpose.DEBT_SETTLEMENT else make_coin(purpose, GEMEENTE)
    give(coin, resident, 1000)
    with reverts_with("CoinBurnNotAllowed", resident, BurnReason.SERVICE_REDEMPTION):
        coin.redeemService(250, ref("swimming pass 2026"), {"from": resident})
    assert coin.totalSupply() == 1000


def test_only_a_resident_redeems_a_service(service_coin, give, municipality, merchant, organisation):
    """spec: B2, B5"""
    give(service_coin, municipality, 1000)
    for holder in (municipality, merchant, organisation):
        with reverts_with("CoinBurnNotAllowed", holder, BurnReason.SERVICE_REDEMPTION):
            service_coin.redeemService(250, ref("leges"), {"from": holder})
    assert service_coin.totalSupply() == 1000


# ------------------------------------------------------------------------------------------------
# B3: merchant payout
# ------------------------------------------------------------------------------------------------


def test_a_merchant_redeems_coins_for_a_payout(wijk_coin, give, merchant):
    """spec: B3"""
    give(wijk_coin, merchant, 2000)
    tx = wijk_coin.redeemPayout(1500, ref("payout 2026-11"), {"from": merchant})

    event = only_event(tx, "PayoutRedeemed")
    assert event.address == wijk_coin.address
    assert (event["merchant"], event["value"], bytes(event["payoutReference"])) == (
        merchant.address,
        1500,
        ref("payout 2026-11"),
    )
    assert_burn_transfer(tx, wijk_coin, merchant, 1500)
    assert wijk_coin.balanceOf(merchant) == 500
    assert wijk_coin.totalSupply() == 500


def test_only_a_merchant_redeems_a_payout(wijk_coin, give, resident, municipality, organisation):
    """spec: B3, B5"""
    give(wijk_coin, resident, 1000)
    give(wijk_coin, municipality, 1000)
    for holder in (resident, municipality, organisation):
        with reverts_with("CoinBurnNotAllowed", holder, BurnReason.MERCHANT_PAYOUT):
            wijk_coin.redeemPayout(500, ref("payout"), {"from": holder})
    assert wijk_coin.totalSupply() == 2000


# ------------------------------------------------------------------------------------------------
# B4: amount and reference
# ------------------------------------------------------------------------------------------------


def test_every_burn_needs_a_non_zero_amount(
    debt_coin, service_coin, wijk_coin, give, resident, merchant, relayer
):
    """spec: B4"""
    give(debt_coin, resident, 1000)
    give(wijk_coin, merchant, 1000)
    with reverts_with("CoinZeroAmount"):
        debt_coin.settleDebt(0, ref("debt"), {"from": resident})
    with reverts_with("CoinZeroAmount"):
        service_coin.redeemService(0, ref("service"), {"from": resident})
    with reverts_with("CoinZeroAmount"):
        wijk_coin.redeemPayout(0, ref("payout"), {"from": merchant})
    with reverts_with("CoinZeroAmount"):
        signed_burn(debt_coin, resident, BurnReason.DEBT_SETTLEMENT, 0, ref("debt"), relayer)
    assert debt_coin.totalSupply() == 1000
    assert wijk_coin.totalSupply() == 1000


def test_every_burn_needs_a_reference(debt_coin, service_coin, wijk_coin, give, resident, merchant, relayer):
    """spec: B4"""
    give(debt_coin, resident, 1000)
    give(service_coin, resident, 1000)
    give(wijk_coin, merchant, 1000)
    with reverts_with("CoinMissingReference"):
        debt_coin.settleDebt(100, ZERO_REFERENCE, {"from": resident})
    with reverts_with("CoinMissingReference"):
        service_coin.redeemService(100, ZERO_REFERENCE, {"from": resident})
    with reverts_with("CoinMissingReference"):
        wijk_coin.redeemPayout(100, ZERO_REFERENCE, {"from": merchant})
    with reverts_with("CoinMissingReference"):
        signed_burn(wijk_coin, merchant, BurnReason.MERCHANT_PAYOUT, 100, ZERO_REFERENCE, relayer)
    assert (debt_coin.totalSupply(), service_coin.totalSupply(), wijk_coin.totalSupply()) == (
        1000,
        1000,
        1000,
    )


def test_a_burn_beyond_the_balance_fails(debt_coin, give, resident):
    """spec: B1, B4"""
    give(debt_coin, resident, 1000)
    with reverts_with("ERC20InsufficientBalance", resident, 1000, 1001):
        debt_coin.settleDebt(1001, ref("too much debt"), {"from": resident})
    assert debt_coin.balanceOf(resident) == 1000


# ------------------------------------------------------------------------------------------------
# B5: burns the purpose or the holder's kind does not allow; burns pass the transfer rule
# ------------------------------------------------------------------------------------------------


def test_an_unregistered_holder_cannot_burn(debt_coin, wijk_coin, stranger):
    """spec: B5"""
    with reverts_with("CoinBurnNotAllowed", stranger, BurnReason.DEBT_SETTLEMENT):
        debt_coin.settleDebt(100, ref("debt"), {"from": stranger})
    with reverts_with("CoinBurnNotAllowed", stranger, BurnReason.MERCHANT_PAYOUT):
        wijk_coin.redeemPayout(100, ref("payout"), {"from": stranger})


def test_no_holder_can_burn_for_expiry_reclaim(service_coin, wijk_coin, give, resident, merchant, relayer):
    """spec: B5, B6, B7"""
    give(service_coin, resident, 1000)
    give(wijk_coin, merchant, 1000)
    with reverts_with("CoinBurnNotAllowed", resident, BurnReason.EXPIRY_RECLAIM):
        signed_burn(service_coin, resident, BurnReason.EXPIRY_RECLAIM, 100, ref("mine now"), relayer)
    with reverts_with("CoinBurnNotAllowed", merchant, BurnReason.EXPIRY_RECLAIM):
        signed_burn(wijk_coin, merchant, BurnReason.EXPIRY_RECLAIM, 100, ref("mine now"), relayer)
    assert (service_coin.totalSupply(), wijk_coin.totalSupply()) == (1000, 1000)


def test_a_frozen_holder_cannot_burn(debt_coin, wijk_coin, give, registry, resident, merchant, compliance):
    """spec: B5, T7"""
    give(debt_coin, resident, 1000)
    give(wijk_coin, merchant, 1000)
    registry.freeze([resident, merchant], {"from": compliance})
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 100, TransferRefusal.SENDER_FROZEN):
        debt_coin.settleDebt(100, ref("debt"), {"from": resident})
    with reverts_with("CoinTransferRefused", merchant, ZERO_ADDRESS, 100, TransferRefusal.SENDER_FROZEN):
        wijk_coin.redeemPayout(100, ref("payout"), {"from": merchant})
    registry.unfreeze([resident], {"from": compliance})
    debt_coin.settleDebt(100, ref("debt"), {"from": resident})
    assert debt_coin.balanceOf(resident) == 900


def test_no_burn_while_the_system_is_paused(debt_coin, wijk_coin, give, registry, pauser, resident, merchant):
    """spec: B5, T8"""
    give(debt_coin, resident, 1000)
    give(wijk_coin, merchant, 1000)
    registry.pause({"from": pauser})
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 100, TransferRefusal.SYSTEM_PAUSED):
        debt_coin.settleDebt(100, ref("debt"), {"from": resident})
    with reverts_with("CoinTransferRefused", merchant, ZERO_ADDRESS, 100, TransferRefusal.SYSTEM_PAUSED):
        wijk_coin.redeemPayout(100, ref("payout"), {"from": merchant})
    registry.unpause({"from": pauser})
    wijk_coin.redeemPayout(100, ref("payout"), {"from": merchant})
    assert wijk_coin.totalSupply() == 900


def test_no_burn_by_the_holder_after_expiry(expiring_coin, give, resident):
    """spec: B5, T9"""
    give(expiring_coin, resident, 1000)
    expire(expiring_coin)
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 100, TransferRefusal.COIN_EXPIRED):
        expiring_coin.redeemService(100, ref("bus pass"), {"from": resident})
    assert expiring_coin.balanceOf(resident) == 1000


# ------------------------------------------------------------------------------------------------
# B6: signed burns, sent by a relayer
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason, event_name, fields",
    [
        (BurnReason.DEBT_SETTLEMENT, "DebtSettled", ("resident", "debtReference")),
        (BurnReason.SERVICE_REDEMPTION, "ServiceRedeemed", ("resident", "serviceReference")),
        (BurnReason.MERCHANT_PAYOUT, "PayoutRedeemed", ("merchant", "payoutReference")),
    ],
)
def test_a_relayer_sends_a_burn_the_holder_signed(
    debt_coin, service_coin, wijk_coin, give, resident, merchant, relayer, reason, event_name, fields
):
    """spec: B6, B1, B2, B3, A8"""
    coin, holder = {
        BurnReason.DEBT_SETTLEMENT: (debt_coin, resident),
        BurnReason.SERVICE_REDEMPTION: (service_coin, resident),
        BurnReason.MERCHANT_PAYOUT: (wijk_coin, merchant),
    }[reason]
    give(coin, holder, 1000)
    sent_by_holder = web3.eth.get_transaction_count(holder.address)

    tx, message = signed_burn(coin, holder, reason, 300, ref("signed burn"), relayer)

    assert tx.sender == relayer
    assert web3.eth.get_transaction_count(holder.address) == sent_by_holder
    used = only_event(tx, "AuthorizationUsed")
    assert (used["authorizer"], bytes(used["nonce"])) == (holder.address, message["nonce"])
    event = only_event(tx, event_name)
    assert event.address == coin.address
    holder_field, reference_field = fields
    assert (event[holder_field], event["value"], bytes(event[reference_field])) == (
        holder.address,
        300,
        ref("signed burn"),
    )
    assert_burn_transfer(tx, coin, holder, 300)
    assert coin.authorizationState(holder, message["nonce"])
    assert coin.balanceOf(holder) == 700
    assert coin.totalSupply() == 700


def test_a_signed_burn_cannot_be_replayed(debt_coin, give, resident, relayer):
    """spec: B6, A4"""
    give(debt_coin, resident, 1000)
    message = burn_message(resident, BurnReason.DEBT_SETTLEMENT, 300, ref("debt"))
    signature = sign_with(resident, coin_domain(debt_coin), "BurnWithAuthorization", message)
    send_signed_burn(debt_coin, message, signature, relayer)
    with reverts_with("AuthorizationAlreadyUsed", resident, b32(message["nonce"])):
        send_signed_burn(debt_coin, message, signature, relayer)
    assert debt_coin.balanceOf(resident) == 700


def test_a_burn_signed_by_someone_else_is_refused(debt_coin, give, resident, neighbour, relayer):
    """spec: B6, A5"""
    give(debt_coin, resident, 1000)
    message = burn_message(resident, BurnReason.DEBT_SETTLEMENT, 300, ref("debt"))
    signature = sign_with(neighbour, coin_domain(debt_coin), "BurnWithAuthorization", message)
    with reverts_with("AuthorizationInvalidSigner", neighbour, resident):
        send_signed_burn(debt_coin, message, signature, relayer)
    assert debt_coin.balanceOf(resident) == 1000


def test_a_relayer_cannot_change_a_signed_burn(debt_coin, give, resident, relayer):
    """spec: B6, A5"""
    give(debt_coin, resident, 1000)
    message = burn_message(resident, BurnReason.DEBT_SETTLEMENT, 300, ref("debt"))
    signature = sign_with(resident, coin_domain(debt_coin), "BurnWithAuthorization", message)
    altered = dict(message, value=1000)
    signable = encode_typed_data(
        full_message=typed_message(coin_domain(debt_coin), "BurnWithAuthorization", altered)
    )
    recovered = Account.recover_message(signable, vrs=(signature.v, signature.r, signature.s))
    assert recovered != resident.address
    with reverts_with("AuthorizationInvalidSigner", recovered, resident):
        send_signed_burn(debt_coin, altered, signature, relayer)
    assert debt_coin.balanceOf(resident) == 1000


def test_a_signed_burn_is_valid_only_within_its_window(debt_coin, give, resident, relayer):
    """spec: B6, A3"""
    give(debt_coin, resident, 1000)
    past, now = block_time() - 10, chain.time()
    with reverts_with("AuthorizationExpired", past):
        signed_burn(debt_coin, resident, 0, 100, ref("debt"), relayer, valid_after=0, valid_before=past)
    with reverts_with("AuthorizationNotYetValid", now + 3600):
        signed_burn(
            debt_coin, resident, 0, 100, ref("debt"), relayer, valid_after=now + 3600, valid_before=now + 7200
        )
    assert debt_coin.balanceOf(resident) == 1000


# ------------------------------------------------------------------------------------------------
# B7: expiry reclaim by the master minter
# ------------------------------------------------------------------------------------------------


def test_the_master_minter_reclaims_expired_coins_into_a_minters_allowance(
    expiring_coin, give, issuer, master_minter, funded_minter, resident, municipality, neighbour
):
    """spec: B7"""
    give(expiring_coin, resident, 500)
    give(expiring_coin, municipality, 300)
    allowance = issuer.minterAllowance(funded_minter)
    expire(expiring_coin)

    holders = [resident, municipality, neighbour]
    tx = issuer.reclaimExpired(expiring_coin, holders, funded_minter, {"from": master_minter})

    assert tx.return_value == 800
    reclaimed = tx.events["ExpiredReclaimed"]
    assert all(e.address == expiring_coin.address for e in reclaimed)
    # The neighbour holds nothing: skipped without an event (X6).
    assert [(e["holder"], e["value"]) for e in reclaimed] == [
        (resident.address, 500),
        (municipality.address, 300),
    ]
    transfers = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]
    assert transfers == [(h.address, ZERO_ADDRESS, v) for h, v in ((resident, 500), (municipality, 300))]
    total = only_event(tx, "ExpiredCoinsReclaimed")
    assert total.address == issuer.address
    assert (total["coin"], total["amount"], total["holders"], total["creditedMinter"]) == (
        expiring_coin.address,
        800,
        3,
        funded_minter.address,
    )
    assert issuer.minterAllowance(funded_minter) == allowance + 800
    assert expiring_coin.totalSupply() == 0
    assert expiring_coin.balanceOf(resident) == 0

    # A second reclaim finds nothing left.
    tx = issuer.reclaimExpired(expiring_coin, [resident], funded_minter, {"from": master_minter})
    assert tx.return_value == 0
    assert only_event(tx, "ExpiredCoinsReclaimed")["amount"] == 0
    assert issuer.minterAllowance(funded_minter) == allowance + 800


def test_an_expiry_reclaim_credited_to_nobody_is_only_reported(
    expiring_coin, give, issuer, master_minter, funded_minter, resident
):
    """spec: B7"""
    give(expiring_coin, resident, 500)
    allowance = issuer.minterAllowance(funded_minter)
    expire(expiring_coin)

    tx = issuer.reclaimExpired(expiring_coin, [resident], ZERO_ADDRESS, {"from": master_minter})
    event = only_event(tx, "ExpiredCoinsReclaimed")
    assert (event["coin"], event["amount"], event["holders"], event["creditedMinter"]) == (
        expiring_coin.address,
        500,
        1,
        ZERO_ADDRESS,
    )
    assert issuer.minterAllowance(funded_minter) == allowance
    assert expiring_coin.totalSupply() == 0


def test_an_expiry_reclaim_works_while_paused_and_from_frozen_holders(
    expiring_coin,
    give,
    issuer,
    registry,
    pauser,
    master_minter,
    funded_minter,
    resident,
    municipality,
    compliance,
):
    """spec: B7, T8"""
    give(expiring_coin, resident, 500)
    give(expiring_coin, municipality, 300)
    expire(expiring_coin)
    registry.freeze([resident], {"from": compliance})
    registry.pause({"from": pauser})
    assert registry.paused()

    tx = issuer.reclaimExpired(
        expiring_coin, [resident, municipality], funded_minter, {"from": master_minter}
    )
    assert [(e["holder"], e["value"]) for e in tx.events["ExpiredReclaimed"]] == [
        (resident.address, 500),
        (municipality.address, 300),
    ]
    assert only_event(tx, "ExpiredCoinsReclaimed")["amount"] == 800
    assert expiring_coin.totalSupply() == 0


def test_holders_cannot_move_expired_coins_until_they_are_reclaimed(
    expiring_coin, give, issuer, master_minter, resident, municipality
):
    """spec: B7, T9"""
    give(expiring_coin, resident, 500)
    expire(expiring_coin)
    with reverts_with("CoinTransferRefused", resident, municipality, 100, TransferRefusal.COIN_EXPIRED):
        expiring_coin.transfer(municipality, 100, {"from": resident})
    issuer.reclaimExpired(expiring_coin, [resident], ZERO_ADDRESS, {"from": master_minter})
    assert expiring_coin.balanceOf(resident) == 0


def test_only_the_master_minter_reclaims_expired_coins(
    expiring_coin, give, issuer, admin, funded_minter, stranger, resident
):
    """spec: B7"""
    give(expiring_coin, resident, 500)
    expire(expiring_coin)
    for caller in (stranger, admin, funded_minter):
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(issuer.MASTER_MINTER_ROLE())):
            issuer.reclaimExpired(expiring_coin, [resident], ZERO_ADDRESS, {"from": caller})
    assert expiring_coin.balanceOf(resident) == 500


def test_only_the_issuer_calls_a_coins_reclaim(expiring_coin, give, master_minter, admin, resident):
    """spec: B7, M10"""
    give(expiring_coin, resident, 500)
    expire(expiring_coin)
    for caller in (master_minter, admin, resident):
        with reverts_with("CoinUnauthorizedCaller", caller):
            expiring_coin.reclaimExpired(resident, {"from": caller})
    assert expiring_coin.balanceOf(resident) == 500


def test_an_expiry_reclaim_credited_to_an_account_that_is_not_a_minter_fails(
    expiring_coin, give, issuer, master_minter, funded_minter, stranger, resident
):
    """spec: B7"""
    give(expiring_coin, resident, 500)
    expire(expiring_coin)
    with reverts_with("IssuerNotAMinter", stranger):
        issuer.reclaimExpired(expiring_coin, [resident], stranger, {"from": master_minter})
    issuer.removeMinter(funded_minter, {"from": master_minter})
    with reverts_with("IssuerNotAMinter", funded_minter):
        issuer.reclaimExpired(expiring_coin, [resident], funded_minter, {"from": master_minter})
    assert expiring_coin.balanceOf(resident) == 500


def test_an_expiry_reclaim_of_an_unknown_coin_fails(issuer, registry, master_minter, resident):
    """spec: B7"""
    with reverts_with("IssuerUnknownCoin", registry):
        issuer.reclaimExpired(registry, [resident], ZERO_ADDRESS, {"from": master_minter})


# ------------------------------------------------------------------------------------------------
# B8: not before expiry
# ------------------------------------------------------------------------------------------------


def test_reclaiming_before_expiry_fails(expiring_coin, give, issuer, master_minter, funded_minter, resident):
    """spec: B8"""
    give(expiring_coin, resident, 500)
    expiry = expiring_coin.expiry()
    with reverts_with("CoinNotExpired", expiry):
        issuer.reclaimExpired(expiring_coin, [resident], funded_minter, {"from": master_minter})
    chain.sleep(expiry - chain.time() - 600)
    chain.mine()
    with reverts_with("CoinNotExpired", expiry):
        issuer.reclaimExpired(expiring_coin, [resident], ZERO_ADDRESS, {"from": master_minter})
    assert expiring_coin.balanceOf(resident) == 500


def test_a_coin_without_expiry_can_never_be_reclaimed(wijk_coin, give, issuer, master_minter, resident):
    """spec: B8"""
    give(wijk_coin, resident, 500)
    assert wijk_coin.expiry() == 0
    chain.sleep(20 * 365 * 24 * 3600)
    chain.mine()
    with reverts_with("CoinNotExpired", 0):
        issuer.reclaimExpired(wijk_coin, [resident], ZERO_ADDRESS, {"from": master_minter})
    assert wijk_coin.balanceOf(resident) == 500
