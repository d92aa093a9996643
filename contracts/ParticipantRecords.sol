// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

/// @title ParticipantRecords
/// @notice The packed participant records and the system-wide pause flag, and nothing else: the data
///         every coin reads on every balance change. Created and written only by its ParticipantRegistry,
///         which holds the rules for changing it; anyone may read.
/// @dev There is no function dispatcher on purpose: a payment pays for one call and three storage reads
///      here and hardly anything more (the contract's whole code is the fallback below).
///      Calls, told apart by their length:
///        read, anyone:     abi.encode(address from, address to)           (64 bytes)
///                          -> (uint256 fromWord, uint256 toWord), with the pause flag set as
///                             bit 137 of fromWord (Participants.PAUSED in its status)
///        write, registry:  abi.encode(address account, uint256 word, true) (96 bytes)
///        pause, registry:  abi.encode(bool paused)                       (32 bytes)
///      Storage: an account's word lives in the slot numbered by the account's address (no hashing on
///      the hot path); the pause flag in slot 2**255, which no address reaches.
///      See libraries/Records.sol for the callers' side.
contract ParticipantRecords {
    address private immutable _registry;

    constructor() {
        _registry = msg.sender;
    }

    fallback() external {
        address registry = _registry;
        assembly {
            if eq(calldatasize(), 0x40) {
                mstore(0x00, or(sload(calldataload(0x00)), shl(137, sload(shl(255, 1)))))
                mstore(0x20, sload(calldataload(0x20)))
                return(0x00, 0x40)
            }
            if iszero(eq(caller(), registry)) { revert(0, 0) }
            switch calldatasize()
            case 0x60 { sstore(calldataload(0x00), calldataload(0x20)) }
            case 0x20 { sstore(shl(255, 1), calldataload(0x00)) }
            default { revert(0, 0) }
        }
    }
}
