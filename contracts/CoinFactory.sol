// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {ICoinFactory} from "./interfaces/ICoinFactory.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {Participants} from "./libraries/Participants.sol";
import {SocialCoin} from "./SocialCoin.sol";

/// @title CoinFactory
/// @notice The municipality creates its coins here: one live coin per (purpose, area), its purpose,
///         area, expiry, person-to-person setting, redemption grace and holding cap fixed for good.
contract CoinFactory is ICoinFactory, AccessControlDefaultAdminRules {
    IParticipantRegistry public immutable registry;
    address public immutable issuer;

    mapping(uint8 purposeId => mapping(bytes8 area => address coin)) public coinFor;

    constructor(IParticipantRegistry registry_, address issuer_, uint48 adminDelay, address admin)
        AccessControlDefaultAdminRules(adminDelay, admin)
    {
        if (address(registry_) == address(0) || issuer_ == address(0)) revert FactoryZeroAddress();
        registry = registry_;
        issuer = issuer_;
    }

    /// @notice Creates a coin. Requires the admin role; the purpose must exist, the area must be a
    ///         gemeente or a wijk, the expiry in the future (or 0), a redemption grace only with an
    ///         expiry, and no unexpired coin may exist for the same purpose and area.
    ///         Emits CoinCreated (and CoinAdded on the registry).
    function createCoin(CoinSpec calldata spec) external onlyRole(DEFAULT_ADMIN_ROLE) returns (address coin) {
        if (bytes(spec.name).length == 0 || bytes(spec.symbol).length == 0) revert FactoryMissingName();
        if (spec.purposeId >= registry.purposeCount()) revert FactoryUnknownPurpose(spec.purposeId);
        uint256 digits = Participants.areaLength(spec.area);
        if (digits != 4 && digits != 6) revert FactoryInvalidCoinArea(spec.area);
        // slither-disable-next-line timestamp
        if (spec.expiry != 0 && spec.expiry <= block.timestamp) revert FactoryExpiryInPast(spec.expiry, block.timestamp);
        if (spec.expiry == 0 && spec.redemptionGrace != 0) revert FactoryGraceWithoutExpiry(spec.redemptionGrace);
        address existing = coinFor[spec.purposeId][spec.area];
        if (existing != address(0) && !_hasExpired(existing)) {
            revert FactoryLiveCoinExists(spec.purposeId, spec.area, existing);
        }

        coin = address(new SocialCoin(spec, registry, issuer));
        coinFor[spec.purposeId][spec.area] = coin;
        emit CoinCreated(
            coin,
            spec.purposeId,
            spec.area,
            spec.expiry,
            spec.personToPerson,
            spec.name,
            spec.symbol,
            spec.redemptionGrace,
            spec.holdingCap
        );
        registry.addCoin(coin);
    }

    function _hasExpired(address coin) private view returns (bool) {
        uint64 expiry = SocialCoin(coin).expiry();
        // slither-disable-next-line timestamp
        return expiry != 0 && block.timestamp >= expiry;
    }
}
