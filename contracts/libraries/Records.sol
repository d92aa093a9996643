// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {ParticipantRecords} from "../ParticipantRecords.sol";

/// @title Records
/// @notice The callers' side of ParticipantRecords: read two records and the pause flag, or write.
library Records {
    /// A write was refused: only the records' own registry may write (a wiring error).
    error RecordsWriteRefused(address records);

    /// @notice Both parties' packed records (address(0) reads as empty); the sender's carries the
    ///         pause flag (see Participants.PAUSED).
    function context(ParticipantRecords records, address from, address to)
        internal
        view
        returns (uint256 fromWord, uint256 toWord)
    {
        // Question and answer fit in the scratch space (0x00-0x3f), so no memory is allocated.
        assembly ("memory-safe") {
            mstore(0x00, from)
            mstore(0x20, to)
            // ParticipantRecords is ours and always answers two words.
            if iszero(staticcall(gas(), records, 0x00, 0x40, 0x00, 0x40)) { revert(0, 0) }
            fromWord := mload(0x00)
            toWord := mload(0x20)
        }
    }

    /// @notice An account's stored record (without the pause flag).
    function wordOf(ParticipantRecords records, address account) internal view returns (uint256 word) {
        (, word) = context(records, address(0), account);
    }

    function write(ParticipantRecords records, address account, uint256 word) internal {
        _call(records, abi.encode(account, word, true));
    }

    function writePaused(ParticipantRecords records, bool systemPaused) internal {
        _call(records, abi.encode(systemPaused));
    }

    function _call(ParticipantRecords records, bytes memory data) private {
        // slither-disable-next-line low-level-calls
        (bool ok,) = address(records).call(data);
        if (!ok) revert RecordsWriteRefused(address(records));
    }
}
