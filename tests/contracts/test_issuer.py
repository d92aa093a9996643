"""ActivityIssuer: minters and their allowances, verifiers, attested and admin mints, grants (M1–M13)."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, MultisigTestWallet, accounts, chain, web3
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from socialcoin.chain.constants import Purpose, TransferRefusal
from socialcoin.chain.typed_data import TYPES, sign, typed_message
from support import FAR_FUTURE, GEMEENTE, ONE_EURO, issuer_domain, local_account, ref, reverts_with

ATTESTATION_TYPE = "Attestation(" + ",".join(f"{f['type']} {f['name']}" for f in TYPES["Attestation"]) + ")"


def block_time() -> int:
    """The latest block's timestamp. After a snapshot revert anvil's clock restarts from the snapshot's
    block while brownie's chain.time() keeps counting, so times that must already have passed are
    taken from the chain itself (the next block is never earlier)."""
    return web3.eth.get_block("latest")["timestamp"]


def as_bytes(value) -> bytes:
    """A bytes32 value as brownie returns it (HexString), as plain bytes."""
    return bytes(value)


def b32(value) -> str:
    """A bytes32 error argument as brownie 1.22 prints it in a decoded custom error (Python's bytes repr);
    support.reverts_with passes such text through unchanged."""
    return str(bytes(value))


class Attester:
    """Builds attestations and has keys sign them over the issuer's EIP-712 domain."""

    def __init__(self, issuer):
        self.issuer = issuer

    @staticmethod
    def message(resident, coin, amount, claim, activity="swimming lesson", evidence="photo", deadline=None):
        return {
            "resident": resident.address if hasattr(resident, "address") else resident,
            "coin": coin.address if hasattr(coin, "address") else coin,
            "amount": amount,
            "activityId": ref(activity),
            "claimId": ref(claim) if isinstance(claim, str) else claim,
            "evidenceHash": ref(evidence),
            "deadline": FAR_FUTURE if deadline is None else deadline,
        }

    @staticmethod
    def as_tuple(message: dict) -> tuple:
        return tuple(message[field["name"]] for field in TYPES["Attestation"])

    def signed(self, signer, message: dict) -> tuple[tuple, bytes]:
        signature = sign(signer.private_key, issuer_domain(self.issuer), "Attestation", message)
        return self.as_tuple(message), signature.packed

    def signable(self, message: dict):
        return encode_typed_data(
            full_message=typed_message(issuer_domain(self.issuer), "Attestation", message)
        )


@pytest.fixture(scope="module")
def attester(issuer):
    return Attester(issuer)


@pytest.fixture(scope="module")
def sport_coin(make_coin):
    return make_coin(Purpose.SPORT_CULTURE, GEMEENTE, name="Socialcoin Arnhem - Sport", symbol="ASP")


@pytest.fixture(scope="module")
def authorised(issuer, registrar, wijk_coin, verifier):
    """The verifier may attest activities paid in the wijk coin."""
    issuer.setVerifier(wijk_coin, verifier, True, {"from": registrar})
    return verifier


@pytest.fixture(scope="module")
def small_minter(issuer, master_minter):
    """A second minter with a budget of EUR 10."""
    minter = accounts[7]
    issuer.increaseMinterAllowance(minter, 10 * ONE_EURO, {"from": master_minter})
    return minter


def grant(coin, to, amount, claim) -> tuple:
    """A Grant (coin, to, amount, claimId); `claim` is a label or the claim id itself."""
    claim_id = ref(claim) if isinstance(claim, str) else claim
    return (getattr(coin, "address", coin), getattr(to, "address", to), amount, claim_id)


def mint_one(issuer, attester, signer, minter, resident, coin, amount, claim, **fields):
    attestation, signature = attester.signed(
        signer, attester.message(resident, coin, amount, claim, **fields)
    )
    return issuer.mintWithAttestation(attestation, signature, {"from": minter})


# ------------------------------------------------------------------------------------------------
# M1: minters and the master minter
# ------------------------------------------------------------------------------------------------


def test_only_a_minter_may_mint_with_an_attestation_a_batch_or_an_admin_mint(
    issuer, attester, authorised, wijk_coin, resident, stranger, master_minter, admin
):
    """spec: M1"""
    role = issuer.MINTER_ROLE()
    attestation, signature = attester.signed(
        authorised, attester.message(resident, wijk_coin, 500, "not a minter")
    )
    for caller in (stranger, master_minter, admin):
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(role)):
            issuer.mintWithAttestation(attestation, signature, {"from": caller})
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(role)):
            issuer.mintBatch([attestation], [signature], {"from": caller})
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(role)):
            issuer.adminMint(wijk_coin, resident, 500, ref("start bonus"), {"from": caller})
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(role)):
            issuer.grantBatch([grant(wijk_coin, resident, 500, "not a minter")], {"from": caller})
    assert wijk_coin.totalSupply() == 0


def allowance_change(tx) -> tuple:
    event = tx.events["MinterAllowanceChanged"][0]
    return event["minter"], event["oldAllowance"], event["newAllowance"]


def test_only_the_master_minter_makes_a_minter_and_changes_its_allowance(
    issuer, master_minter, admin, stranger
):
    """spec: M1, M15, G5"""
    role = issuer.MASTER_MINTER_ROLE()
    candidate = local_account("candidate minter")
    for caller in (stranger, admin):
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(role)):
            issuer.increaseMinterAllowance(candidate, 1000, {"from": caller})
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(role)):
            issuer.decreaseMinterAllowance(candidate, 1000, {"from": caller})
    assert not issuer.hasRole(issuer.MINTER_ROLE(), candidate)

    tx = issuer.increaseMinterAllowance(candidate, 1000, {"from": master_minter})
    assert issuer.hasRole(issuer.MINTER_ROLE(), candidate)
    assert issuer.minterAllowance(candidate) == 1000
    assert allowance_change(tx) == (candidate.address, 0, 1000)
    granted = tx.events["RoleGranted"][0]
    assert (as_bytes(granted["role"]), granted["account"], granted["sender"]) == (
        as_bytes(issuer.MINTER_ROLE()),
        candidate.address,
        master_minter.address,
    )

    # A second increase adds to the allowance; the role is granted only once.
    tx = issuer.increaseMinterAllowance(candidate, 250, {"from": master_minter})
    assert issuer.minterAllowance(candidate) == 1250
    assert allowance_change(tx) == (candidate.address, 1000, 1250)
    assert "RoleGranted" not in tx.events


def test_the_allowance_changes_only_relatively(issuer):
    """spec: M15"""
    names = {item["name"] for item in issuer.abi if item["type"] == "function"}
    assert {"increaseMinterAllowance", "decreaseMinterAllowance"} <= names
    assert "configureMinter" not in names  # no absolute setter that could overwrite a reclaim's credit


def test_a_decrease_lowers_the_allowance_and_never_below_zero(issuer, master_minter, small_minter):
    """spec: M15"""
    tx = issuer.decreaseMinterAllowance(small_minter, 300, {"from": master_minter})
    assert issuer.minterAllowance(small_minter) == 700
    assert allowance_change(tx) == (small_minter.address, 1000, 700)
    tx = issuer.decreaseMinterAllowance(small_minter, 5000, {"from": master_minter})
    assert issuer.minterAllowance(small_minter) == 0
    assert allowance_change(tx) == (small_minter.address, 700, 0)
    assert issuer.hasRole(issuer.MINTER_ROLE(), small_minter)  # still a minter, with nothing to spend


def test_an_increase_keeps_what_a_reclaim_credited_meanwhile(
    issuer, make_coin, give, master_minter, small_minter, resident
):
    """spec: M15, B7"""
    expiring = make_coin(Purpose.ENERGY, GEMEENTE, expiry=block_time() + 600)
    give(expiring, resident, 400)
    seen = issuer.minterAllowance(small_minter)  # what the master minter looked at
    chain.sleep(1200)
    chain.mine()
    issuer.reclaimExpired(expiring, [resident], small_minter, {"from": master_minter})
    issuer.increaseMinterAllowance(small_minter, 500, {"from": master_minter})
    assert issuer.minterAllowance(small_minter) == seen + 400 + 500


def test_a_change_of_zero_or_for_no_minter_is_refused(issuer, master_minter, small_minter, stranger):
    """spec: M15, M1"""
    with reverts_with("IssuerZeroAmount"):
        issuer.increaseMinterAllowance(small_minter, 0, {"from": master_minter})
    with reverts_with("IssuerZeroAmount"):
        issuer.decreaseMinterAllowance(small_minter, 0, {"from": master_minter})
    with reverts_with("IssuerNotAMinter", stranger):
        issuer.decreaseMinterAllowance(stranger, 100, {"from": master_minter})
    with reverts_with("IssuerZeroAddress"):
        issuer.increaseMinterAllowance(ZERO_ADDRESS, 1000, {"from": master_minter})
    assert issuer.minterAllowance(small_minter) == 10 * ONE_EURO


def test_a_minter_cannot_change_allowances(issuer, funded_minter, stranger):
    """spec: M1"""
    with reverts_with("AccessControlUnauthorizedAccount", funded_minter, b32(issuer.MASTER_MINTER_ROLE())):
        issuer.increaseMinterAllowance(funded_minter, 2**200, {"from": funded_minter})
    with reverts_with("AccessControlUnauthorizedAccount", funded_minter, b32(issuer.MASTER_MINTER_ROLE())):
        issuer.increaseMinterAllowance(stranger, 100, {"from": funded_minter})


def test_the_admin_cannot_make_a_minter_by_granting_the_role(issuer, admin, stranger):
    """spec: M1"""
    assert issuer.getRoleAdmin(issuer.MINTER_ROLE()) == issuer.MASTER_MINTER_ROLE()
    with reverts_with("AccessControlUnauthorizedAccount", admin, b32(issuer.MASTER_MINTER_ROLE())):
        issuer.grantRole(issuer.MINTER_ROLE(), stranger, {"from": admin})


def test_only_the_master_minter_removes_a_minter_and_its_allowance(
    issuer, attester, authorised, wijk_coin, resident, funded_minter, master_minter, stranger
):
    """spec: M1, G5"""
    with reverts_with("AccessControlUnauthorizedAccount", stranger, b32(issuer.MASTER_MINTER_ROLE())):
        issuer.removeMinter(funded_minter, {"from": stranger})

    allowance = issuer.minterAllowance(funded_minter)
    tx = issuer.removeMinter(funded_minter, {"from": master_minter})
    assert allowance_change(tx) == (funded_minter.address, allowance, 0)
    revoked = tx.events["RoleRevoked"][0]
    assert (as_bytes(revoked["role"]), revoked["account"], revoked["sender"]) == (
        as_bytes(issuer.MINTER_ROLE()),
        funded_minter.address,
        master_minter.address,
    )
    assert not issuer.hasRole(issuer.MINTER_ROLE(), funded_minter)
    assert issuer.minterAllowance(funded_minter) == 0

    with reverts_with("AccessControlUnauthorizedAccount", funded_minter, b32(issuer.MINTER_ROLE())):
        mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 100, "after removal")


def test_removing_an_account_that_is_not_a_minter_fails(issuer, master_minter, stranger):
    """spec: M1"""
    with reverts_with("IssuerNotAMinter", stranger):
        issuer.removeMinter(stranger, {"from": master_minter})


@pytest.mark.parametrize("how", ["revokeRole", "renounceRole"])
def test_a_minter_that_loses_its_role_loses_its_allowance(issuer, master_minter, small_minter, how):
    """spec: M16"""
    role = issuer.MINTER_ROLE()
    if how == "revokeRole":
        tx = issuer.revokeRole(role, small_minter, {"from": master_minter})
    else:
        tx = issuer.renounceRole(role, small_minter, {"from": small_minter})
    assert allowance_change(tx) == (small_minter.address, 10 * ONE_EURO, 0)
    assert issuer.minterAllowance(small_minter) == 0
    # Granting the role again does not bring the old budget back.
    issuer.grantRole(role, small_minter, {"from": master_minter})
    assert issuer.minterAllowance(small_minter) == 0


def test_revoking_a_role_the_account_does_not_hold_changes_no_allowance(issuer, master_minter, stranger):
    """spec: M16"""
    tx = issuer.revokeRole(issuer.MINTER_ROLE(), stranger, {"from": master_minter})
    assert "MinterAllowanceChanged" not in tx.events


# ------------------------------------------------------------------------------------------------
# M2: verifiers, authorised per coin by the registrar
# ------------------------------------------------------------------------------------------------


def test_only_the_registrar_authorises_a_verifier_for_a_coin(
    issuer, registrar, admin, master_minter, stranger, wijk_coin
):
    """spec: M2"""
    key = local_account("sports club verifier")
    for caller in (stranger, admin, master_minter):
        with reverts_with("AccessControlUnauthorizedAccount", caller, b32(issuer.REGISTRAR_ROLE())):
            issuer.setVerifier(wijk_coin, key, True, {"from": caller})
    assert not issuer.isVerifier(wijk_coin, key)

    tx = issuer.setVerifier(wijk_coin, key, True, {"from": registrar})
    event = tx.events["VerifierAuthorizationChanged"][0]
    assert (event["coin"], event["verifier"], event["authorized"]) == (wijk_coin.address, key.address, True)
    assert issuer.isVerifier(wijk_coin, key)

    tx = issuer.setVerifier(wijk_coin, key, False, {"from": registrar})
    event = tx.events["VerifierAuthorizationChanged"][0]
    assert (event["coin"], event["verifier"], event["authorized"]) == (wijk_coin.address, key.address, False)
    assert not issuer.isVerifier(wijk_coin, key)


def test_a_verifier_can_be_authorised_only_for_a_known_coin(issuer, registrar, verifier, wijk_coin, registry):
    """spec: M2"""
    with reverts_with("IssuerUnknownCoin", registry):
        issuer.setVerifier(registry, verifier, True, {"from": registrar})
    with reverts_with("IssuerUnknownCoin", ZERO_ADDRESS):
        issuer.setVerifier(ZERO_ADDRESS, verifier, True, {"from": registrar})


def test_the_zero_address_cannot_be_a_verifier(issuer, registrar, wijk_coin):
    """spec: M2"""
    with reverts_with("IssuerZeroAddress"):
        issuer.setVerifier(wijk_coin, ZERO_ADDRESS, True, {"from": registrar})


def test_an_attestation_signed_by_an_unauthorised_key_is_refused(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M2"""
    impostor = local_account("impostor")
    with reverts_with("IssuerVerifierNotAuthorized", wijk_coin, impostor):
        mint_one(issuer, attester, impostor, funded_minter, resident, wijk_coin, 500, "impostor claim")
    assert wijk_coin.balanceOf(resident) == 0
    assert not issuer.claimUsed(ref("impostor claim"))


def test_a_verifier_of_another_coin_cannot_attest_for_this_coin(
    issuer, attester, authorised, wijk_coin, sport_coin, resident, funded_minter
):
    """spec: M2"""
    with reverts_with("IssuerVerifierNotAuthorized", sport_coin, authorised):
        mint_one(issuer, attester, authorised, funded_minter, resident, sport_coin, 500, "wrong coin")
    assert sport_coin.totalSupply() == 0


def test_a_withdrawn_verifier_can_no_longer_attest(
    issuer, attester, authorised, registrar, wijk_coin, resident, funded_minter
):
    """spec: M2"""
    mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 100, "before withdrawal")
    issuer.setVerifier(wijk_coin, authorised, False, {"from": registrar})
    with reverts_with("IssuerVerifierNotAuthorized", wijk_coin, authorised):
        mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 100, "after withdrawal")
    assert wijk_coin.balanceOf(resident) == 100


def test_an_attestation_changed_after_signing_is_refused(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M2"""
    signed = attester.message(resident, wijk_coin, 500, "altered claim")
    _, signature = attester.signed(authorised, signed)
    altered = dict(signed, amount=50_000)
    recovered = Account.recover_message(attester.signable(altered), signature=signature)
    assert recovered != authorised.address
    with reverts_with("IssuerVerifierNotAuthorized", wijk_coin, recovered):
        issuer.mintWithAttestation(attester.as_tuple(altered), signature, {"from": funded_minter})


def test_attestation_digest_equals_eth_accounts_eip712_digest(
    issuer, attester, authorised, wijk_coin, resident
):
    """spec: M2, A8"""
    assert as_bytes(issuer.ATTESTATION_TYPEHASH()) == keccak(text=ATTESTATION_TYPE)
    message = attester.message(resident, wijk_coin, 1234, "digest claim", deadline=1_900_000_000)
    signable = attester.signable(message)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert as_bytes(issuer.attestationDigest(attester.as_tuple(message))) == digest

    _, signature = attester.signed(authorised, message)
    assert Account._recover_hash(digest, signature=signature) == authorised.address


# ------------------------------------------------------------------------------------------------
# M3: deadlines
# ------------------------------------------------------------------------------------------------


def test_an_attestation_past_its_deadline_is_refused(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M3"""
    deadline = block_time() - 60
    claim = ref("late claim")
    with reverts_with("IssuerAttestationExpired", b32(claim), deadline):
        mint_one(
            issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, claim, deadline=deadline
        )
    assert not issuer.claimUsed(claim)


def test_an_attestation_mints_before_its_deadline_and_not_after(
    issuer, attester, authorised, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M3"""
    deadline = chain.time() + 3600
    mint_one(
        issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, "in time", deadline=deadline
    )
    assert wijk_coin.balanceOf(resident) == 500

    chain.sleep(deadline - block_time() + 60)
    claim = ref("too late")
    with reverts_with("IssuerAttestationExpired", b32(claim), deadline):
        mint_one(
            issuer, attester, authorised, funded_minter, neighbour, wijk_coin, 500, claim, deadline=deadline
        )


# ------------------------------------------------------------------------------------------------
# M4: a claim id mints once
# ------------------------------------------------------------------------------------------------


def test_a_claim_id_mints_only_once(
    issuer, attester, authorised, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M4, I4"""
    claim = ref("claim 42")
    assert not issuer.claimUsed(claim)
    mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, claim)
    assert issuer.claimUsed(claim)

    # Another amount, resident or activity does not make it another claim.
    with reverts_with("IssuerClaimAlreadyUsed", b32(claim)):
        mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, claim)
    with reverts_with("IssuerClaimAlreadyUsed", b32(claim)):
        mint_one(
            issuer, attester, authorised, funded_minter, neighbour, wijk_coin, 700, claim, activity="other"
        )
    assert wijk_coin.totalSupply() == 500


def test_a_claim_id_used_for_one_coin_cannot_mint_another_coin(
    issuer, attester, authorised, registrar, wijk_coin, sport_coin, resident, funded_minter
):
    """spec: M4"""
    issuer.setVerifier(sport_coin, authorised, True, {"from": registrar})
    claim = ref("shared claim")
    mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, claim)
    with reverts_with("IssuerClaimAlreadyUsed", b32(claim)):
        mint_one(issuer, attester, authorised, funded_minter, resident, sport_coin, 500, claim)
    assert sport_coin.totalSupply() == 0


def test_a_claim_id_twice_in_one_batch_is_refused_and_nothing_is_minted(
    issuer, attester, authorised, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M4, M8"""
    claim = ref("double in batch")
    first = attester.signed(authorised, attester.message(resident, wijk_coin, 300, claim))
    other = attester.signed(authorised, attester.message(neighbour, wijk_coin, 200, "unique in batch"))
    again = attester.signed(authorised, attester.message(neighbour, wijk_coin, 400, claim, activity="again"))
    allowance = issuer.minterAllowance(funded_minter)
    with reverts_with("IssuerClaimAlreadyUsed", b32(claim)):
        issuer.mintBatch(
            [first[0], other[0], again[0]], [first[1], other[1], again[1]], {"from": funded_minter}
        )
    assert not issuer.claimUsed(claim)
    assert not issuer.claimUsed(ref("unique in batch"))
    assert wijk_coin.totalSupply() == 0
    assert issuer.minterAllowance(funded_minter) == allowance


def test_a_claim_id_minted_earlier_fails_inside_a_later_batch(
    issuer, attester, authorised, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M4, M8"""
    claim = ref("minted before the batch")
    mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 300, claim)
    fresh = attester.signed(authorised, attester.message(neighbour, wijk_coin, 200, "fresh in batch"))
    reused = attester.signed(authorised, attester.message(neighbour, wijk_coin, 300, claim))
    with reverts_with("IssuerClaimAlreadyUsed", b32(claim)):
        issuer.mintBatch([fresh[0], reused[0]], [fresh[1], reused[1]], {"from": funded_minter})
    assert wijk_coin.balanceOf(neighbour) == 0
    assert not issuer.claimUsed(ref("fresh in batch"))


# ------------------------------------------------------------------------------------------------
# M5: allowances
# ------------------------------------------------------------------------------------------------


def test_every_kind_of_mint_spends_the_minters_allowance(
    issuer, attester, authorised, wijk_coin, resident, neighbour, small_minter
):
    """spec: M5, M9, I5"""
    assert issuer.minterAllowance(small_minter) == 1000
    mint_one(issuer, attester, authorised, small_minter, resident, wijk_coin, 150, "spend 1")
    assert issuer.minterAllowance(small_minter) == 850

    batch = [
        attester.signed(authorised, attester.message(resident, wijk_coin, 100, "spend 2")),
        attester.signed(authorised, attester.message(neighbour, wijk_coin, 250, "spend 3")),
    ]
    issuer.mintBatch([a for a, _ in batch], [s for _, s in batch], {"from": small_minter})
    assert issuer.minterAllowance(small_minter) == 500

    issuer.adminMint(wijk_coin, neighbour, 200, ref("start bonus"), {"from": small_minter})
    assert issuer.minterAllowance(small_minter) == 300
    assert wijk_coin.totalSupply() == 700


def test_an_attested_mint_beyond_the_allowance_fails(
    issuer, attester, authorised, wijk_coin, resident, small_minter
):
    """spec: M5, I5"""
    mint_one(issuer, attester, authorised, small_minter, resident, wijk_coin, 900, "most of it")
    with reverts_with("IssuerAllowanceExceeded", small_minter, 100, 101):
        mint_one(issuer, attester, authorised, small_minter, resident, wijk_coin, 101, "one too many")
    assert not issuer.claimUsed(ref("one too many"))
    assert issuer.minterAllowance(small_minter) == 100
    assert wijk_coin.balanceOf(resident) == 900


def test_a_mint_of_exactly_the_remaining_allowance_succeeds(
    issuer, attester, authorised, wijk_coin, resident, small_minter
):
    """spec: M5"""
    mint_one(issuer, attester, authorised, small_minter, resident, wijk_coin, 1000, "all of it")
    assert issuer.minterAllowance(small_minter) == 0
    with reverts_with("IssuerAllowanceExceeded", small_minter, 0, 1):
        mint_one(issuer, attester, authorised, small_minter, resident, wijk_coin, 1, "nothing left")


def test_a_batch_beyond_the_allowance_fails_with_its_total(
    issuer, attester, authorised, wijk_coin, resident, neighbour, small_minter
):
    """spec: M5, M8"""
    batch = [
        attester.signed(authorised, attester.message(resident, wijk_coin, 600, "batch part 1")),
        attester.signed(authorised, attester.message(neighbour, wijk_coin, 500, "batch part 2")),
    ]
    with reverts_with("IssuerAllowanceExceeded", small_minter, 1000, 1100):
        issuer.mintBatch([a for a, _ in batch], [s for _, s in batch], {"from": small_minter})
    assert wijk_coin.totalSupply() == 0
    assert not issuer.claimUsed(ref("batch part 1"))
    assert issuer.minterAllowance(small_minter) == 1000


def test_an_attestation_for_zero_coins_is_refused(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M5"""
    with reverts_with("IssuerZeroAmount"):
        mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 0, "zero claim")


# ------------------------------------------------------------------------------------------------
# M6: activity mints go to residents
# ------------------------------------------------------------------------------------------------


def test_an_activity_mint_to_anyone_but_a_registered_resident_is_refused(
    issuer, attester, authorised, wijk_coin, merchant, organisation, municipality, stranger, funded_minter
):
    """spec: M6"""
    for index, account in enumerate((merchant, organisation, municipality, stranger)):
        with reverts_with("IssuerNotAResident", account):
            mint_one(
                issuer, attester, authorised, funded_minter, account, wijk_coin, 500, f"not resident {index}"
            )
    assert wijk_coin.totalSupply() == 0


def test_an_activity_mint_to_a_frozen_resident_is_refused_by_the_transfer_rule(
    issuer, attester, authorised, registry, wijk_coin, resident, funded_minter, compliance
):
    """spec: M6, T7, T12"""
    registry.freeze([resident], {"from": compliance})
    with reverts_with("CoinTransferRefused", ZERO_ADDRESS, resident, 500, TransferRefusal.RECEIVER_FROZEN):
        mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, "frozen claim")
    assert not issuer.claimUsed(ref("frozen claim"))


def test_an_activity_mint_to_a_resident_outside_the_coins_area_is_refused(
    issuer, attester, authorised, wijk_coin, outsider, funded_minter
):
    """spec: M6, T12"""
    with reverts_with(
        "CoinTransferRefused", ZERO_ADDRESS, outsider, 500, TransferRefusal.RECEIVER_OUTSIDE_AREA
    ):
        mint_one(issuer, attester, authorised, funded_minter, outsider, wijk_coin, 500, "outsider claim")


def test_an_activity_mint_reaches_residents_of_a_coin_without_person_to_person(
    issuer, attester, authorised, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M6, T12"""
    assert not wijk_coin.personToPerson()
    mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, "buurt resident")
    mint_one(issuer, attester, authorised, funded_minter, neighbour, wijk_coin, 300, "wijk resident")
    assert (wijk_coin.balanceOf(resident), wijk_coin.balanceOf(neighbour)) == (500, 300)


# ------------------------------------------------------------------------------------------------
# M7: the ActivityMinted event
# ------------------------------------------------------------------------------------------------


def test_an_activity_mint_emits_activity_minted_with_every_argument(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M7"""
    claim = ref("event claim")
    tx = mint_one(
        issuer,
        attester,
        authorised,
        funded_minter,
        resident,
        wijk_coin,
        750,
        claim,
        activity="litter picking",
        evidence="organiser's list",
    )
    assert len(tx.events["ActivityMinted"]) == 1
    event = tx.events["ActivityMinted"][0]
    assert event.address == issuer.address
    assert event["resident"] == resident.address
    assert event["coin"] == wijk_coin.address
    assert as_bytes(event["claimId"]) == claim
    assert event["amount"] == 750
    assert as_bytes(event["activityId"]) == ref("litter picking")
    assert as_bytes(event["evidenceHash"]) == ref("organiser's list")
    assert event["verifier"] == authorised.address
    assert event["minter"] == funded_minter.address

    transfer = tx.events["Transfer"][0]
    assert transfer.address == wijk_coin.address
    assert (transfer["from"], transfer["to"], transfer["value"]) == (ZERO_ADDRESS, resident.address, 750)
    assert wijk_coin.balanceOf(resident) == 750
    assert wijk_coin.totalSupply() == 750


# ------------------------------------------------------------------------------------------------
# M8: batches, all or none
# ------------------------------------------------------------------------------------------------


def test_a_batch_mints_every_attestation(
    issuer, attester, authorised, registrar, wijk_coin, sport_coin, resident, neighbour, funded_minter
):
    """spec: M8, M7, M5"""
    sport_verifier = local_account("sport verifier")
    issuer.setVerifier(sport_coin, sport_verifier, True, {"from": registrar})
    batch = [
        attester.signed(authorised, attester.message(resident, wijk_coin, 100, "batch a")),
        attester.signed(authorised, attester.message(neighbour, wijk_coin, 200, "batch b")),
        attester.signed(sport_verifier, attester.message(resident, sport_coin, 300, "batch c")),
    ]
    allowance = issuer.minterAllowance(funded_minter)
    tx = issuer.mintBatch([a for a, _ in batch], [s for _, s in batch], {"from": funded_minter})

    events = tx.events["ActivityMinted"]
    assert [
        (e["resident"], e["coin"], as_bytes(e["claimId"]), e["amount"], e["verifier"]) for e in events
    ] == [
        (resident.address, wijk_coin.address, ref("batch a"), 100, authorised.address),
        (neighbour.address, wijk_coin.address, ref("batch b"), 200, authorised.address),
        (resident.address, sport_coin.address, ref("batch c"), 300, sport_verifier.address),
    ]
    assert all(e["minter"] == funded_minter.address for e in events)
    assert (wijk_coin.balanceOf(resident), wijk_coin.balanceOf(neighbour)) == (100, 200)
    assert sport_coin.balanceOf(resident) == 300
    assert issuer.minterAllowance(funded_minter) == allowance - 600
    assert all(issuer.claimUsed(ref(c)) for c in ("batch a", "batch b", "batch c"))


def test_a_batch_with_one_invalid_attestation_mints_nothing(
    issuer, attester, authorised, wijk_coin, resident, neighbour, merchant, funded_minter
):
    """spec: M8"""
    good = [
        attester.signed(authorised, attester.message(resident, wijk_coin, 100, "all or none 1")),
        attester.signed(authorised, attester.message(neighbour, wijk_coin, 200, "all or none 2")),
    ]
    allowance = issuer.minterAllowance(funded_minter)
    for bad, error, args in (
        (
            attester.signed(local_account("impostor"), attester.message(resident, wijk_coin, 5, "bad 1")),
            "IssuerVerifierNotAuthorized",
            (wijk_coin, local_account("impostor")),
        ),
        (
            attester.signed(authorised, attester.message(merchant, wijk_coin, 5, "bad 2")),
            "IssuerNotAResident",
            (merchant,),
        ),
        (
            attester.signed(authorised, attester.message(resident, wijk_coin, 5, "bad 3", deadline=1)),
            "IssuerAttestationExpired",
            (b32(ref("bad 3")), 1),
        ),
    ):
        batch = [*good, bad]
        with reverts_with(error, *args):
            issuer.mintBatch([a for a, _ in batch], [s for _, s in batch], {"from": funded_minter})
    assert wijk_coin.totalSupply() == 0
    assert not issuer.claimUsed(ref("all or none 1"))
    assert not issuer.claimUsed(ref("all or none 2"))
    assert issuer.minterAllowance(funded_minter) == allowance


def test_a_batch_whose_lists_differ_in_length_fails(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M8"""
    one = attester.signed(authorised, attester.message(resident, wijk_coin, 100, "length 1"))
    two = attester.signed(authorised, attester.message(resident, wijk_coin, 100, "length 2"))
    with reverts_with("IssuerLengthMismatch", 2, 1):
        issuer.mintBatch([one[0], two[0]], [one[1]], {"from": funded_minter})
    with reverts_with("IssuerLengthMismatch", 1, 2):
        issuer.mintBatch([one[0]], [one[1], two[1]], {"from": funded_minter})
    assert wijk_coin.totalSupply() == 0


def test_an_empty_batch_fails(issuer, funded_minter):
    """spec: M8"""
    with reverts_with("IssuerEmptyBatch"):
        issuer.mintBatch([], [], {"from": funded_minter})


# ------------------------------------------------------------------------------------------------
# M9: admin mints
# ------------------------------------------------------------------------------------------------


def test_an_admin_mint_emits_admin_minted_and_spends_allowance(issuer, wijk_coin, neighbour, small_minter):
    """spec: M9, M5"""
    tx = issuer.adminMint(wijk_coin, neighbour, 400, ref("pilot Geitenkamp"), {"from": small_minter})
    event = tx.events["AdminMinted"][0]
    assert event.address == issuer.address
    assert (event["to"], event["coin"], event["amount"], as_bytes(event["reason"]), event["minter"]) == (
        neighbour.address,
        wijk_coin.address,
        400,
        ref("pilot Geitenkamp"),
        small_minter.address,
    )
    transfer = tx.events["Transfer"][0]
    assert (transfer["from"], transfer["to"], transfer["value"]) == (ZERO_ADDRESS, neighbour.address, 400)
    assert "ActivityMinted" not in tx.events
    assert wijk_coin.balanceOf(neighbour) == 400
    assert issuer.minterAllowance(small_minter) == 600


def test_an_admin_mint_needs_a_reason(issuer, wijk_coin, resident, funded_minter):
    """spec: M9"""
    with reverts_with("IssuerMissingReason"):
        issuer.adminMint(wijk_coin, resident, 400, b"\x00" * 32, {"from": funded_minter})


def test_an_admin_mint_of_zero_coins_fails(issuer, wijk_coin, resident, funded_minter):
    """spec: M9"""
    with reverts_with("IssuerZeroAmount"):
        issuer.adminMint(wijk_coin, resident, 0, ref("nothing"), {"from": funded_minter})


def test_an_admin_mint_of_an_unknown_coin_fails(issuer, registry, resident, funded_minter):
    """spec: M9"""
    with reverts_with("IssuerUnknownCoin", registry):
        issuer.adminMint(registry, resident, 400, ref("not a coin"), {"from": funded_minter})


def test_an_admin_mint_beyond_the_allowance_fails(issuer, wijk_coin, resident, small_minter):
    """spec: M9, M5"""
    with reverts_with("IssuerAllowanceExceeded", small_minter, 1000, 1001):
        issuer.adminMint(wijk_coin, resident, 1001, ref("too generous"), {"from": small_minter})
    assert wijk_coin.totalSupply() == 0


def test_an_admin_mint_follows_the_transfer_rule_on_the_receivers_side(
    issuer, wijk_coin, outsider, funded_minter
):
    """spec: M9, T12"""
    with reverts_with(
        "CoinTransferRefused", ZERO_ADDRESS, outsider, 400, TransferRefusal.RECEIVER_OUTSIDE_AREA
    ):
        issuer.adminMint(wijk_coin, outsider, 400, ref("far away"), {"from": funded_minter})
    assert wijk_coin.totalSupply() == 0


def test_an_admin_mint_goes_to_residents_only(
    issuer, wijk_coin, merchant, municipality, organisation, stranger, funded_minter
):
    """spec: M14"""
    allowance = issuer.minterAllowance(funded_minter)
    for receiver in (merchant, municipality, organisation, stranger):
        # The coin's rule would let the merchant and the municipality receive; the issuer does not.
        with reverts_with("IssuerNotAResident", receiver):
            issuer.adminMint(wijk_coin, receiver, 400, ref("straight to the till"), {"from": funded_minter})
    assert wijk_coin.totalSupply() == 0
    assert issuer.minterAllowance(funded_minter) == allowance


# ------------------------------------------------------------------------------------------------
# M10: only the issuer mints
# ------------------------------------------------------------------------------------------------


def test_only_the_issuer_can_call_a_coins_mint(
    wijk_coin, resident, admin, stranger, master_minter, funded_minter
):
    """spec: M10"""
    assert wijk_coin.issuer() != ZERO_ADDRESS
    for caller in (stranger, admin, master_minter, funded_minter):
        with reverts_with("CoinUnauthorizedCaller", caller):
            wijk_coin.mint(resident, 500, {"from": caller})
    assert wijk_coin.totalSupply() == 0


def test_the_coins_issuer_is_the_activity_issuer(wijk_coin, debt_coin, issuer):
    """spec: M10"""
    assert wijk_coin.issuer() == issuer.address
    assert debt_coin.issuer() == issuer.address


# ------------------------------------------------------------------------------------------------
# M11-M13: grant batches (rewards the municipality decided, without an attestation)
# ------------------------------------------------------------------------------------------------


def test_a_grant_batch_mints_every_grant_and_emits_reward_granted_with_every_argument(
    issuer, wijk_coin, sport_coin, resident, neighbour, funded_minter
):
    """spec: M11, M13"""
    grants = [
        grant(wijk_coin, resident, 100, "reward a"),
        grant(wijk_coin, neighbour, 200, "reward b"),
        grant(sport_coin, resident, 300, "reward c"),
    ]
    allowance = issuer.minterAllowance(funded_minter)
    tx = issuer.grantBatch(grants, {"from": funded_minter})

    events = tx.events["RewardGranted"]
    assert all(event.address == issuer.address for event in events)
    assert [(e["to"], e["coin"], as_bytes(e["claimId"]), e["amount"], e["minter"]) for e in events] == [
        (resident.address, wijk_coin.address, ref("reward a"), 100, funded_minter.address),
        (neighbour.address, wijk_coin.address, ref("reward b"), 200, funded_minter.address),
        (resident.address, sport_coin.address, ref("reward c"), 300, funded_minter.address),
    ]
    assert [(t.address, t["from"], t["to"], t["value"]) for t in tx.events["Transfer"]] == [
        (wijk_coin.address, ZERO_ADDRESS, resident.address, 100),
        (wijk_coin.address, ZERO_ADDRESS, neighbour.address, 200),
        (sport_coin.address, ZERO_ADDRESS, resident.address, 300),
    ]
    assert "ActivityMinted" not in tx.events and "AdminMinted" not in tx.events
    assert (wijk_coin.balanceOf(resident), wijk_coin.balanceOf(neighbour)) == (100, 200)
    assert sport_coin.balanceOf(resident) == 300
    assert issuer.minterAllowance(funded_minter) == allowance - 600
    assert all(issuer.claimUsed(ref(c)) for c in ("reward a", "reward b", "reward c"))


def test_a_grant_batch_with_one_invalid_grant_mints_nothing_and_names_the_fault(
    issuer, registry, wijk_coin, resident, neighbour, merchant, stranger, funded_minter
):
    """spec: M11, M12"""
    good = [grant(wijk_coin, resident, 100, "good 1"), grant(wijk_coin, neighbour, 200, "good 2")]
    allowance = issuer.minterAllowance(funded_minter)
    for bad, error, args in (
        (grant(registry, resident, 5, "bad coin"), "IssuerUnknownCoin", (registry,)),
        (grant(ZERO_ADDRESS, resident, 5, "no coin"), "IssuerUnknownCoin", (ZERO_ADDRESS,)),
        (grant(wijk_coin, resident, 0, "bad amount"), "IssuerZeroAmount", ()),
        (grant(wijk_coin, resident, 5, b"\x00" * 32), "IssuerMissingClaimId", ()),
        (grant(wijk_coin, merchant, 5, "to a merchant"), "IssuerNotAResident", (merchant,)),
        (grant(wijk_coin, stranger, 5, "to a stranger"), "IssuerNotAResident", (stranger,)),
        (grant(wijk_coin, neighbour, 7, "good 1"), "IssuerClaimAlreadyUsed", (b32(ref("good 1")),)),
    ):
        # The fault first, in the middle and last: a batch is checked whole wherever the fault lies.
        for batch in ([bad, *good], [good[0], bad, good[1]], [*good, bad]):
            with reverts_with(error, *args):
                issuer.grantBatch(batch, {"from": funded_minter})
    assert wijk_coin.totalSupply() == 0
    assert not issuer.claimUsed(ref("good 1"))
    assert not issuer.claimUsed(ref("good 2"))
    assert issuer.minterAllowance(funded_minter) == allowance


def test_an_empty_grant_batch_fails(issuer, funded_minter):
    """spec: M11"""
    with reverts_with("IssuerEmptyBatch"):
        issuer.grantBatch([], {"from": funded_minter})


def test_a_grant_follows_the_transfer_rule_on_the_receivers_side(
    issuer, registry, wijk_coin, resident, outsider, funded_minter, compliance
):
    """spec: M11, T12"""
    with reverts_with(
        "CoinTransferRefused", ZERO_ADDRESS, outsider, 500, TransferRefusal.RECEIVER_OUTSIDE_AREA
    ):
        issuer.grantBatch([grant(wijk_coin, outsider, 500, "outside")], {"from": funded_minter})
    registry.freeze([resident], {"from": compliance})
    with reverts_with("CoinTransferRefused", ZERO_ADDRESS, resident, 500, TransferRefusal.RECEIVER_FROZEN):
        issuer.grantBatch([grant(wijk_coin, resident, 500, "frozen")], {"from": funded_minter})
    assert not issuer.claimUsed(ref("outside")) and not issuer.claimUsed(ref("frozen"))
    assert wijk_coin.totalSupply() == 0


def test_a_granted_claim_id_sent_again_is_refused_and_mints_nothing_more(
    issuer, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M12, I4"""
    batch = [grant(wijk_coin, resident, 400, "march 0001"), grant(wijk_coin, neighbour, 300, "march 0002")]
    issuer.grantBatch(batch, {"from": funded_minter})
    allowance = issuer.minterAllowance(funded_minter)

    # The whole batch again (a re-run after a crash), and the one claim id with other data.
    with reverts_with("IssuerClaimAlreadyUsed", b32(ref("march 0001"))):
        issuer.grantBatch(batch, {"from": funded_minter})
    with reverts_with("IssuerClaimAlreadyUsed", b32(ref("march 0002"))):
        issuer.grantBatch(
            [grant(wijk_coin, resident, 5, "march 0003"), grant(wijk_coin, resident, 999, "march 0002")],
            {"from": funded_minter},
        )
    assert (wijk_coin.balanceOf(resident), wijk_coin.balanceOf(neighbour)) == (400, 300)
    assert not issuer.claimUsed(ref("march 0003"))
    assert issuer.minterAllowance(funded_minter) == allowance


def test_grants_and_attested_mints_share_the_used_claim_ids(
    issuer, attester, authorised, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M12, M4, I4"""
    attested = ref("attested first")
    mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, attested)
    with reverts_with("IssuerClaimAlreadyUsed", b32(attested)):
        issuer.grantBatch([grant(wijk_coin, neighbour, 500, attested)], {"from": funded_minter})

    granted = ref("granted first")
    issuer.grantBatch([grant(wijk_coin, neighbour, 250, granted)], {"from": funded_minter})
    with reverts_with("IssuerClaimAlreadyUsed", b32(granted)):
        mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 250, granted)
    assert (wijk_coin.balanceOf(resident), wijk_coin.balanceOf(neighbour)) == (500, 250)


def test_a_grant_batch_spends_its_total_from_the_allowance_and_beyond_it_mints_nothing(
    issuer, wijk_coin, resident, neighbour, small_minter
):
    """spec: M13, M5, I5"""
    too_much = [grant(wijk_coin, resident, 600, "part 1"), grant(wijk_coin, neighbour, 500, "part 2")]
    with reverts_with("IssuerAllowanceExceeded", small_minter, 1000, 1100):
        issuer.grantBatch(too_much, {"from": small_minter})
    assert wijk_coin.totalSupply() == 0
    assert not issuer.claimUsed(ref("part 1"))

    exactly = [grant(wijk_coin, resident, 600, "part 1"), grant(wijk_coin, neighbour, 400, "part 3")]
    issuer.grantBatch(exactly, {"from": small_minter})
    assert issuer.minterAllowance(small_minter) == 0
    with reverts_with("IssuerAllowanceExceeded", small_minter, 0, 1):
        issuer.grantBatch([grant(wijk_coin, resident, 1, "one more")], {"from": small_minter})
    assert wijk_coin.totalSupply() == 1000


# ------------------------------------------------------------------------------------------------
# M17: claim id 0 is refused for attested mints too
# ------------------------------------------------------------------------------------------------


def test_an_attestation_with_claim_id_zero_is_refused(
    issuer, attester, authorised, wijk_coin, resident, neighbour, funded_minter
):
    """spec: M17"""
    zero = b"\0" * 32
    with reverts_with("IssuerMissingClaimId"):
        mint_one(issuer, attester, authorised, funded_minter, resident, wijk_coin, 500, zero)
    batch = [
        attester.signed(authorised, attester.message(neighbour, wijk_coin, 100, "a proper claim")),
        attester.signed(authorised, attester.message(resident, wijk_coin, 100, zero)),
    ]
    with reverts_with("IssuerMissingClaimId"):
        issuer.mintBatch([a for a, _ in batch], [s for _, s in batch], {"from": funded_minter})
    assert not issuer.claimUsed(zero)
    assert wijk_coin.totalSupply() == 0


# ------------------------------------------------------------------------------------------------
# M18: contract wallets (a multisig) as verifiers, ERC-1271
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wallet_owners():
    """The organisation's two board members who co-sign for its multisig, sorted by address."""
    owners = (local_account("board member 1"), local_account("board member 2"))
    return sorted(owners, key=lambda a: int(a.address, 16))


@pytest.fixture(scope="module")
def multisig(wallet_owners, admin):
    """The organisation's 2-of-2 contract wallet."""
    return MultisigTestWallet.deploy([o.address for o in wallet_owners], 2, {"from": admin})


@pytest.fixture
def wallet_verifier(issuer, registrar, wijk_coin, multisig):
    issuer.setVerifier(wijk_coin, multisig, True, {"from": registrar})
    return multisig


def wallet_signature(issuer, attester, message: dict, wallet, signers) -> bytes:
    """abi.encode(wallet, the owners' signatures of the digest): the signature form naming its verifier."""
    digest = bytes(issuer.attestationDigest(attester.as_tuple(message)))
    signatures = b"".join(bytes(Account.unsafe_sign_hash(digest, s.private_key).signature) for s in signers)
    return encode(["address", "bytes"], [getattr(wallet, "address", wallet), signatures])


def test_a_contract_wallet_verifier_attests_with_its_owners_signatures(
    issuer, attester, wallet_verifier, wallet_owners, wijk_coin, resident, funded_minter
):
    """spec: M18, M7"""
    message = attester.message(resident, wijk_coin, 700, "multisig claim")
    signature = wallet_signature(issuer, attester, message, wallet_verifier, wallet_owners)
    tx = issuer.mintWithAttestation(attester.as_tuple(message), signature, {"from": funded_minter})
    event = tx.events["ActivityMinted"][0]
    assert (event["resident"], event["verifier"], event["amount"]) == (resident, wallet_verifier, 700)
    assert wijk_coin.balanceOf(resident) == 700


def test_a_contract_wallet_signature_its_wallet_rejects_is_refused(
    issuer, attester, wallet_verifier, wallet_owners, wijk_coin, resident, funded_minter
):
    """spec: M18"""
    message = attester.message(resident, wijk_coin, 700, "half signed")
    claim = ref("half signed")
    one_owner = wallet_signature(issuer, attester, message, wallet_verifier, wallet_owners[:1])
    outsider_too = wallet_signature(
        issuer, attester, message, wallet_verifier, [wallet_owners[0], local_account("not an owner")]
    )
    for signature in (one_owner, outsider_too):
        with reverts_with("IssuerInvalidSignature", claim, wallet_verifier):
            issuer.mintWithAttestation(attester.as_tuple(message), signature, {"from": funded_minter})
    assert not issuer.claimUsed(claim)


def test_a_signature_of_neither_form_is_refused(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M18"""
    message = attester.message(resident, wijk_coin, 700, "malformed")
    _, bare = attester.signed(authorised, message)
    for malformed in (bare[:64], bare + b"\0" * 20):
        with reverts_with("IssuerInvalidSignature", ref("malformed"), ZERO_ADDRESS):
            issuer.mintWithAttestation(attester.as_tuple(message), malformed, {"from": funded_minter})
    assert not issuer.claimUsed(ref("malformed"))


def test_an_unauthorised_contract_wallet_is_refused_before_it_is_asked(
    issuer, attester, multisig, wallet_owners, wijk_coin, resident, funded_minter
):
    """spec: M18, M2"""
    message = attester.message(resident, wijk_coin, 700, "unauthorised wallet")
    signature = wallet_signature(issuer, attester, message, multisig, wallet_owners)
    with reverts_with("IssuerVerifierNotAuthorized", wijk_coin, multisig):
        issuer.mintWithAttestation(attester.as_tuple(message), signature, {"from": funded_minter})


def test_an_eoa_verifier_may_be_named_too_and_its_signature_must_match(
    issuer, attester, authorised, wijk_coin, resident, funded_minter
):
    """spec: M18"""
    message = attester.message(resident, wijk_coin, 300, "named eoa")
    _, bare = attester.signed(authorised, message)
    named = encode(["address", "bytes"], [authorised.address, bare])
    tx = issuer.mintWithAttestation(attester.as_tuple(message), named, {"from": funded_minter})
    assert tx.events["ActivityMinted"][0]["verifier"] == authorised

    other = attester.message(resident, wijk_coin, 300, "named eoa, signed by another")
    _, forged = attester.signed(local_account("forger"), other)
    with reverts_with("IssuerInvalidSignature", ref("named eoa, signed by another"), authorised):
        issuer.mintWithAttestation(
            attester.as_tuple(other),
            encode(["address", "bytes"], [authorised.address, forged]),
            {"from": funded_minter},
        )


def test_a_batch_mixes_eoa_and_contract_wallet_verifiers(
    issuer,
    attester,
    authorised,
    wallet_verifier,
    wallet_owners,
    wijk_coin,
    resident,
    neighbour,
    funded_minter,
):
    """spec: M18, M8"""
    by_key = attester.signed(authorised, attester.message(resident, wijk_coin, 200, "batch by key"))
    wallet_message = attester.message(neighbour, wijk_coin, 300, "batch by wallet")
    by_wallet = (
        attester.as_tuple(wallet_message),
        wallet_signature(issuer, attester, wallet_message, wallet_verifier, wallet_owners),
    )
    tx = issuer.mintBatch([by_key[0], by_wallet[0]], [by_key[1], by_wallet[1]], {"from": funded_minter})
    assert [e["verifier"] for e in tx.events["ActivityMinted"]] == [authorised, wallet_verifier]
    assert (wijk_coin.balanceOf(resident), wijk_coin.balanceOf(neighbour)) == (200, 300)
