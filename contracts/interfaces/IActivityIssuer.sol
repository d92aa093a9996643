// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

/// @title IActivityIssuer
/// @notice Mints coins for activities an organisation's verifier has attested, within the budgets the
///         master minter gives each minter.
interface IActivityIssuer {
    /// What a verifier signs (EIP-712): this resident did this activity and earned this amount.
    struct Attestation {
        address resident;
        address coin;
        uint256 amount;
        bytes32 activityId;
        bytes32 claimId;
        bytes32 evidenceHash;
        uint256 deadline;
    }

    /// A reward the municipality decided itself (a row of a month's spreadsheet): no verifier signs it;
    /// its claim id (a keyed hash of the municipality's reference, never the reference) mints once.
    struct Grant {
        address coin;
        address to;
        uint256 amount;
        bytes32 claimId;
    }

    event ActivityMinted(
        address indexed resident,
        address indexed coin,
        bytes32 indexed claimId,
        uint256 amount,
        bytes32 activityId,
        bytes32 evidenceHash,
        address verifier,
        address minter
    );
    event RewardGranted(
        address indexed to, address indexed coin, bytes32 indexed claimId, uint256 amount, address minter
    );
    event AdminMinted(address indexed to, address indexed coin, uint256 amount, bytes32 reason, address minter);
    event ExpiredCoinsReclaimed(address indexed coin, uint256 amount, uint256 holders, address creditedMinter);
    /// The master minter raised or lowered a minter's allowance, or the allowance was cleared because the
    /// minter lost its role. (Mints spend from it and reclaims credit it with events of their own.)
    event MinterAllowanceChanged(address indexed minter, uint256 oldAllowance, uint256 newAllowance);
    event VerifierAuthorizationChanged(address indexed coin, address indexed verifier, bool authorized);

    error IssuerZeroAddress();
    error IssuerZeroAmount();
    error IssuerMissingReason();
    error IssuerMissingClaimId();
    error IssuerUnknownCoin(address coin);
    error IssuerNotAResident(address account);
    error IssuerAttestationExpired(bytes32 claimId, uint256 deadline);
    error IssuerVerifierNotAuthorized(address coin, address verifier);
    error IssuerClaimAlreadyUsed(bytes32 claimId);
    error IssuerAllowanceExceeded(address minter, uint256 allowance, uint256 needed);
    error IssuerLengthMismatch(uint256 attestations, uint256 signatures);
    error IssuerEmptyBatch();
    error IssuerNotAMinter(address account);
    /// A contract wallet's (ERC-1271) or a named EOA's signature does not hold for the attestation.
    error IssuerInvalidSignature(bytes32 claimId, address verifier);

    function minterAllowance(address minter) external view returns (uint256);
    function claimUsed(bytes32 claimId) external view returns (bool);
    function isVerifier(address coin, address verifier) external view returns (bool);
}
