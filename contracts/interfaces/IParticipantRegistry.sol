// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {Participants} from "../libraries/Participants.sol";
import {ParticipantRecords} from "../ParticipantRecords.sol";

/// @title IParticipantRegistry
/// @notice Who may hold Socialcoins, where they live or trade, which purposes they accept; the purpose
///         codes; the system-wide pause; the list of coins; the two-step recovery of a lost wallet.
///         Personal data never comes here: a participant carries only a salted hash of its off-chain record.
interface IParticipantRegistry {
    struct Registration {
        address account;
        Participants.Kind kind;
        bytes8 area;
        uint64 purposes;
        bytes32 recordHash;
    }

    struct Participant {
        Participants.Kind kind;
        bytes8 area;
        uint64 purposes;
        bool frozen;
        bytes32 recordHash;
    }

    /// A pending recovery of a lost wallet: where it goes, from when it may be executed, and the
    /// municipality's case (a reference, never personal data).
    struct RecoveryRequest {
        address replacement;
        uint64 executableAt;
        bytes32 caseReference;
    }

    struct Purpose {
        bytes32 code;
        /// Bit set of the ways a resident may redeem a coin of this purpose (see ISocialCoin.BurnReason).
        uint8 redemptions;
    }

    event ParticipantRegistered(
        address indexed account, Participants.Kind kind, bytes8 area, uint64 purposes, bytes32 recordHash
    );
    event ParticipantUpdated(
        address indexed account, Participants.Kind kind, bytes8 area, uint64 purposes, bytes32 recordHash
    );
    event ParticipantFrozen(address indexed account);
    event ParticipantUnfrozen(address indexed account);
    event RecoveryRequested(
        address indexed lost, address indexed replacement, bytes32 indexed caseReference, uint64 executableAt
    );
    event RecoveryCancelled(
        address indexed lost, address indexed replacement, bytes32 indexed caseReference, address cancelledBy
    );
    event ParticipantRecovered(address indexed lost, address indexed replacement, bytes32 indexed caseReference);
    event PurposeAdded(uint8 indexed id, bytes32 code, uint8 redemptions);
    event CoinAdded(address indexed coin);
    event CoinDelisted(address indexed coin);

    error RegistryZeroAddress();
    error RegistryAlreadyRegistered(address account);
    error RegistryNotRegistered(address account);
    error RegistryInvalidKind(address account, Participants.Kind kind);
    error RegistryInvalidArea(bytes8 area);
    error RegistryUnknownPurposes(uint64 purposes, uint64 known);
    error RegistryAlreadyFrozen(address account);
    error RegistryNotFrozen(address account);
    error RegistryPurposeExists(bytes32 code, uint8 id);
    error RegistryPurposeLimitReached(uint256 limit);
    error RegistryInvalidPurposeCode(bytes32 code);
    error RegistryCoinExists(address coin);
    error RegistryInvalidRedemptions(uint8 redemptions);
    /// A recovered (lost) address can never be registered or be a recovery's replacement again.
    error RegistryAddressLost(address account);
    error RegistryMissingCaseReference();
    error RegistryRecoveryPending(address lost, address replacement);
    error RegistryNoRecoveryRequest(address lost);
    error RegistryRecoveryNotDue(address lost, uint64 executableAt);
    error RegistryCancelNotAllowed(address caller, address lost);
    error RegistryRecoveryDelayOutOfRange(uint256 delay, uint256 minimum, uint256 maximum);
    error RegistryUnknownCoin(address coin);
    error RegistryCoinNotExpired(address coin, uint64 expiry);
    error RegistryCoinNotEmpty(address coin, uint256 totalSupply);

    /// The contract holding the packed records and the pause flag, which coins read directly.
    function records() external view returns (ParticipantRecords);

    function participantWord(address account) external view returns (uint256);
    function participant(address account) external view returns (Participant memory);
    function purpose(uint8 id) external view returns (Purpose memory);
    function purposeCount() external view returns (uint8);
    function isCoin(address coin) external view returns (bool);
    function addCoin(address coin) external;
    function isLost(address account) external view returns (bool);
    function recoveryDelay() external view returns (uint256);
    function recoveryRequest(address lost) external view returns (RecoveryRequest memory);
}
