"""Payments without ether (docs/contracts.md, A1-A8): EIP-3009 authorizations, signed payments with a
reference, and EIP-2612 permits.

Every signature is made with eth-account's typed-data signing (socialcoin.chain.typed_data.sign), the
way the backend and wallets sign, never by a contract helper. Relayed calls are sent by the `relayer`
while the signer holds no ether.
"""

from __future__ import annotations

import pytest
from brownie import chain, web3
from eth_account import Account
from eth_account.messages import encode_typed_data

from socialcoin.chain.constants import Purpose
from socialcoin.chain.constants import TransferRefusal as Refusal
from socialcoin.chain.typed_data import TYPES, Signature, typed_message
from support import WIJK, coin_domain, random_nonce, ref, reverts_with, sign_with, window

TEN_EUROS = 1_000


# ------------------------------------------------------------------------------------------------
# Fixtures and helpers
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def coin(wijk_coin, give, resident):
    """The wijk coin, with EUR 10.00 held by the resident (who holds no ether)."""
    give(wijk_coin, resident, TEN_EUROS)
    assert resident.balance() == 0
    return wijk_coin


def _address(party) -> str:
    return party if isinstance(party, str) else party.address


def as_bytes32(value) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def printed(value) -> str:
    """A bytes32 argument of a custom error as brownie prints it when it decodes a revert: the Python
    bytes repr (b'...'), not the 0x-hex that support.reverts_with makes of bytes; so it is handed to
    reverts_with as that text."""
    return str(as_bytes32(value))


def nonce_of(number: int) -> bytes:
    """The bytes32 nonce for `number`: it lives in bitmap word `number >> 8`, bit `number & 0xff`."""
    return number.to_bytes(32, "big")


def balances(coin, *holders) -> list[int]:
    return [coin.balanceOf(_address(holder)) for holder in holders]


class Signed:
    """A typed message signed with eth-account, and the arguments a coin function takes for it."""

    def __init__(self, coin, primary_type: str, signer, message: dict):
        self.coin = coin
        self.primary_type = primary_type
        self.message = message
        self.signature: Signature = sign_with(signer, coin_domain(coin), primary_type, message)

    @property
    def nonce(self):
        return self.message["nonce"]

    def args(self, **changes) -> list:
        """The message's fields in the order of the type (which is the functions' parameter order),
        with `changes` applied after signing, then v, r, s."""
        fields = {**self.message, **changes}
        values = [fields[field["name"]] for field in TYPES[self.primary_type]]
        return [*values, self.signature.v, self.signature.r, self.signature.s]

    def recovered_signer(self, primary_type: str | None = None, **changes) -> str:
        """Who the contract sees as signer when the message is altered by `changes` after signing,
        or presented as `primary_type`."""
        message = {**self.message, **changes}
        primary_type = primary_type or self.primary_type
        signable = encode_typed_data(
            full_message=typed_message(coin_domain(self.coin), primary_type, message)
        )
        signature = self.signature
        return Account.recover_message(signable, vrs=(signature.v, signature.r, signature.s))


def authorization(coin, primary_type, signer, *, to, value, holder=None, **fields) -> Signed:
    """A transfer, receive or pay authorization from `holder` (default: the signer), valid for an hour
    with a fresh random nonce unless `fields` say otherwise (valid_after, valid_before, nonce, ...)."""
    valid_after, valid_before = window()
    message = {
        "from": _address(holder or signer),
        "to": _address(to),
        "value": value,
        "validAfter": fields.pop("valid_after", valid_after),
        "validBefore": fields.pop("valid_before", valid_before),
        "nonce": fields.pop("nonce", None) or random_nonce(),
        **fields,
    }
    return Signed(coin, primary_type, signer, message)


def cancellation(coin, signer, nonce, holder=None) -> Signed:
    return Signed(
        coin, "CancelAuthorization", signer, {"authorizer": _address(holder or signer), "nonce": nonce}
    )


def permit(coin, signer, spender, value, *, owner=None, deadline=None, nonce=None) -> Signed:
    owner = _address(owner or signer)
    message = {
        "owner": owner,
        "spender": _address(spender),
        "value": value,
        "nonce": coin.nonces(owner) if nonce is None else nonce,
        "deadline": window()[1] if deadline is None else deadline,
    }
    return Signed(coin, "Permit", signer, message)


def permit_args(signed: Signed) -> list:
    """permit(owner, spender, value, deadline, v, r, s): the nonce is the contract's own."""
    m, signature = signed.message, signed.signature
    return [m["owner"], m["spender"], m["value"], m["deadline"], signature.v, signature.r, signature.s]


def assert_authorization_used(tx, authorizer, nonce):
    event = tx.events["AuthorizationUsed"]
    assert event["authorizer"] == _address(authorizer)
    assert bytes(event["nonce"]) == as_bytes32(nonce)


def assert_transfer_event(tx, sender, receiver, value):
    event = tx.events["Transfer"]
    assert (event["from"], event["to"], event["value"]) == (_address(sender), _address(receiver), value)


def relay_transfer(coin, signed: Signed, relayer):
    return coin.transferWithAuthorization(*signed.args(), {"from": relayer})


# ------------------------------------------------------------------------------------------------
# A1: transferWithAuthorization
# ------------------------------------------------------------------------------------------------


def test_anyone_can_relay_a_transfer_the_holder_signed(coin, resident, merchant, relayer):
    """spec: A1, A8"""
    signed = authorization(coin, "TransferWithAuthorization", resident, to=merchant, value=250)
    assert not coin.authorizationState(resident, signed.nonce)

    tx = relay_transfer(coin, signed, relayer)

    assert_authorization_used(tx, resident, signed.nonce)
    assert_transfer_event(tx, resident, merchant, 250)
    assert balances(coin, resident, merchant, relayer) == [TEN_EUROS - 250, 250, 0]
    assert coin.authorizationState(resident, signed.nonce)
    assert resident.balance() == 0  # the holder never needed ether


def test_signed_transfer_passes_the_transfer_rule(coin, resident, distant_merchant, relayer):
    """spec: A1, T2"""
    signed = authorization(coin, "TransferWithAuthorization", resident, to=distant_merchant, value=250)
    with reverts_with(
        "CoinTransferRefused", resident, distant_merchant, 250, int(Refusal.RECEIVER_OUTSIDE_AREA)
    ):
        relay_transfer(coin, signed, relayer)
    assert balances(coin, resident, distant_merchant) == [TEN_EUROS, 0]
    # The refused authorization was not spent.
    assert not coin.authorizationState(resident, signed.nonce)


def test_signed_transfer_beyond_the_balance_is_refused(coin, resident, merchant, relayer):
    """spec: A1"""
    signed = authorization(coin, "TransferWithAuthorization", resident, to=merchant, value=TEN_EUROS + 1)
    with reverts_with("ERC20InsufficientBalance", resident, TEN_EUROS, TEN_EUROS + 1):
        relay_transfer(coin, signed, relayer)
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]
    assert not coin.authorizationState(resident, signed.nonce)


# ------------------------------------------------------------------------------------------------
# A2: receiveWithAuthorization
# ------------------------------------------------------------------------------------------------


def test_payee_collects_a_receive_authorization(coin, resident, merchant):
    """spec: A2, A8"""
    signed = authorization(coin, "ReceiveWithAuthorization", resident, to=merchant, value=300)
    assert merchant.balance() == 0

    tx = coin.receiveWithAuthorization(*signed.args(), {"from": merchant})

    assert_authorization_used(tx, resident, signed.nonce)
    assert_transfer_event(tx, resident, merchant, 300)
    assert balances(coin, resident, merchant) == [TEN_EUROS - 300, 300]
    assert coin.authorizationState(resident, signed.nonce)


def test_only_the_payee_may_send_a_receive_authorization(coin, resident, merchant, relayer):
    """spec: A2"""
    signed = authorization(coin, "ReceiveWithAuthorization", resident, to=merchant, value=300)
    with reverts_with("AuthorizationCallerNotPayee", relayer, merchant):
        coin.receiveWithAuthorization(*signed.args(), {"from": relayer})
    with reverts_with("AuthorizationCallerNotPayee", resident, merchant):
        coin.receiveWithAuthorization(*signed.args(), {"from": resident})
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]
    assert not coin.authorizationState(resident, signed.nonce)
    # A receive authorization cannot be passed off as a transfer authorization either.
    as_transfer = signed.recovered_signer("TransferWithAuthorization")
    with reverts_with("AuthorizationInvalidSigner", as_transfer, resident):
        coin.transferWithAuthorization(*signed.args(), {"from": relayer})
    coin.receiveWithAuthorization(*signed.args(), {"from": merchant})
    assert balances(coin, resident, merchant) == [TEN_EUROS - 300, 300]


# ------------------------------------------------------------------------------------------------
# A3: the validity window
# ------------------------------------------------------------------------------------------------


def test_authorization_is_not_valid_before_valid_after(coin, resident, merchant, relayer):
    """spec: A3"""
    valid_after = chain.time() + 600
    signed = authorization(
        coin, "TransferWithAuthorization", resident, to=merchant, value=100, valid_after=valid_after
    )
    with reverts_with("AuthorizationNotYetValid", valid_after):
        relay_transfer(coin, signed, relayer)
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]
    assert not coin.authorizationState(resident, signed.nonce)

    chain.sleep(600 + 60)  # with a margin: the node's clock and brownie's may differ by a second
    chain.mine()
    tx = relay_transfer(coin, signed, relayer)
    assert_transfer_event(tx, resident, merchant, 100)
    assert balances(coin, resident, merchant) == [TEN_EUROS - 100, 100]


def test_authorization_expires_at_valid_before(coin, resident, merchant, relayer):
    """spec: A3"""
    valid_before = chain.time() + 600
    signed = authorization(
        coin, "TransferWithAuthorization", resident, to=merchant, value=100, valid_before=valid_before
    )
    chain.sleep(600 + 60)
    chain.mine()
    with reverts_with("AuthorizationExpired", valid_before):
        relay_transfer(coin, signed, relayer)
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]
    assert not coin.authorizationState(resident, signed.nonce)


def test_authorization_with_window_in_the_past_is_refused(coin, resident, merchant, relayer):
    """spec: A3, A6"""
    valid_before = chain.time() - 60
    signed = authorization(
        coin,
        "PayWithAuthorization",
        resident,
        to=merchant,
        value=100,
        paymentReference=ref("sale 1"),
        valid_before=valid_before,
    )
    with reverts_with("AuthorizationExpired", valid_before):
        coin.payWithAuthorization(*signed.args(), {"from": relayer})
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]


# ------------------------------------------------------------------------------------------------
# A4: nonces
# ------------------------------------------------------------------------------------------------


def test_authorization_nonce_can_be_used_once(coin, resident, merchant, relayer):
    """spec: A4"""
    signed = authorization(coin, "TransferWithAuthorization", resident, to=merchant, value=100)
    relay_transfer(coin, signed, relayer)
    with reverts_with("AuthorizationAlreadyUsed", resident, printed(signed.nonce)):
        relay_transfer(coin, signed, relayer)
    assert balances(coin, resident, merchant) == [TEN_EUROS - 100, 100]

    # The nonces are shared by every kind of authorization of the holder.
    payment = authorization(
        coin,
        "PayWithAuthorization",
        resident,
        to=merchant,
        value=100,
        paymentReference=ref("sale 2"),
        nonce=signed.nonce,
    )
    with reverts_with("AuthorizationAlreadyUsed", resident, printed(signed.nonce)):
        coin.payWithAuthorization(*payment.args(), {"from": relayer})
    assert balances(coin, resident, merchant) == [TEN_EUROS - 100, 100]


def test_cancelled_authorization_cannot_be_used(coin, resident, merchant, relayer):
    """spec: A4, A8"""
    signed = authorization(coin, "TransferWithAuthorization", resident, to=merchant, value=100)
    cancel = cancellation(coin, resident, signed.nonce)
    assert not coin.authorizationState(resident, signed.nonce)

    tx = coin.cancelAuthorization(*cancel.args(), {"from": relayer})

    event = tx.events["AuthorizationCanceled"]
    assert (event["authorizer"], bytes(event["nonce"])) == (resident.address, signed.nonce)
    assert "Transfer" not in tx.events
    assert coin.authorizationState(resident, signed.nonce)
    with reverts_with("AuthorizationAlreadyUsed", resident, printed(signed.nonce)):
        relay_transfer(coin, signed, relayer)
    with reverts_with("AuthorizationAlreadyUsed", resident, printed(signed.nonce)):
        coin.cancelAuthorization(*cancel.args(), {"from": relayer})
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]


def test_used_authorization_cannot_be_cancelled(coin, resident, merchant, relayer):
    """spec: A4"""
    signed = authorization(coin, "TransferWithAuthorization", resident, to=merchant, value=100)
    relay_transfer(coin, signed, relayer)
    cancel = cancellation(coin, resident, signed.nonce)
    with reverts_with("AuthorizationAlreadyUsed", resident, printed(signed.nonce)):
        coin.cancelAuthorization(*cancel.args(), {"from": relayer})


def test_nonces_in_the_same_bitmap_word_are_independent(coin, resident, merchant, relayer):
    """spec: A4"""
    word = 7
    first, second, last = (nonce_of(word << 8 | bit) for bit in (0, 1, 255))
    neighbours = [nonce_of((word - 1) << 8 | 255), nonce_of((word + 1) << 8)]
    nonces = [first, second, last]

    for used, nonce in enumerate((first, last, second), start=1):
        signed = authorization(
            coin, "TransferWithAuthorization", resident, to=merchant, value=10, nonce=nonce
        )
        tx = relay_transfer(coin, signed, relayer)
        assert_authorization_used(tx, resident, nonce)
        assert coin.balanceOf(merchant) == 10 * used
        assert coin.authorizationState(resident, nonce)
        # No other bit of the word, nor of the words around it, was marked.
        marked = [n for n in nonces + neighbours if coin.authorizationState(resident, n)]
        assert len(marked) == used

    for nonce in nonces:
        signed = authorization(
            coin, "TransferWithAuthorization", resident, to=merchant, value=10, nonce=nonce
        )
        with reverts_with("AuthorizationAlreadyUsed", resident, printed(nonce)):
            relay_transfer(coin, signed, relayer)
    assert not any(coin.authorizationState(resident, n) for n in neighbours)
    assert balances(coin, resident, merchant) == [TEN_EUROS - 30, 30]


def test_nonces_in_different_bitmap_words_are_independent(coin, resident, neighbour, merchant, relayer):
    """spec: A4"""
    # Same bit (5) in words 0 and 1, and the very last nonce (word 2**248 - 1, bit 255).
    low, next_word, highest = nonce_of(5), nonce_of(5 + 256), nonce_of(2**256 - 1)

    signed = authorization(coin, "TransferWithAuthorization", resident, to=merchant, value=10, nonce=low)
    relay_transfer(coin, signed, relayer)
    assert coin.authorizationState(resident, low)
    assert not coin.authorizationState(resident, next_word)
    assert not coin.authorizationState(resident, highest)

    for nonce in (next_word, highest):
        signed = authorization(
            coin, "TransferWithAuthorization", resident, to=merchant, value=10, nonce=nonce
        )
        tx = relay_transfer(coin, signed, relayer)
        assert_authorization_used(tx, resident, nonce)
        assert coin.authorizationState(resident, nonce)
    assert balances(coin, resident, merchant) == [TEN_EUROS - 30, 30]

    # Nonces are per authorizer: the neighbour's same nonces are still free.
    assert not any(coin.authorizationState(neighbour, n) for n in (low, next_word, highest))
    cancel = cancellation(coin, neighbour, low)
    coin.cancelAuthorization(*cancel.args(), {"from": relayer})
    assert coin.authorizationState(neighbour, low)


# ------------------------------------------------------------------------------------------------
# A5: the signer
# ------------------------------------------------------------------------------------------------


def test_authorization_signed_by_someone_else_is_refused(coin, resident, neighbour, merchant, relayer):
    """spec: A5"""
    forged = authorization(
        coin, "TransferWithAuthorization", neighbour, holder=resident, to=merchant, value=100
    )
    with reverts_with("AuthorizationInvalidSigner", neighbour, resident):
        relay_transfer(coin, forged, relayer)
    forged_cancel = cancellation(coin, neighbour, forged.nonce, holder=resident)
    with reverts_with("AuthorizationInvalidSigner", neighbour, resident):
        coin.cancelAuthorization(*forged_cancel.args(), {"from": relayer})
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]
    assert not coin.authorizationState(resident, forged.nonce)


def test_authorization_altered_after_signing_is_refused(coin, resident, merchant, relayer):
    """spec: A5, A6"""
    signed = authorization(
        coin, "PayWithAuthorization", resident, to=merchant, value=100, paymentReference=ref("sale 3")
    )
    # The relayer may change neither the amount nor the payment reference.
    for changes in ({"value": 1_000}, {"paymentReference": ref("another sale")}):
        with reverts_with("AuthorizationInvalidSigner", signed.recovered_signer(**changes), resident):
            coin.payWithAuthorization(*signed.args(**changes), {"from": relayer})
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]
    assert not coin.authorizationState(resident, signed.nonce)


def test_authorization_for_another_coin_is_refused(coin, make_coin, resident, merchant, relayer):
    """spec: A5"""
    other = make_coin(Purpose.SPORT_CULTURE, WIJK, symbol="GKS")
    signed = authorization(other, "TransferWithAuthorization", resident, to=merchant, value=100)
    signable = encode_typed_data(
        full_message=typed_message(coin_domain(coin), signed.primary_type, signed.message)
    )
    signature = signed.signature
    seen_by_coin = Account.recover_message(signable, vrs=(signature.v, signature.r, signature.s))
    with reverts_with("AuthorizationInvalidSigner", seen_by_coin, resident):
        relay_transfer(coin, signed, relayer)
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]


# ------------------------------------------------------------------------------------------------
# A6: payments with a reference
# ------------------------------------------------------------------------------------------------


def test_pay_carries_the_payment_reference(coin, resident, merchant):
    """spec: A6"""
    reference = ref("till 3, sale 1187")
    tx = coin.pay(merchant, 450, reference, {"from": resident})
    assert_transfer_event(tx, resident, merchant, 450)
    payment = tx.events["PaymentMade"]
    assert (payment["from"], payment["to"], payment["value"]) == (resident.address, merchant.address, 450)
    assert bytes(payment["paymentReference"]) == reference
    assert balances(coin, resident, merchant) == [TEN_EUROS - 450, 450]


def test_pay_passes_the_transfer_rule(coin, resident, neighbour):
    """spec: A6, T4"""
    with reverts_with(
        "CoinTransferRefused", resident, neighbour, 450, int(Refusal.PERSON_TO_PERSON_NOT_ALLOWED)
    ):
        coin.pay(neighbour, 450, ref("gift"), {"from": resident})
    assert balances(coin, resident, neighbour) == [TEN_EUROS, 0]


def test_relayed_payment_carries_the_payment_reference(coin, resident, merchant, relayer):
    """spec: A6, A1, A8"""
    reference = ref("order 2024-0042")
    signed = authorization(
        coin, "PayWithAuthorization", resident, to=merchant, value=725, paymentReference=reference
    )
    assert not coin.authorizationState(resident, signed.nonce)

    tx = coin.payWithAuthorization(*signed.args(), {"from": relayer})

    assert_authorization_used(tx, resident, signed.nonce)
    assert_transfer_event(tx, resident, merchant, 725)
    payment = tx.events["PaymentMade"]
    assert (payment["from"], payment["to"], payment["value"]) == (resident.address, merchant.address, 725)
    assert bytes(payment["paymentReference"]) == reference
    assert balances(coin, resident, merchant, relayer) == [TEN_EUROS - 725, 725, 0]
    assert coin.authorizationState(resident, signed.nonce)
    assert resident.balance() == 0


def test_relayed_payment_passes_the_transfer_rule(coin, registry, resident, merchant, relayer, compliance):
    """spec: A6, T7"""
    signed = authorization(
        coin, "PayWithAuthorization", resident, to=merchant, value=725, paymentReference=ref("order 43")
    )
    registry.freeze([merchant], {"from": compliance})
    with reverts_with("CoinTransferRefused", resident, merchant, 725, int(Refusal.RECEIVER_FROZEN)):
        coin.payWithAuthorization(*signed.args(), {"from": relayer})
    assert balances(coin, resident, merchant) == [TEN_EUROS, 0]
    assert not coin.authorizationState(resident, signed.nonce)


# ------------------------------------------------------------------------------------------------
# A7: permit (EIP-2612)
# ------------------------------------------------------------------------------------------------


def test_permit_sets_allowance_that_transfer_from_spends_within_the_rule(
    coin, resident, merchant, distant_merchant, relayer
):
    """spec: A7, T11, T13, A8"""
    assert coin.nonces(resident) == 0
    # The relayer sends the permit (it need not be registered); the merchant, a participant, spends it.
    signed = permit(coin, resident, merchant, 600)

    tx = coin.permit(*permit_args(signed), {"from": relayer})

    approval = tx.events["Approval"]
    assert (approval["owner"], approval["spender"], approval["value"]) == (
        resident.address,
        merchant.address,
        600,
    )
    assert coin.allowance(resident, merchant) == 600
    assert coin.nonces(resident) == 1
    assert resident.balance() == 0

    tx = coin.transferFrom(resident, merchant, 250, {"from": merchant})
    assert_transfer_event(tx, resident, merchant, 250)
    assert balances(coin, resident, merchant) == [TEN_EUROS - 250, 250]
    assert coin.allowance(resident, merchant) == 350

    with reverts_with(
        "CoinTransferRefused", resident, distant_merchant, 100, int(Refusal.RECEIVER_OUTSIDE_AREA)
    ):
        coin.transferFrom(resident, distant_merchant, 100, {"from": merchant})
    with reverts_with("ERC20InsufficientAllowance", merchant, 350, 351):
        coin.transferFrom(resident, merchant, 351, {"from": merchant})
    assert balances(coin, resident, merchant, distant_merchant) == [TEN_EUROS - 250, 250, 0]
    assert coin.allowance(resident, merchant) == 350


def test_permit_past_its_deadline_is_refused(coin, resident, relayer):
    """spec: A7"""
    deadline = chain.time() - 60
    signed = permit(coin, resident, relayer, 600, deadline=deadline)
    with reverts_with("ERC2612ExpiredSignature", deadline):
        coin.permit(*permit_args(signed), {"from": relayer})
    assert coin.allowance(resident, relayer) == 0
    assert coin.nonces(resident) == 0


def test_permit_signed_by_someone_else_is_refused(coin, resident, neighbour, relayer):
    """spec: A7, A5"""
    forged = permit(coin, neighbour, relayer, 600, owner=resident)
    with reverts_with("ERC2612InvalidSigner", neighbour, resident):
        coin.permit(*permit_args(forged), {"from": relayer})
    assert coin.allowance(resident, relayer) == 0
    assert coin.nonces(resident) == 0


def test_permit_cannot_be_replayed(coin, resident, relayer):
    """spec: A7"""
    signed = permit(coin, resident, relayer, 600)
    coin.permit(*permit_args(signed), {"from": relayer})
    # The contract now checks the signature against nonce 1: it recovers somebody else.
    replay_signer = signed.recovered_signer(nonce=1)
    with reverts_with("ERC2612InvalidSigner", replay_signer, resident):
        coin.permit(*permit_args(signed), {"from": relayer})
    assert coin.nonces(resident) == 1


# ------------------------------------------------------------------------------------------------
# A8: EIP-712 interoperability
# ------------------------------------------------------------------------------------------------


def test_coin_domain_is_the_one_eth_account_encodes(coin):
    """spec: A8"""
    domain = coin_domain(coin)
    message = {"authorizer": coin.address, "nonce": nonce_of(1)}
    signable = encode_typed_data(full_message=typed_message(domain, "CancelAuthorization", message))
    assert bytes(coin.DOMAIN_SEPARATOR()) == signable.header

    _fields, name, version, chain_id, verifying_contract, _salt, _extensions = coin.eip712Domain()
    assert (name, version, chain_id, verifying_contract) == (
        coin.name(),
        "1",
        web3.eth.chain_id,
        coin.address,
    )


def test_wallet_style_typed_data_signature_is_accepted(coin, resident, merchant, relayer):
    """spec: A8, A6"""
    # What a wallet gets through eth_signTypedData_v4: JSON, so bytes32 values as 0x-hex strings.
    reference, nonce = ref("wallet sale"), random_nonce()
    signed = authorization(
        coin,
        "PayWithAuthorization",
        resident,
        to=merchant,
        value=99,
        paymentReference="0x" + reference.hex(),
        nonce="0x" + nonce.hex(),
    )
    tx = coin.payWithAuthorization(*signed.args(), {"from": relayer})
    assert_authorization_used(tx, resident, nonce)
    assert bytes(tx.events["PaymentMade"]["paymentReference"]) == reference
    assert balances(coin, resident, merchant) == [TEN_EUROS - 99, 99]
