// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IActivityIssuer} from "./interfaces/IActivityIssuer.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISocialCoin} from "./interfaces/ISocialCoin.sol";
import {Participants} from "./libraries/Participants.sol";
import {Records} from "./libraries/Records.sol";
import {ParticipantRecords} from "./ParticipantRecords.sol";

/// @title ActivityIssuer
/// @notice Mints coins for verified activities and admin programmes, within per-minter budgets.
/// @dev Like a stablecoin's master minter: the master minter gives each minter (the backend's key) an
///      allowance in coin units (cents); every mint spends from it. Verifiers are organisations' keys or
///      contract wallets (a multisig, ERC-1271), authorised per coin; they sign attestations (EIP-712)
///      that minters submit.
contract ActivityIssuer is IActivityIssuer, AccessControlDefaultAdminRules, EIP712 {
    using Participants for uint256;
    using Records for ParticipantRecords;

    bytes32 public constant MASTER_MINTER_ROLE = keccak256("MASTER_MINTER_ROLE");
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// The length of a bare ECDSA signature (r, s, v): the verifier is recovered from it. Any other
    /// signature is `abi.encode(address verifier, bytes signature)` (at least 128 bytes): the verifier
    /// is named, and its signature is checked as an EOA's or, for a contract wallet, with ERC-1271.
    uint256 private constant _ECDSA_SIGNATURE_LENGTH = 65;
    uint256 private constant _NAMED_SIGNATURE_MIN_LENGTH = 128;

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(address resident,address coin,uint256 amount,bytes32 activityId,bytes32 claimId,bytes32 evidenceHash,uint256 deadline)"
    );

    IParticipantRegistry public immutable registry;
    ParticipantRecords private immutable _records;

    mapping(address minter => uint256) public minterAllowance;
    mapping(bytes32 claimId => bool) public claimUsed;
    mapping(address coin => mapping(address verifier => bool)) public isVerifier;

    constructor(IParticipantRegistry registry_, uint48 adminDelay, address admin)
        AccessControlDefaultAdminRules(adminDelay, admin)
        EIP712("Socialcoin ActivityIssuer", "1")
    {
        if (address(registry_) == address(0)) revert IssuerZeroAddress();
        registry = registry_;
        _records = registry_.records();
        // Only the master minter makes minters, so that role and budget always change together.
        _setRoleAdmin(MINTER_ROLE, MASTER_MINTER_ROLE);
    }

    // ----------------------------------------------------------------------------------------------
    // Budgets and verifiers
    // ----------------------------------------------------------------------------------------------

    /// @notice Raises `minter`'s allowance by `amount` units, and makes it a minter if it was not. Relative,
    ///         so that it never overwrites what a reclaim credited meanwhile. Requires MASTER_MINTER_ROLE;
    ///         `amount` not 0. Emits MinterAllowanceChanged (and RoleGranted the first time).
    function increaseMinterAllowance(address minter, uint256 amount) external onlyRole(MASTER_MINTER_ROLE) {
        if (minter == address(0)) revert IssuerZeroAddress();
        if (amount == 0) revert IssuerZeroAmount();
        _grantRole(MINTER_ROLE, minter);
        uint256 old = minterAllowance[minter];
        minterAllowance[minter] = old + amount;
        emit MinterAllowanceChanged(minter, old, old + amount);
    }

    /// @notice Lowers `minter`'s allowance by `amount` units, or to 0 when it has less (a mint may have
    ///         spent some since the master minter looked). Requires MASTER_MINTER_ROLE; `minter` must be
    ///         a minter and `amount` not 0. Emits MinterAllowanceChanged.
    function decreaseMinterAllowance(address minter, uint256 amount) external onlyRole(MASTER_MINTER_ROLE) {
        if (!hasRole(MINTER_ROLE, minter)) revert IssuerNotAMinter(minter);
        if (amount == 0) revert IssuerZeroAmount();
        uint256 old = minterAllowance[minter];
        uint256 remaining = old > amount ? old - amount : 0;
        minterAllowance[minter] = remaining;
        emit MinterAllowanceChanged(minter, old, remaining);
    }

    /// @notice Takes away a minter's role, and with it its allowance. Requires MASTER_MINTER_ROLE.
    ///         Emits RoleRevoked and MinterAllowanceChanged.
    function removeMinter(address minter) external onlyRole(MASTER_MINTER_ROLE) {
        if (!hasRole(MINTER_ROLE, minter)) revert IssuerNotAMinter(minter);
        _revokeRole(MINTER_ROLE, minter);
    }

    /// @notice Authorises (or stops authorising) `verifier` to attest activities paid in `coin`.
    ///         Requires REGISTRAR_ROLE. Emits VerifierAuthorizationChanged.
    function setVerifier(address coin, address verifier, bool authorized) external onlyRole(REGISTRAR_ROLE) {
        if (verifier == address(0)) revert IssuerZeroAddress();
        if (!registry.isCoin(coin)) revert IssuerUnknownCoin(coin);
        isVerifier[coin][verifier] = authorized;
        emit VerifierAuthorizationChanged(coin, verifier, authorized);
    }

    // ----------------------------------------------------------------------------------------------
    // Minting
    // ----------------------------------------------------------------------------------------------

    /// @notice Mints for one attested activity. Requires MINTER_ROLE; the attestation must be signed by
    ///         a verifier of its coin (see `_verifier` for the two signature forms), not past its
    ///         deadline, for a non-zero unused claim id, for a resident, and within the minter's
    ///         allowance. Emits Transfer (on the coin) and ActivityMinted.
    function mintWithAttestation(Attestation calldata attestation, bytes calldata signature)
        external
        onlyRole(MINTER_ROLE)
    {
        _spendAllowance(msg.sender, _mintAttested(attestation, signature));
    }

    /// @notice Mints for many attested activities in one transaction; all or none.
    ///         Same requirements and events as `mintWithAttestation`, for each.
    function mintBatch(Attestation[] calldata attestations, bytes[] calldata signatures)
        external
        onlyRole(MINTER_ROLE)
    {
        if (attestations.length == 0) revert IssuerEmptyBatch();
        if (attestations.length != signatures.length) {
            revert IssuerLengthMismatch(attestations.length, signatures.length);
        }
        uint256 total = 0;
        for (uint256 i = 0; i < attestations.length; ++i) {
            total += _mintAttested(attestations[i], signatures[i]);
        }
        _spendAllowance(msg.sender, total);
    }

    /// @notice Mints rewards the municipality decided without an attestation (a month's rewards from a
    ///         spreadsheet), all or none. Requires MINTER_ROLE; each grant must be for a coin the
    ///         registry lists, a non-zero amount, a non-zero claim id that has not minted before (by this
    ///         path or an attested one: the ids share `claimUsed`) and a registered resident. The total is
    ///         spent from the minter's allowance once. Emits Transfer (on the coin) and RewardGranted
    ///         per grant.
    function grantBatch(Grant[] calldata grants) external onlyRole(MINTER_ROLE) {
        if (grants.length == 0) revert IssuerEmptyBatch();
        uint256 total = 0;
        // The last coin the registry listed, so that a batch of one coin asks once. It starts unset
        // (address(0), never a coin), and then the grant's coin is always asked about.
        address listedCoin = address(0);
        for (uint256 i = 0; i < grants.length; ++i) {
            Grant calldata grant = grants[i];
            if (grant.coin != listedCoin || listedCoin == address(0)) {
                if (!registry.isCoin(grant.coin)) revert IssuerUnknownCoin(grant.coin);
                listedCoin = grant.coin;
            }
            total += _grant(grant);
        }
        _spendAllowance(msg.sender, total);
    }

    /// @notice Mints for a programme without activities (a start bonus, a pilot), with a reason, to a
    ///         registered resident only (coins reach merchants only as payments, so that every euro paid
    ///         out was spent by a resident). Requires MINTER_ROLE and allowance.
    ///         Emits Transfer (on the coin) and AdminMinted.
    function adminMint(address coin, address to, uint256 amount, bytes32 reason) external onlyRole(MINTER_ROLE) {
        if (!registry.isCoin(coin)) revert IssuerUnknownCoin(coin);
        if (amount == 0) revert IssuerZeroAmount();
        if (reason == bytes32(0)) revert IssuerMissingReason();
        _requireResident(to);
        _spendAllowance(msg.sender, amount);
        emit AdminMinted(to, coin, amount, reason, msg.sender);
        ISocialCoin(coin).mint(to, amount);
    }

    /// @notice After a coin expired, burns what `holders` have left of it. The total returns to
    ///         `creditedMinter`'s allowance, or (with address(0)) is only reported. Works while paused.
    ///         Requires MASTER_MINTER_ROLE. Emits ExpiredReclaimed (on the coin) per holder and
    ///         ExpiredCoinsReclaimed.
    function reclaimExpired(address coin, address[] calldata holders, address creditedMinter)
        external
        onlyRole(MASTER_MINTER_ROLE)
        returns (uint256 total)
    {
        if (!registry.isCoin(coin)) revert IssuerUnknownCoin(coin);
        if (creditedMinter != address(0) && !hasRole(MINTER_ROLE, creditedMinter)) {
            revert IssuerNotAMinter(creditedMinter);
        }
        for (uint256 i = 0; i < holders.length; ++i) {
            total += ISocialCoin(coin).reclaimExpired(holders[i]);
        }
        if (creditedMinter != address(0)) minterAllowance[creditedMinter] += total;
        emit ExpiredCoinsReclaimed(coin, total, holders.length, creditedMinter);
    }

    /// @notice The EIP-712 digest a verifier signs for `attestation`.
    function attestationDigest(Attestation calldata attestation) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ATTESTATION_TYPEHASH, attestation)));
    }

    // ----------------------------------------------------------------------------------------------
    // Internal workers
    // ----------------------------------------------------------------------------------------------

    /// @dev A minter that loses its role (revoked, removed or renounced) loses its allowance with it, so
    ///      that granting the role again never revives an old budget.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == MINTER_ROLE) {
            uint256 old = minterAllowance[account];
            delete minterAllowance[account];
            emit MinterAllowanceChanged(account, old, 0);
        }
    }

    /// @dev The verifier of an attestation and whether its signature holds: a bare 65-byte signature is
    ///      an EOA's, whose address is recovered (it reverts when it recovers to nothing); any other is
    ///      `abi.encode(verifier, signature)`, checked against the named verifier (ECDSA for an EOA,
    ///      ERC-1271 for a contract wallet). Only an authorised verifier is ever called.
    function _verifier(Attestation calldata attestation, bytes calldata signature) private view returns (address) {
        bytes32 digest = attestationDigest(attestation);
        if (signature.length == _ECDSA_SIGNATURE_LENGTH) {
            address signer = ECDSA.recover(digest, signature);
            _requireVerifier(attestation.coin, signer);
            return signer;
        }
        // Shorter than any abi.encode(address, bytes): neither form (abi.decode would revert without a reason).
        if (signature.length < _NAMED_SIGNATURE_MIN_LENGTH) {
            revert IssuerInvalidSignature(attestation.claimId, address(0));
        }
        (address verifier, bytes memory walletSignature) = abi.decode(signature, (address, bytes));
        _requireVerifier(attestation.coin, verifier);
        if (!SignatureChecker.isValidSignatureNow(verifier, digest, walletSignature)) {
            revert IssuerInvalidSignature(attestation.claimId, verifier);
        }
        return verifier;
    }

    function _requireVerifier(address coin, address verifier) private view {
        if (!isVerifier[coin][verifier]) revert IssuerVerifierNotAuthorized(coin, verifier);
    }

    function _requireResident(address account) private view {
        if (_records.wordOf(account).kindOf() != Participants.Kind.Resident) revert IssuerNotAResident(account);
    }

    /// @dev Checks one attestation, marks its claim used and mints; returns the amount minted.
    function _mintAttested(Attestation calldata attestation, bytes calldata signature)
        private
        returns (uint256)
    {
        bytes32 claimId = attestation.claimId;
        // slither-disable-next-line timestamp
        if (block.timestamp > attestation.deadline) revert IssuerAttestationExpired(claimId, attestation.deadline);
        if (attestation.amount == 0) revert IssuerZeroAmount();
        if (claimId == bytes32(0)) revert IssuerMissingClaimId();
        if (claimUsed[claimId]) revert IssuerClaimAlreadyUsed(claimId);
        address verifier = _verifier(attestation, signature);
        _requireResident(attestation.resident);

        claimUsed[claimId] = true;
        emit ActivityMinted(
            attestation.resident,
            attestation.coin,
            claimId,
            attestation.amount,
            attestation.activityId,
            attestation.evidenceHash,
            verifier,
            msg.sender
        );
        // The coin is one the municipality authorised the verifier for, so a factory coin.
        ISocialCoin(attestation.coin).mint(attestation.resident, attestation.amount);
        return attestation.amount;
    }

    /// @dev Checks one grant (its coin is checked by the caller), marks its claim used and mints; returns
    ///      the amount minted.
    function _grant(Grant calldata grant) private returns (uint256) {
        bytes32 claimId = grant.claimId;
        if (grant.amount == 0) revert IssuerZeroAmount();
        if (claimId == bytes32(0)) revert IssuerMissingClaimId();
        if (claimUsed[claimId]) revert IssuerClaimAlreadyUsed(claimId);
        _requireResident(grant.to);

        claimUsed[claimId] = true;
        emit RewardGranted(grant.to, grant.coin, claimId, grant.amount, msg.sender);
        ISocialCoin(grant.coin).mint(grant.to, grant.amount);
        return grant.amount;
    }

    function _spendAllowance(address minter, uint256 amount) private {
        uint256 allowance = minterAllowance[minter];
        if (amount > allowance) revert IssuerAllowanceExceeded(minter, allowance, amount);
        // Cannot underflow: checked just above.
        unchecked {
            minterAllowance[minter] = allowance - amount;
        }
    }
}
