// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISocialCoin} from "./interfaces/ISocialCoin.sol";
import {Participants} from "./libraries/Participants.sol";
import {Records} from "./libraries/Records.sol";
import {ParticipantRecords} from "./ParticipantRecords.sol";

/// @title ParticipantRegistry
/// @notice The one registry of a municipality's Socialcoin system: participants, purposes, the
///         system-wide pause and the coins. It keeps the packed participant records and the pause flag
///         in its own ParticipantRecords contract, which coins read on every balance change.
contract ParticipantRegistry is IParticipantRegistry, AccessControlDefaultAdminRules, Pausable {
    using Participants for uint256;
    using Records for ParticipantRecords;

    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");
    bytes32 public constant COIN_FACTORY_ROLE = keccak256("COIN_FACTORY_ROLE");

    /// Purpose ids are bit positions in a participant's 64-bit purpose set.
    uint256 public constant MAX_PURPOSES = 64;

    /// The chain id of a local development chain (anvil's default), the only one where recovery may
    /// take no time. A production chain never uses it.
    uint256 public constant DEVELOPMENT_CHAIN_ID = 31337;
    /// Bounds of the recovery delay outside development: long enough for the lost key's owner (or the
    /// admin) to notice a request and cancel it, short enough that a resident gets their coins back.
    uint256 public constant MIN_RECOVERY_DELAY = 1 days;
    uint256 public constant MAX_RECOVERY_DELAY = 30 days;

    uint8 private constant _DEBT = uint8(1 << uint8(ISocialCoin.BurnReason.DebtSettlement));
    uint8 private constant _SERVICE = uint8(1 << uint8(ISocialCoin.BurnReason.ServiceRedemption));

    /// The packed records and pause flag that coins read; written only from here.
    ParticipantRecords public immutable records;
    mapping(address account => bytes32 recordHash) private _recordHashes;

    Purpose[] private _purposes;
    mapping(bytes32 code => uint256 idPlusOne) private _purposeIds;

    address[] private _coins;
    /// A listed coin's position in `_coins`, plus one (0: not listed), so that delisting is O(1).
    mapping(address coin => uint256 indexPlusOne) private _coinIndex;

    /// Seconds between a recovery's request and its execution, fixed at deployment.
    uint256 public immutable recoveryDelay;
    mapping(address lost => RecoveryRequest) private _recoveryRequests;
    /// Addresses recovered away from: never registered again, so nothing their keys signed revives.
    mapping(address account => bool) private _lost;

    /// @param adminDelay seconds a handover of the admin role must wait (OpenZeppelin's default-admin rules)
    /// @param admin the municipality's admin account
    /// @param recoveryDelay_ seconds between a recovery's request and its execution: MIN_RECOVERY_DELAY
    ///        to MAX_RECOVERY_DELAY; below the minimum (down to 0) only on the development chain
    constructor(uint48 adminDelay, address admin, uint256 recoveryDelay_)
        AccessControlDefaultAdminRules(adminDelay, admin)
    {
        uint256 minimum = block.chainid == DEVELOPMENT_CHAIN_ID ? 0 : MIN_RECOVERY_DELAY;
        if (recoveryDelay_ < minimum || recoveryDelay_ > MAX_RECOVERY_DELAY) {
            revert RegistryRecoveryDelayOutOfRange(recoveryDelay_, minimum, MAX_RECOVERY_DELAY);
        }
        recoveryDelay = recoveryDelay_;
        records = new ParticipantRecords();
        _addPurpose("DEBT_SETTLEMENT", _DEBT);
        _addPurpose("MUNICIPAL_SERVICES", _SERVICE);
        _addPurpose("LOCAL_SPENDING", 0);
        _addPurpose("SPORT_CULTURE", _SERVICE);
        _addPurpose("MOBILITY", _SERVICE);
        _addPurpose("ENERGY", 0);
        _addPurpose("EDUCATION", _SERVICE);
    }

    // ----------------------------------------------------------------------------------------------
    // The hot path
    // ----------------------------------------------------------------------------------------------

    // ----------------------------------------------------------------------------------------------
    // Participants
    // ----------------------------------------------------------------------------------------------

    /// @notice Registers a participant. Requires REGISTRAR_ROLE; the account must be new, the kind set,
    ///         the area a CBS code, the purposes known. Emits ParticipantRegistered.
    function register(Registration calldata registration) external onlyRole(REGISTRAR_ROLE) {
        _register(registration);
    }

    /// @notice Registers many participants at once; all or none. Emits ParticipantRegistered for each.
    function registerBatch(Registration[] calldata registrations) external onlyRole(REGISTRAR_ROLE) {
        for (uint256 i = 0; i < registrations.length; ++i) {
            _register(registrations[i]);
        }
    }

    /// @notice Changes a registered participant's kind, area, purposes or record hash; the frozen
    ///         state stays. Requires REGISTRAR_ROLE. Emits ParticipantUpdated.
    function update(Registration calldata registration) external onlyRole(REGISTRAR_ROLE) {
        _update(registration);
    }

    /// @notice Updates many participants at once; all or none. Emits ParticipantUpdated for each.
    function updateBatch(Registration[] calldata registrations) external onlyRole(REGISTRAR_ROLE) {
        for (uint256 i = 0; i < registrations.length; ++i) {
            _update(registrations[i]);
        }
    }

    /// @notice Freezes accounts: they can neither send nor receive. Requires COMPLIANCE_ROLE (never the
    ///         registrar, whose key the backend uses for admission). Emits ParticipantFrozen for each.
    function freeze(address[] calldata accounts) external onlyRole(COMPLIANCE_ROLE) {
        for (uint256 i = 0; i < accounts.length; ++i) {
            _setFrozen(accounts[i], true);
        }
    }

    /// @notice Unfreezes accounts. Requires COMPLIANCE_ROLE. Emits ParticipantUnfrozen for each.
    function unfreeze(address[] calldata accounts) external onlyRole(COMPLIANCE_ROLE) {
        for (uint256 i = 0; i < accounts.length; ++i) {
            _setFrozen(accounts[i], false);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // Recovery of a lost wallet, in two steps
    // ----------------------------------------------------------------------------------------------

    /// @notice First step of moving a lost wallet to a new address, after the person's identity was
    ///         checked again: records the request, which may be executed `recoveryDelay` seconds later.
    ///         Requires COMPLIANCE_ROLE and the system not paused; `lost` must be registered and frozen
    ///         (so that its key cannot spend meanwhile) and have no request pending; `replacement` must
    ///         be new (never registered, never lost); `caseReference` (the municipality's case, not
    ///         personal data) must be set. Emits RecoveryRequested.
    function requestRecovery(address lost, address replacement, bytes32 caseReference)
        external
        onlyRole(COMPLIANCE_ROLE)
        whenNotPaused
    {
        if (caseReference == bytes32(0)) revert RegistryMissingCaseReference();
        uint256 word = records.wordOf(lost);
        if (!word.isRegistered()) revert RegistryNotRegistered(lost);
        if (!word.isFrozen()) revert RegistryNotFrozen(lost);
        address pending = _recoveryRequests[lost].replacement;
        if (pending != address(0)) revert RegistryRecoveryPending(lost, pending);
        _requireNewAddress(replacement);

        // block.timestamp + at most 30 days fits in 64 bits for billions of years.
        uint64 executableAt = uint64(block.timestamp + recoveryDelay);
        _recoveryRequests[lost] =
            RecoveryRequest({replacement: replacement, executableAt: executableAt, caseReference: caseReference});
        emit RecoveryRequested(lost, replacement, caseReference, executableAt);
    }

    /// @notice Second step: once the delay has passed, moves the lost wallet's registration (kind,
    ///         area, purposes, record hash; unfrozen: the freeze guarded the lost key, which ends here)
    ///         and its balance in every listed coin to the replacement. The lost address ends
    ///         unregistered and is marked lost for good, so nothing signed with its key can move coins
    ///         again. Requires COMPLIANCE_ROLE and the system not paused; `lost` must still be frozen and
    ///         the replacement still new. Emits ParticipantRecovered, and BalanceRecovered on each coin
    ///         with a balance.
    function executeRecovery(address lost) external onlyRole(COMPLIANCE_ROLE) whenNotPaused {
        RecoveryRequest memory request = _pendingRequest(lost);
        // slither-disable-next-line timestamp
        if (block.timestamp < request.executableAt) revert RegistryRecoveryNotDue(lost, request.executableAt);
        uint256 word = records.wordOf(lost);
        // Still registered: nothing but a recovery unregisters, and it deletes the request.
        if (!word.isFrozen()) revert RegistryNotFrozen(lost);
        address replacement = request.replacement;
        _requireNewAddress(replacement);

        delete _recoveryRequests[lost];
        _lost[lost] = true;
        records.write(replacement, word.withFrozen(false));
        records.write(lost, 0);
        _recordHashes[replacement] = _recordHashes[lost];
        delete _recordHashes[lost];
        emit ParticipantRecovered(lost, replacement, request.caseReference);

        // The coins are this municipality's own contracts, listed by its factory; expired and empty
        // ones can be delisted (delistCoin), which keeps this loop short.
        for (uint256 i = 0; i < _coins.length; ++i) {
            // The amount is for callers that want it; the coin emits BalanceRecovered itself.
            // slither-disable-next-line unused-return,calls-loop
            ISocialCoin(_coins[i]).recoverBalance(lost, replacement);
        }
    }

    /// @notice Withdraws a pending recovery request. Only the lost key itself (its owner still has it:
    ///         the request was a mistake or an attack) or the admin. Works while paused.
    ///         Emits RecoveryCancelled.
    function cancelRecovery(address lost) external {
        if (msg.sender != lost && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert RegistryCancelNotAllowed(msg.sender, lost);
        }
        RecoveryRequest memory request = _pendingRequest(lost);
        delete _recoveryRequests[lost];
        emit RecoveryCancelled(lost, request.replacement, request.caseReference, msg.sender);
    }

    /// @notice The pending recovery request of `lost` (a zero replacement: none).
    function recoveryRequest(address lost) external view returns (RecoveryRequest memory) {
        return _recoveryRequests[lost];
    }

    /// @notice Whether `account` was recovered away from: it can never be registered again.
    function isLost(address account) external view returns (bool) {
        return _lost[account];
    }

    function participantWord(address account) external view returns (uint256) {
        return records.wordOf(account);
    }

    function participant(address account) external view returns (Participant memory) {
        uint256 word = records.wordOf(account);
        return Participant({
            kind: word.kindOf(),
            area: word.areaOf(),
            purposes: word.purposesOf(),
            frozen: word.isFrozen(),
            recordHash: _recordHashes[account]
        });
    }

    /// @notice True when `area` lies within `container` (its digits start with the container's);
    ///         every area lies within NL (the empty code).
    function isWithin(bytes8 area, bytes8 container) external pure returns (bool) {
        if (!Participants.isValidArea(container)) revert RegistryInvalidArea(container);
        return Participants.isWithin(area, container);
    }

    // ----------------------------------------------------------------------------------------------
    // Pause
    // ----------------------------------------------------------------------------------------------

    /// @notice Stops every balance change in every coin, except expiry reclaim; recovery waits too.
    ///         Requires PAUSER_ROLE. Emits Paused.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lets coins move again. Requires PAUSER_ROLE. Emits Unpaused.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------------
    // Purposes
    // ----------------------------------------------------------------------------------------------

    /// @notice Adds a purpose code. A purpose never changes once added, so that a coin of that purpose
    ///         keeps doing what it did. Requires the admin role. Emits PurposeAdded.
    /// @param redemptions bit set of BurnReason values residents may burn coins of this purpose for
    function addPurpose(bytes32 code, uint8 redemptions) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint8 id) {
        return _addPurpose(code, redemptions);
    }

    function purpose(uint8 id) external view returns (Purpose memory) {
        return _purposes[id];
    }

    function purposeCount() external view returns (uint8) {
        return uint8(_purposes.length);
    }

    /// @notice The id of a purpose code; reverts when the code is unknown.
    function purposeId(bytes32 code) external view returns (uint8) {
        uint256 idPlusOne = _purposeIds[code];
        if (idPlusOne == 0) revert RegistryInvalidPurposeCode(code);
        return uint8(idPlusOne - 1);
    }

    // ----------------------------------------------------------------------------------------------
    // Coins
    // ----------------------------------------------------------------------------------------------

    /// @notice Lists a new coin, so that recovery moves its balances too. Requires COIN_FACTORY_ROLE.
    ///         Emits CoinAdded.
    function addCoin(address coin) external onlyRole(COIN_FACTORY_ROLE) {
        if (coin == address(0)) revert RegistryZeroAddress();
        if (_coinIndex[coin] != 0) revert RegistryCoinExists(coin);
        _coins.push(coin);
        _coinIndex[coin] = _coins.length;
        emit CoinAdded(coin);
    }

    /// @notice Removes an expired coin that nobody holds any more from the list, so that recovery stops
    ///         visiting it (each listed coin costs every recovery a call). Anyone may do it: an expired
    ///         coin can never be minted again, so with a total supply of 0 there is nothing left that
    ///         recovery, reclaim or a payout could ever move. Emits CoinDelisted.
    function delistCoin(address coin) external {
        uint256 indexPlusOne = _coinIndex[coin];
        if (indexPlusOne == 0) revert RegistryUnknownCoin(coin);
        // The coin is one the factory listed, so its answers can be trusted.
        uint64 expiry = ISocialCoin(coin).expiry();
        // slither-disable-next-line timestamp
        if (expiry == 0 || block.timestamp < expiry) revert RegistryCoinNotExpired(coin, expiry);
        uint256 supply = IERC20(coin).totalSupply();
        if (supply != 0) revert RegistryCoinNotEmpty(coin, supply);

        // Swap and pop: the last coin takes the delisted one's place.
        address last = _coins[_coins.length - 1];
        _coins[indexPlusOne - 1] = last;
        _coinIndex[last] = indexPlusOne;
        _coins.pop();
        delete _coinIndex[coin];
        emit CoinDelisted(coin);
    }

    function isCoin(address coin) external view returns (bool) {
        return _coinIndex[coin] != 0;
    }

    function coins() external view returns (address[] memory) {
        return _coins;
    }

    // ----------------------------------------------------------------------------------------------
    // Internal workers
    // ----------------------------------------------------------------------------------------------

    function _register(Registration calldata registration) private {
        address account = registration.account;
        _requireNewAddress(account);
        records.write(account, _validatedWord(registration, false));
        _recordHashes[account] = registration.recordHash;
        emit ParticipantRegistered(
            account, registration.kind, registration.area, registration.purposes, registration.recordHash
        );
    }

    function _update(Registration calldata registration) private {
        address account = registration.account;
        uint256 word = records.wordOf(account);
        if (!word.isRegistered()) revert RegistryNotRegistered(account);
        records.write(account, _validatedWord(registration, word.isFrozen()));
        _recordHashes[account] = registration.recordHash;
        emit ParticipantUpdated(
            account, registration.kind, registration.area, registration.purposes, registration.recordHash
        );
    }

    function _validatedWord(Registration calldata registration, bool frozen) private view returns (uint256) {
        if (registration.kind == Participants.Kind.None) {
            revert RegistryInvalidKind(registration.account, registration.kind);
        }
        if (!Participants.isValidArea(registration.area)) revert RegistryInvalidArea(registration.area);
        uint64 known = _knownPurposes();
        if (registration.purposes & ~known != 0) revert RegistryUnknownPurposes(registration.purposes, known);
        return Participants.pack(registration.kind, registration.area, registration.purposes, frozen);
    }

    /// @dev An address that may become a participant: not zero, not registered, never lost.
    function _requireNewAddress(address account) private view {
        if (account == address(0)) revert RegistryZeroAddress();
        if (records.wordOf(account).isRegistered()) revert RegistryAlreadyRegistered(account);
        if (_lost[account]) revert RegistryAddressLost(account);
    }

    function _pendingRequest(address lost) private view returns (RecoveryRequest memory request) {
        request = _recoveryRequests[lost];
        if (request.replacement == address(0)) revert RegistryNoRecoveryRequest(lost);
    }

    function _setFrozen(address account, bool frozen) private {
        uint256 word = records.wordOf(account);
        if (!word.isRegistered()) revert RegistryNotRegistered(account);
        if (word.isFrozen() == frozen) {
            if (frozen) revert RegistryAlreadyFrozen(account);
            revert RegistryNotFrozen(account);
        }
        records.write(account, word.withFrozen(frozen));
        if (frozen) emit ParticipantFrozen(account);
        else emit ParticipantUnfrozen(account);
    }

    function _addPurpose(bytes32 code, uint8 redemptions) private returns (uint8 id) {
        if (code == bytes32(0)) revert RegistryInvalidPurposeCode(code);
        uint256 existing = _purposeIds[code];
        if (existing != 0) revert RegistryPurposeExists(code, uint8(existing - 1));
        if (redemptions & ~(_DEBT | _SERVICE) != 0) revert RegistryInvalidRedemptions(redemptions);
        if (_purposes.length == MAX_PURPOSES) revert RegistryPurposeLimitReached(MAX_PURPOSES);
        id = uint8(_purposes.length);
        _purposes.push(Purpose({code: code, redemptions: redemptions}));
        _purposeIds[code] = uint256(id) + 1;
        emit PurposeAdded(id, code, redemptions);
    }

    /// @dev The pause flag lives in two places: OpenZeppelin's (for `paused()` and its events) and the
    ///      records (for the coins). These two overrides are the only writers, so they stay equal.
    function _pause() internal override {
        super._pause();
        records.writePaused(true);
    }

    function _unpause() internal override {
        super._unpause();
        records.writePaused(false);
    }

    function _knownPurposes() private view returns (uint64) {
        uint256 count = _purposes.length;
        // count <= 64, so the shift fits; at 64 every bit is known.
        return count == MAX_PURPOSES ? type(uint64).max : uint64((1 << count) - 1);
    }
}
