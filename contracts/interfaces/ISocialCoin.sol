// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

/// @title ISocialCoin
/// @notice A euro-backed coin (100 units = EUR 1.00) with a fixed purpose, area, expiry and
///         person-to-person setting. Every balance change passes the same transfer rule.
interface ISocialCoin {
    /// Why the transfer rule refuses a balance change; `None` means it allows it.
    enum TransferRefusal {
        None,
        SystemPaused,
        CoinExpired,
        SenderNotRegistered,
        SenderFrozen,
        ReceiverNotRegistered,
        ReceiverFrozen,
        ReceiverOutsideArea,
        PurposeNotAccepted,
        PersonToPersonNotAllowed,
        InsufficientBalance
    }

    /// Why coins are burned. The bit `1 << reason` in a purpose's `redemptions` lets residents burn
    /// coins of that purpose for that reason.
    enum BurnReason {
        DebtSettlement,
        ServiceRedemption,
        MerchantPayout,
        ExpiryReclaim
    }

    event PaymentMade(address indexed from, address indexed to, uint256 value, bytes32 indexed paymentReference);
    event DebtSettled(address indexed resident, uint256 value, bytes32 indexed debtReference);
    event ServiceRedeemed(address indexed resident, uint256 value, bytes32 indexed serviceReference);
    event PayoutRedeemed(address indexed merchant, uint256 value, bytes32 indexed payoutReference);
    event ExpiredReclaimed(address indexed holder, uint256 value);
    event BalanceRecovered(address indexed lost, address indexed replacement, uint256 value);

    error CoinTransferRefused(address from, address to, uint256 value, TransferRefusal reason);
    error CoinUnauthorizedCaller(address caller);
    error CoinZeroAmount();
    error CoinMissingReference();
    error CoinBurnNotAllowed(address holder, BurnReason reason);
    error CoinNotExpired(uint64 expiry);

    function purposeId() external view returns (uint8);
    function area() external view returns (bytes8);
    function expiry() external view returns (uint64);
    function personToPerson() external view returns (bool);

    function canTransfer(address from, address to, uint256 value)
        external
        view
        returns (bool allowed, TransferRefusal reason);

    function mint(address to, uint256 value) external;
    function reclaimExpired(address holder) external returns (uint256 value);
    function recoverBalance(address lost, address replacement) external returns (uint256 value);
}
