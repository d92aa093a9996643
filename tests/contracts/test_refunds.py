"""Refunds (docs/contracts.md, F1-F7): a payee gives all or part of a payment back to its payer, against
the payment's reference, never more than was paid under it."""

from __future__ import annotations

import pytest
from brownie import chain, web3

from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import Kind, Purpose, TransferRefusal, purpose_set
from support import (
    GEMEENTE,
    OTHER_WIJK,
    WIJK,
    coin_domain,
    local_account,
    random_nonce,
    ref,
    reverts_with,
    sign_with,
    window,
)

SALE = ref("till 4 receipt 1017")


def verdict(answer) -> tuple[bool, TransferRefusal]:
    allowed, reason = answer
    return bool(allowed), TransferRefusal(int(reason))


def printed(value: bytes) -> str:
    """A bytes32 error argument as brownie prints it (see test_burns.b32)."""
    return str(bytes(value))


def paid(coin, payer, payee, reference=SALE) -> tuple[int, int]:
    record = coin.payment(payer, payee, reference)
    return int(record[0]), int(record[1])


@pytest.fixture
def sold(wijk_coin, give, resident, merchant):
    """The resident paid the merchant EUR 6.00 for sale SALE, out of EUR 10.00 (the wijk coin allows no
    person-to-person payments)."""
    give(wijk_coin, resident, 1000)
    wijk_coin.pay(merchant, 600, SALE, {"from": resident})
    assert wijk_coin.personToPerson() is False
    return wijk_coin


def refund_message(payee, payer, value, reference=SALE, **fields) -> dict:
    after, before = window()
    return {
        "from": payee.address,
        "to": payer.address,
        "value": value,
        "paymentReference": reference,
        "validAfter": fields.get("valid_after", after),
        "validBefore": fields.get("valid_before", before),
        "nonce": fields.get("nonce") or random_nonce(),
    }


def relay_refund(coin, message: dict, signer, relayer):
    signature = sign_with(signer, coin_domain(coin), "RefundWithAuthorization", message)
    return coin.refundWithAuthorization(
        *message.values(), signature.v, signature.r, signature.s, {"from": relayer}
    )


# ------------------------------------------------------------------------------------------------
# F1: which payments are recorded
# ------------------------------------------------------------------------------------------------


def test_a_payment_with_a_reference_is_recorded(sold, resident, merchant):
    """spec: F1"""
    assert paid(sold, resident, merchant) == (600, 0)
    sold.pay(merchant, 150, SALE, {"from": resident})
    assert paid(sold, resident, merchant) == (750, 0)
    # Per payer, payee and reference.
    assert paid(sold, merchant, resident) == (0, 0)
    assert paid(sold, resident, merchant, ref("another sale")) == (0, 0)


def test_a_relayed_payment_is_recorded(wijk_coin, give, resident, merchant, relayer):
    """spec: F1"""
    give(wijk_coin, resident, 1000)
    after, before = window()
    message = {
        "from": resident.address,
        "to": merchant.address,
        "value": 250,
        "paymentReference": SALE,
        "validAfter": after,
        "validBefore": before,
        "nonce": random_nonce(),
    }
    signature = sign_with(resident, coin_domain(wijk_coin), "PayWithAuthorization", message)
    wijk_coin.payWithAuthorization(
        *message.values(), signature.v, signature.r, signature.s, {"from": relayer}
    )
    assert paid(wijk_coin, resident, merchant) == (250, 0)


def test_payments_without_a_reference_cannot_be_refunded(wijk_coin, give, resident, merchant):
    """spec: F1, F2"""
    give(wijk_coin, resident, 1000)
    wijk_coin.transfer(merchant, 300, {"from": resident})
    wijk_coin.pay(merchant, 300, b"\0" * 32, {"from": resident})
    assert paid(wijk_coin, resident, merchant, b"\0" * 32) == (0, 0)
    with reverts_with("CoinMissingReference"):
        wijk_coin.refund(resident, 100, b"\0" * 32, {"from": merchant})
    with reverts_with("CoinRefundExceedsPayment", merchant, resident, printed(SALE), 0, 100):
        wijk_coin.refund(resident, 100, SALE, {"from": merchant})
    assert wijk_coin.balanceOf(merchant) == 600


# ------------------------------------------------------------------------------------------------
# F2, F3: the payee refunds, never more than was paid
# ------------------------------------------------------------------------------------------------


def test_a_merchant_refunds_part_of_a_payment_with_a_coin_without_person_to_person(sold, resident, merchant):
    """spec: F2, F3, F4"""
    assert verdict(sold.canTransfer(merchant, resident, 200)) == (
        False,
        TransferRefusal.PERSON_TO_PERSON_NOT_ALLOWED,
    )
    assert verdict(sold.canRefund(merchant, resident, 200, SALE)) == (True, TransferRefusal.NONE)
    tx = sold.refund(resident, 200, SALE, {"from": merchant})

    transfer = tx.events["Transfer"]
    assert (transfer["from"], transfer["to"], transfer["value"]) == (merchant.address, resident.address, 200)
    event = tx.events["PaymentRefunded"]
    assert [log.address for log in tx.logs] == [sold.address, sold.address]
    assert (event["payee"], event["payer"], event["value"], bytes(event["paymentReference"])) == (
        merchant.address,
        resident.address,
        200,
        SALE,
    )
    assert [e.name for e in tx.events] == ["Transfer", "PaymentRefunded"]
    assert (sold.balanceOf(resident), sold.balanceOf(merchant)) == (600, 400)
    assert paid(sold, resident, merchant) == (600, 200)


def test_refunds_under_a_reference_never_exceed_what_was_paid(sold, resident, merchant):
    """spec: F2"""
    sold.refund(resident, 250, SALE, {"from": merchant})
    sold.refund(resident, 250, SALE, {"from": merchant})
    assert verdict(sold.canRefund(merchant, resident, 101, SALE)) == (
        False,
        TransferRefusal.REFUND_EXCEEDS_PAYMENT,
    )
    with reverts_with("CoinRefundExceedsPayment", merchant, resident, printed(SALE), 100, 101):
        sold.refund(resident, 101, SALE, {"from": merchant})
    sold.refund(resident, 100, SALE, {"from": merchant})
    assert paid(sold, resident, merchant) == (600, 600)
    with reverts_with("CoinRefundExceedsPayment", merchant, resident, printed(SALE), 0, 1):
        sold.refund(resident, 1, SALE, {"from": merchant})
    assert (sold.balanceOf(resident), sold.balanceOf(merchant)) == (1000, 0)


def test_only_the_payee_refunds_and_only_to_the_payer(sold, give, resident, neighbour, merchant, enrol):
    """spec: F2"""
    other_merchant = local_account("refund: other merchant")
    enrol.register(other_merchant, Kind.MERCHANT, WIJK, purpose_set(Purpose.LOCAL_SPENDING))
    give(sold, neighbour, 500)
    sold.pay(other_merchant, 500, ref("other sale"), {"from": neighbour})
    # Another merchant cannot refund the resident's payment, nor the merchant another payer's.
    with reverts_with("CoinRefundExceedsPayment", other_merchant, resident, printed(SALE), 0, 100):
        sold.refund(resident, 100, SALE, {"from": other_merchant})
    with reverts_with("CoinRefundExceedsPayment", merchant, neighbour, printed(SALE), 0, 100):
        sold.refund(neighbour, 100, SALE, {"from": merchant})
    assert paid(sold, resident, merchant) == (600, 0)


def test_a_refund_needs_an_amount_and_a_reference(sold, resident, merchant):
    """spec: F6"""
    with reverts_with("CoinZeroAmount"):
        sold.refund(resident, 0, SALE, {"from": merchant})
    with reverts_with("CoinMissingReference"):
        sold.refund(resident, 100, b"\0" * 32, {"from": merchant})
    assert paid(sold, resident, merchant) == (600, 0)


# ------------------------------------------------------------------------------------------------
# F4: the rest of the transfer rule holds
# ------------------------------------------------------------------------------------------------


def test_a_refund_passes_the_transfer_rule(sold, registry, pauser, resident, merchant, compliance):
    """spec: F4, F7, T7, T8"""
    registry.freeze([resident], {"from": compliance})
    assert verdict(sold.canRefund(merchant, resident, 100, SALE)) == (False, TransferRefusal.RECEIVER_FROZEN)
    with reverts_with("CoinTransferRefused", merchant, resident, 100, TransferRefusal.RECEIVER_FROZEN):
        sold.refund(resident, 100, SALE, {"from": merchant})
    registry.unfreeze([resident], {"from": compliance})

    registry.freeze([merchant], {"from": compliance})
    with reverts_with("CoinTransferRefused", merchant, resident, 100, TransferRefusal.SENDER_FROZEN):
        sold.refund(resident, 100, SALE, {"from": merchant})
    registry.unfreeze([merchant], {"from": compliance})

    registry.pause({"from": pauser})
    assert verdict(sold.canRefund(merchant, resident, 100, SALE)) == (False, TransferRefusal.SYSTEM_PAUSED)
    with reverts_with("CoinTransferRefused", merchant, resident, 100, TransferRefusal.SYSTEM_PAUSED):
        sold.refund(resident, 100, SALE, {"from": merchant})
    registry.unpause({"from": pauser})
    sold.refund(resident, 100, SALE, {"from": merchant})
    assert paid(sold, resident, merchant) == (600, 100)


def test_a_refund_needs_the_payees_balance(sold, resident, merchant, municipality):
    """spec: F4, F7"""
    sold.transfer(municipality, 500, {"from": merchant})
    assert verdict(sold.canRefund(merchant, resident, 200, SALE)) == (
        False,
        TransferRefusal.INSUFFICIENT_BALANCE,
    )
    with reverts_with("ERC20InsufficientBalance", merchant, 100, 200):
        sold.refund(resident, 200, SALE, {"from": merchant})
    assert paid(sold, resident, merchant) == (600, 0)


def test_no_refund_of_an_expired_coin(make_coin, give, resident, merchant):
    """spec: F4, T9"""
    now = web3.eth.get_block("latest")["timestamp"]
    coin = make_coin(Purpose.LOCAL_SPENDING, GEMEENTE, expiry=now + 3600, grace=3600, symbol="EXP")
    give(coin, resident, 500)
    coin.pay(merchant, 500, SALE, {"from": resident})
    chain.sleep(3700)
    chain.mine()
    with reverts_with("CoinTransferRefused", merchant, resident, 100, TransferRefusal.COIN_EXPIRED):
        coin.refund(resident, 100, SALE, {"from": merchant})


def test_a_refund_to_a_payer_who_moved_out_of_the_area_is_refused(
    sold, registry, registrar, resident, merchant
):
    """spec: F4, T2"""
    registry.update(
        (resident.address, int(Kind.RESIDENT), to_bytes8(OTHER_WIJK), 0, ref("moved")), {"from": registrar}
    )
    with reverts_with("CoinTransferRefused", merchant, resident, 100, TransferRefusal.RECEIVER_OUTSIDE_AREA):
        sold.refund(resident, 100, SALE, {"from": merchant})


# ------------------------------------------------------------------------------------------------
# F5: signed by the payee, relayed
# ------------------------------------------------------------------------------------------------


def test_a_relayer_sends_a_refund_the_merchant_signed(sold, resident, merchant, relayer):
    """spec: F5, F3"""
    message = refund_message(merchant, resident, 350)
    tx = relay_refund(sold, message, merchant, relayer)
    assert tx.sender == relayer
    used = tx.events["AuthorizationUsed"]
    assert (used["authorizer"], bytes(used["nonce"])) == (merchant.address, message["nonce"])
    assert tx.events["PaymentRefunded"]["value"] == 350
    assert paid(sold, resident, merchant) == (600, 350)
    assert sold.authorizationState(merchant, message["nonce"])


def test_a_signed_refund_is_checked_like_every_authorization(sold, resident, neighbour, merchant, relayer):
    """spec: F5, A4, A5, A3"""
    message = refund_message(merchant, resident, 100)
    with reverts_with("AuthorizationInvalidSigner", neighbour, merchant):
        relay_refund(sold, message, neighbour, relayer)
    relay_refund(sold, message, merchant, relayer)
    with reverts_with("AuthorizationAlreadyUsed", merchant, printed(message["nonce"])):
        relay_refund(sold, message, merchant, relayer)
    late = refund_message(
        merchant, resident, 100, valid_before=web3.eth.get_block("latest")["timestamp"] - 10
    )
    with reverts_with("AuthorizationExpired", late["validBefore"]):
        relay_refund(sold, late, merchant, relayer)
    # A payer cannot sign a refund to itself in the merchant's name.
    forged = refund_message(merchant, resident, 100)
    with reverts_with("AuthorizationInvalidSigner", resident, merchant):
        relay_refund(sold, forged, resident, relayer)
    assert paid(sold, resident, merchant) == (600, 100)


def test_a_signed_refund_cannot_be_presented_as_a_payment(sold, resident, merchant, relayer):
    """spec: F5, A5"""
    message = refund_message(merchant, resident, 100)
    signature = sign_with(merchant, coin_domain(sold), "RefundWithAuthorization", message)
    with reverts_with("AuthorizationInvalidSigner"):
        sold.payWithAuthorization(*message.values(), signature.v, signature.r, signature.s, {"from": relayer})
    assert sold.balanceOf(merchant) == 600
