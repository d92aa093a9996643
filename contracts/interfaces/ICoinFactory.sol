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
        /// Seconds after expiry during which merchants may still redeem the coin for euros; 0 for none.
        /// Only with an expiry.
        uint64 redemptionGrace;
        /// The most units a resident may hold of the coin; 0 for no cap.
        uint256 holdingCap;
    }

    event CoinCreated(
        address indexed coin,
        uint8 indexed purposeId,
        bytes8 indexed area,
        uint64 expiry,
        bool personToPerson,
        string name,
        string symbol,
        uint64 redemptionGrace,
        uint256 holdingCap
    );

    error FactoryZeroAddress();
    error FactoryUnknownPurpose(uint8 purposeId);
    error FactoryInvalidCoinArea(bytes8 area);
    error FactoryExpiryInPast(uint64 expiry, uint256 now_);
    error FactoryMissingName();
    error FactoryLiveCoinExists(uint8 purposeId, bytes8 area, address coin);
    error FactoryGraceWithoutExpiry(uint64 redemptionGrace);

    function coinFor(uint8 purposeId, bytes8 area) external view returns (address);
}
