// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

/// @title ICoinFactory
/// @notice Creates one coin per (purpose, area). What a coin is for is fixed at creation.
interface ICoinFactory {
    struct CoinSpec {
        string name;
        string symbol;
        uint8 purposeId;
        bytes8 area;
        /// Unix time after which the coin can no longer move; 0 for none.
        uint64 expiry;
        bool personToPerson;
    }

    event CoinCreated(
        address indexed coin,
        uint8 indexed purposeId,
        bytes8 indexed area,
        uint64 expiry,
        bool personToPerson,
        string name,
        string symbol
    );

    error FactoryZeroAddress();
    error FactoryUnknownPurpose(uint8 purposeId);
    error FactoryInvalidCoinArea(bytes8 area);
    error FactoryExpiryInPast(uint64 expiry, uint256 now_);
    error FactoryMissingName();
    error FactoryLiveCoinExists(uint8 purposeId, bytes8 area, address coin);

    function coinFor(uint8 purposeId, bytes8 area) external view returns (address);
}
