"""Merchants keep what they earned when a coin expires (docs/contracts.md, X1-X7): a redemption grace
after expiry for payouts, and an expiry reclaim that never takes a merchant's balance as a reclaim."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, chain, web3
from eth_abi import encode
from eth_utils import keccak

from socialcoin.chain.constants import BurnReason, Purpose, TransferRefusal
from support import GEMEENTE, WIJK, coin_domain, random_nonce, ref, reverts_with, sign_with, window

GRACE = 7 * 24 * 3600


def block_time() -> int:
    """The latest block's timestamp (see test_burns.block_time)."""
    return web3.eth.get_block("latest")["timestamp"]


def move_to(timestamp: int) -> None:
    """Mines a block at least at `timestamp` (with a minute's margin for the next block's time)."""
    chain.sleep(max(0, timestamp - block_time()) + 60)
    chain.mine()


@pytest.fixture
def graced_coin(make_coin):
    """A LOCAL_SPENDING wijk coin that expires in an hour, with a week's redemption grace."""
    return make_coin(
        Purpose.LOCAL_SPENDING,
        WIJK,
        expiry=block_time() + 3600,
        grace=GRACE,
        name="Wijkmunt 2026",
        symbol="GK6",
    )


@pytest.fixture
def expired(graced_coin, give, resident, merchant, municipality):
    """The coin after expiry, within its grace: the resident, the merchant and the municipality hold some."""
    # Merchants and the municipality earn their coins from residents (admin mints go to residents).
    give(graced_coin, resident, 1300)
    graced_coin.pay(merchant, 700, ref("sales"), {"from": resident})
    graced_coin.transfer(municipality, 200, {"from": resident})
    move_to(graced_coin.expiry())
    assert block_time() < graced_coin.expiry() + GRACE
    return graced_coin


def verdict(answer) -> tuple[bool, TransferRefusal]:
    """canTransfer's or canBurn's answer with the reason as a TransferRefusal."""
    allowed, reason = answer
    return bool(allowed), TransferRefusal(int(reason))


def after_grace(coin) -> None:
    move_to(coin.expiry() + coin.redemptionGrace())


def expiry_reference(coin, merchant) -> bytes:
    tag = keccak(text="Socialcoin expiry payout")
    return keccak(encode(["bytes32", "address", "address"], [tag, coin.address, merchant.address]))


def signed_payout(coin, merchant, value, reference, relayer):
    after, before = window()
    message = {
        "from": merchant.address,
        "reason": int(BurnReason.MERCHANT_PAYOUT),
        "value": value,
        "burnReference": reference,
        "validAfter": after,
        "validBefore": before,
        "nonce": random_nonce(),
    }
    signature = sign_with(merchant, coin_domain(coin), "BurnWithAuthorization", message)
    return coin.burnWithAuthorization(
        *message.values(), signature.v, signature.r, signature.s, {"from": relayer}
    )


# ------------------------------------------------------------------------------------------------
# X2, X3: payouts during the grace, and only then
# ------------------------------------------------------------------------------------------------


def test_a_merchant_redeems_an_expired_coin_during_the_grace(expired, merchant):
    """spec: X2"""
    assert verdict(expired.canBurn(merchant, BurnReason.MERCHANT_PAYOUT, 300)) == (True, TransferRefusal.NONE)
    assert verdict(expired.canTransfer(merchant, ZERO_ADDRESS, 300)) == (True, TransferRefusal.NONE)
    tx = expired.redeemPayout(300, ref("payout after expiry"), {"from": merchant})
    event = tx.events["PayoutRedeemed"]
    assert (event["merchant"], event["value"], bytes(event["payoutReference"])) == (
        merchant.address,
        300,
        ref("payout after expiry"),
    )
    assert expired.balanceOf(merchant) == 400


def test_a_relayed_payout_is_accepted_during_the_grace(expired, merchant, relayer):
    """spec: X2, B6"""
    tx = signed_payout(expired, merchant, 700, ref("signed payout after expiry"), relayer)
    assert tx.events["PayoutRedeemed"]["value"] == 700
    assert expired.balanceOf(merchant) == 0


def test_nothing_else_moves_during_the_grace(expired, resident, merchant, municipality, debt_coin):
    """spec: X2, T9"""
    expired_reason = TransferRefusal.COIN_EXPIRED
    with reverts_with("CoinTransferRefused", merchant, municipality, 100, expired_reason):
        expired.transfer(municipality, 100, {"from": merchant})
    with reverts_with("CoinTransferRefused", resident, merchant, 100, expired_reason):
        expired.pay(merchant, 100, ref("sale"), {"from": resident})
    assert verdict(expired.canTransfer(resident, merchant, 100)) == (False, expired_reason)
    # A resident's own burns (where the purpose has any) end at expiry, grace or not.
    assert verdict(expired.canBurn(resident, BurnReason.SERVICE_REDEMPTION, 100)) == (
        False,
        TransferRefusal.BURN_NOT_ALLOWED,
    )
    assert expired.balanceOf(merchant) == 700


def test_a_residents_service_redemption_ends_at_expiry_despite_a_grace(make_coin, give, resident):
    """spec: X2, B5"""
    coin = make_coin(Purpose.MOBILITY, GEMEENTE, expiry=block_time() + 3600, grace=GRACE, symbol="OV6")
    give(coin, resident, 500)
    move_to(coin.expiry())
    assert verdict(coin.canBurn(resident, BurnReason.SERVICE_REDEMPTION, 100)) == (
        False,
        TransferRefusal.COIN_EXPIRED,
    )
    with reverts_with("CoinTransferRefused", resident, ZERO_ADDRESS, 100, TransferRefusal.COIN_EXPIRED):
        coin.redeemService(100, ref("bus pass"), {"from": resident})


def test_a_merchants_payout_is_refused_after_the_grace(expired, merchant, relayer):
    """spec: X3"""
    after_grace(expired)
    expired_reason = TransferRefusal.COIN_EXPIRED
    assert verdict(expired.canBurn(merchant, BurnReason.MERCHANT_PAYOUT, 100)) == (False, expired_reason)
    with reverts_with("CoinTransferRefused", merchant, ZERO_ADDRESS, 100, expired_reason):
        expired.redeemPayout(100, ref("too late"), {"from": merchant})
    with reverts_with("CoinTransferRefused", merchant, ZERO_ADDRESS, 100, expired_reason):
        signed_payout(expired, merchant, 100, ref("too late"), relayer)
    assert expired.balanceOf(merchant) == 700


def test_a_coin_without_grace_ends_payouts_at_expiry(make_coin, give, resident, merchant):
    """spec: X3"""
    coin = make_coin(Purpose.LOCAL_SPENDING, GEMEENTE, expiry=block_time() + 3600, symbol="NOG")
    give(coin, resident, 500)
    coin.transfer(merchant, 500, {"from": resident})
    move_to(coin.expiry())
    with reverts_with("CoinTransferRefused", merchant, ZERO_ADDRESS, 100, TransferRefusal.COIN_EXPIRED):
        coin.redeemPayout(100, ref("payout"), {"from": merchant})


def test_a_frozen_merchant_cannot_redeem_during_the_grace(expired, registry, merchant, compliance):
    """spec: X2, T7"""
    registry.freeze([merchant], {"from": compliance})
    with reverts_with("CoinTransferRefused", merchant, ZERO_ADDRESS, 100, TransferRefusal.SENDER_FROZEN):
        expired.redeemPayout(100, ref("payout"), {"from": merchant})


# ------------------------------------------------------------------------------------------------
# X4, X5, X7: expiry reclaim and merchants
# ------------------------------------------------------------------------------------------------


def test_reclaim_skips_merchants_during_the_grace(
    expired, issuer, master_minter, funded_minter, resident, merchant, municipality
):
    """spec: X4, X7, B7"""
    allowance = issuer.minterAllowance(funded_minter)
    tx = issuer.reclaimExpired(
        expired, [merchant, resident, municipality], funded_minter, {"from": master_minter}
    )
    assert [(e["holder"], e["value"]) for e in tx.events["ExpiredReclaimed"]] == [
        (resident.address, 400),
        (municipality.address, 200),
    ]
    assert "PayoutRedeemed" not in tx.events
    assert tx.return_value == 600
    assert issuer.minterAllowance(funded_minter) == allowance + 600
    assert expired.balanceOf(merchant) == 700
    # The merchant still redeems it itself.
    expired.redeemPayout(700, ref("payout"), {"from": merchant})
    assert expired.totalSupply() == 0


def test_after_the_grace_reclaim_turns_a_merchants_balance_into_a_payout(
    expired, issuer, master_minter, funded_minter, resident, merchant
):
    """spec: X5"""
    after_grace(expired)
    allowance = issuer.minterAllowance(funded_minter)
    tx = issuer.reclaimExpired(expired, [resident, merchant], funded_minter, {"from": master_minter})

    payout = tx.events["PayoutRedeemed"]
    payout_topic = keccak(text="PayoutRedeemed(address,uint256,bytes32)")
    assert [log.address for log in tx.logs if bytes(log.topics[0]) == payout_topic] == [expired.address]
    reference = expiry_reference(expired, merchant)
    assert bytes(expired.expiryPayoutReference(merchant)) == reference
    assert (payout["merchant"], payout["value"], bytes(payout["payoutReference"])) == (
        merchant.address,
        700,
        reference,
    )
    assert [(e["holder"], e["value"]) for e in tx.events["ExpiredReclaimed"]] == [(resident.address, 400)]
    transfers = [(e["from"], e["to"], e["value"]) for e in tx.events["Transfer"]]
    assert transfers == [(resident.address, ZERO_ADDRESS, 400), (merchant.address, ZERO_ADDRESS, 700)]
    # The payout is owed in euros: it does not return to a minter's budget.
    assert tx.return_value == 400
    assert tx.events["ExpiredCoinsReclaimed"]["amount"] == 400
    assert issuer.minterAllowance(funded_minter) == allowance + 400
    assert expired.balanceOf(merchant) == 0


def test_after_the_grace_reclaim_skips_a_frozen_merchant_until_unfrozen(
    expired, issuer, registry, master_minter, merchant, compliance
):
    """spec: X5"""
    after_grace(expired)
    registry.freeze([merchant], {"from": compliance})
    tx = issuer.reclaimExpired(expired, [merchant], ZERO_ADDRESS, {"from": master_minter})
    assert "PayoutRedeemed" not in tx.events and "Transfer" not in tx.events
    assert expired.balanceOf(merchant) == 700

    registry.unfreeze([merchant], {"from": compliance})
    tx = issuer.reclaimExpired(expired, [merchant], ZERO_ADDRESS, {"from": master_minter})
    assert tx.events["PayoutRedeemed"]["value"] == 700
    assert expired.balanceOf(merchant) == 0


def test_a_coin_without_grace_turns_merchant_balances_into_payouts_at_expiry(
    make_coin, give, issuer, master_minter, resident, merchant
):
    """spec: X5"""
    coin = make_coin(Purpose.LOCAL_SPENDING, GEMEENTE, expiry=block_time() + 3600, symbol="NOG")
    give(coin, resident, 500)
    coin.transfer(merchant, 500, {"from": resident})
    move_to(coin.expiry())
    tx = issuer.reclaimExpired(coin, [merchant], ZERO_ADDRESS, {"from": master_minter})
    assert tx.events["PayoutRedeemed"]["value"] == 500
    assert bytes(tx.events["PayoutRedeemed"]["payoutReference"]) == expiry_reference(coin, merchant)
    assert tx.return_value == 0


# ------------------------------------------------------------------------------------------------
# X6: nothing for nothing, once per holder
# ------------------------------------------------------------------------------------------------


def test_reclaim_ignores_zero_balances_and_duplicates(
    expired, issuer, master_minter, funded_minter, resident, neighbour
):
    """spec: X6, B7"""
    allowance = issuer.minterAllowance(funded_minter)
    tx = issuer.reclaimExpired(
        expired, [resident, neighbour, resident, resident], funded_minter, {"from": master_minter}
    )
    assert [(e["holder"], e["value"]) for e in tx.events["ExpiredReclaimed"]] == [(resident.address, 400)]
    assert len(tx.events["Transfer"]) == 1
    assert tx.return_value == 400
    assert issuer.minterAllowance(funded_minter) == allowance + 400


def test_reclaim_names_a_merchant_twice_and_pays_out_once(expired, issuer, master_minter, merchant):
    """spec: X6, X5"""
    after_grace(expired)
    tx = issuer.reclaimExpired(expired, [merchant, merchant], ZERO_ADDRESS, {"from": master_minter})
    assert [(e["merchant"], e["value"]) for e in tx.events["PayoutRedeemed"]] == [(merchant.address, 700)]


def test_the_grace_is_fixed_at_creation(graced_coin):
    """spec: X1, C3"""
    assert graced_coin.redemptionGrace() == GRACE
    writers = {
        item["name"]
        for item in graced_coin.abi
        if item["type"] == "function" and item["stateMutability"] not in ("view", "pure")
    }
    assert not {name for name in writers if "grace" in name.lower()}
