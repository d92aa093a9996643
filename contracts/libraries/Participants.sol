// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

/// @title Participants
/// @notice The packed form of a participant record and of CBS area codes.
/// @dev A participant is one storage word, so that the transfer rule reads one slot per party:
///      bits   0..63  area: up to 8 ASCII digits of a CBS code, left-aligned ("0202" for GM0202,
///                    "020201" for WK020201, "02020101" for BU02020101, empty for NL)
///      bits  64..127 accepted purposes, one bit per purpose id
///      bits 128..135 kind (Kind.None means not registered)
///      bit  136      frozen
///      bit  137      system paused: never stored; ParticipantRecords sets it on the sender's word it
///                    answers, so that one comparison checks the sender and the pause together
///      An area lies within another when the other's digits are a prefix of its own.
library Participants {
    enum Kind {
        None,
        Resident,
        Merchant,
        Organisation,
        Municipality
    }

    uint256 private constant _AREA_MASK = type(uint64).max;
    uint256 private constant _PURPOSES_SHIFT = 64;
    uint256 private constant _KIND_SHIFT = 128;
    /// `word >> STATUS_SHIFT` is the word's status (see FROZEN and PAUSED below).
    uint256 internal constant STATUS_SHIFT = _KIND_SHIFT;
    uint256 private constant _FROZEN_BIT = 1 << 136;

    function pack(Kind kind, bytes8 area, uint64 purposes, bool frozen) internal pure returns (uint256 word) {
        word = uint256(uint64(area)) | (uint256(purposes) << _PURPOSES_SHIFT) | (uint256(kind) << _KIND_SHIFT);
        if (frozen) word |= _FROZEN_BIT;
    }

    /// A word's status is `word >> STATUS_SHIFT`: the kind's number (0 when unregistered) plus FROZEN
    /// when frozen, plus PAUSED when the word came from ParticipantRecords with the system paused. So a
    /// status from 1 up to MAX_KIND means "registered, not frozen, not paused".
    uint256 internal constant FROZEN = 1 << 8;
    uint256 internal constant PAUSED = 1 << 9;
    uint256 internal constant MAX_KIND = uint256(type(Kind).max);

    /// @dev True for a status from 1 up to MAX_KIND: registered, not frozen, not paused.
    function isClear(uint256 participantStatus) internal pure returns (bool) {
        // Wraps around for 0, so that 0 fails the same single comparison.
        unchecked {
            return participantStatus - 1 < MAX_KIND;
        }
    }

    function kindOf(uint256 word) internal pure returns (Kind) {
        return Kind(uint8(word >> _KIND_SHIFT));
    }

    function isRegistered(uint256 word) internal pure returns (bool) {
        return uint8(word >> _KIND_SHIFT) != 0;
    }

    function isFrozen(uint256 word) internal pure returns (bool) {
        return word & _FROZEN_BIT != 0;
    }

    function withFrozen(uint256 word, bool frozen) internal pure returns (uint256) {
        return frozen ? word | _FROZEN_BIT : word & ~_FROZEN_BIT;
    }

    function areaOf(uint256 word) internal pure returns (bytes8) {
        return bytes8(uint64(word & _AREA_MASK));
    }

    function purposesOf(uint256 word) internal pure returns (uint64) {
        return uint64(word >> _PURPOSES_SHIFT);
    }

    function acceptsPurpose(uint256 word, uint256 purposeBit) internal pure returns (bool) {
        return (word >> _PURPOSES_SHIFT) & purposeBit != 0;
    }

    /// @notice Number of digits of a well-formed area code (0, 4, 6 or 8), or `type(uint256).max` when
    ///         the code is not one: only ASCII digits, left-aligned, at a CBS level.
    function areaLength(bytes8 area) internal pure returns (uint256 length) {
        while (length < 8 && area[length] != 0) {
            if (area[length] < "0" || area[length] > "9") return type(uint256).max;
            ++length;
        }
        for (uint256 i = length; i < 8; ++i) {
            if (area[i] != 0) return type(uint256).max;
        }
        if (length != 0 && length != 4 && length != 6 && length != 8) return type(uint256).max;
    }

    function isValidArea(bytes8 area) internal pure returns (bool) {
        return areaLength(area) != type(uint256).max;
    }

    /// @dev Mask that keeps the first `length` bytes of an area: the prefix that "within" compares.
    function prefixMask(uint256 length) internal pure returns (uint64) {
        return length == 0 ? 0 : ~uint64(0) << (8 * (8 - length));
    }

    /// @notice True when `area` lies within `container` (NL contains every area).
    function isWithin(bytes8 area, bytes8 container) internal pure returns (bool) {
        uint64 mask = prefixMask(areaLength(container));
        return uint64(area) & mask == uint64(container);
    }
}
