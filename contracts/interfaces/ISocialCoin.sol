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
        InsufficientBalance,
        // Appended (issue 9), so that the numbers above keep their meaning:
        /// The receiver is a resident whose balance would exceed the coin's holding cap.
        HoldingCapExceeded,
        /// The holder may make no burn of this kind with this coin (see CoinBurnNotAllowed).
        BurnNotAllowed,
        /// A refund beyond what is left to refund of the payment (see CoinRefundExceedsPayment).
        RefundExceedsPayment
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
    /// The payee of a payment gave `value` of it back to the payer, against the payment's reference.
    event PaymentRefunded(
        address indexed payee, address indexed payer, uint256 value, bytes32 indexed paymentReference
    );

    error CoinTransferRefused(address from, address to, uint256 value, TransferRefusal reason);
    error CoinUnauthorizedCaller(address caller);
    error CoinZeroAmount();
    error CoinMissingReference();
    error CoinBurnNotAllowed(address holder, BurnReason reason);
    error CoinNotExpired(uint64 expiry);
    /// A refund beyond what `payer` paid `payee` under `paymentReference` and was not refunded yet.
    error CoinRefundExceedsPayment(
        address payee, address payer, bytes32 paymentReference, uint256 refundable, uint256 value
    );
    /// `transferFrom`'s caller (the spender) must be a registered participant that is not frozen.
    error CoinSpenderNotRegistered(address spender);
    error CoinSpenderFrozen(address spender);

    function purposeId() external view returns (uint8);
    function area() external view returns (bytes8);
    function expiry() external view returns (uint64);
    function personToPerson() external view returns (bool);
    function redemptionGrace() external view returns (uint64);
    function holdingCap() external view returns (uint256);

    function canTransfer(address from, address to, uint256 value)
        external
        view
        returns (bool allowed, TransferRefusal reason);

    function canBurn(address holder, BurnReason reason, uint256 value)
        external
        view
        returns (bool allowed, TransferRefusal refusal);

    function mint(address to, uint256 value) external;
    function reclaimExpired(address holder) external returns (uint256 value);
    function recoverBalance(address lost, address replacement) external returns (uint256 value);
}
