// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

import {EIP3009} from "./EIP3009.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISocialCoin} from "./interfaces/ISocialCoin.sol";
import {Participants} from "./libraries/Participants.sol";
import {Records} from "./libraries/Records.sol";
import {ParticipantRecords} from "./ParticipantRecords.sol";

/// @title SocialCoin
/// @notice One coin of a municipality: a purpose, an area, an expiry and a person-to-person setting,
///         all fixed at creation. 100 units are EUR 1.00. Created by the CoinFactory only.
/// @dev Every balance change goes through `_update`, which applies the transfer rule (`_refusal`) once.
///      The municipality's corrective actions (recovery, expiry reclaim) call `ERC20._update` directly:
///      they are the only balance changes the rule does not govern, and they work while paused.
contract SocialCoin is ISocialCoin, ERC20, ERC20Permit, EIP3009 {
    using Participants for uint256;
    using Records for ParticipantRecords;

    bytes32 private constant _PAY_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "PayWithAuthorization(address from,address to,uint256 value,bytes32 paymentReference,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant _BURN_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "BurnWithAuthorization(address from,uint8 reason,uint256 value,bytes32 burnReference,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );

    IParticipantRegistry public immutable registry;
    /// The registry's records: read on every balance change.
    ParticipantRecords private immutable _records;
    /// The ActivityIssuer: the only account that mints and reclaims expired coins.
    address public immutable issuer;
    uint8 public immutable purposeId;
    bytes8 public immutable area;
    uint64 public immutable expiry;
    bool public immutable personToPerson;

    uint256 private immutable _purposeBit;
    uint64 private immutable _areaCode;
    uint64 private immutable _areaPrefixMask;
    /// `expiry`, or the end of time for a coin that never expires: one comparison on the hot path.
    uint256 private immutable _expiresAt;
    /// Burn reasons residents may use with this coin, from its purpose (fixed like the purpose).
    uint8 private immutable _residentRedemptions;

    /// @dev Arguments are checked by the CoinFactory, the only deployer.
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 purposeId_,
        bytes8 area_,
        uint64 expiry_,
        bool personToPerson_,
        IParticipantRegistry registry_,
        address issuer_
    ) ERC20(name_, symbol_) ERC20Permit(name_) {
        registry = registry_;
        _records = registry_.records();
        issuer = issuer_;
        purposeId = purposeId_;
        area = area_;
        expiry = expiry_;
        personToPerson = personToPerson_;
        _purposeBit = 1 << purposeId_;
        _areaCode = uint64(area_);
        _expiresAt = expiry_ == 0 ? type(uint256).max : expiry_;
        _areaPrefixMask = Participants.prefixMask(Participants.areaLength(area_));
        _residentRedemptions = registry_.purpose(purposeId_).redemptions;
    }

    /// @notice Two decimals: 100 units are EUR 1.00.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    // ----------------------------------------------------------------------------------------------
    // The transfer rule
    // ----------------------------------------------------------------------------------------------

    /// @notice Whether `from` may send `value` to `to` now, and if not, why. `from == address(0)` asks
    ///         about a mint, `to == address(0)` about a burn. Same verdict as an actual transfer.
    function canTransfer(address from, address to, uint256 value)
        external
        view
        returns (bool allowed, TransferRefusal reason)
    {
        reason = _refusal(from, to);
        if (reason == TransferRefusal.None && from != address(0) && balanceOf(from) < value) {
            reason = TransferRefusal.InsufficientBalance;
        }
        allowed = reason == TransferRefusal.None;
    }

    /// @dev The rule itself, in one place. The system is not paused. Sender: registered and not frozen
    ///      (a mint has no sender). The coin has not expired. Receiver (a burn has none): registered
    ///      and not frozen, and then either the municipality; or within the coin's area and accepting
    ///      its purpose; or a resident within the area, when the coin allows person-to-person payments
    ///      or the coins are being minted. Written so that an allowed payment takes few branches.
    function _refusal(address from, address to) private view returns (TransferRefusal) {
        (uint256 fromWord, uint256 toWord) = _records.context(from, to);
        // Status and area are read inline (not through Participants' helpers) to save internal jumps.
        uint256 sender = fromWord >> Participants.STATUS_SHIFT;
        if (!Participants.isClear(sender)) {
            if (sender >= Participants.PAUSED) return TransferRefusal.SystemPaused;
            if (from != address(0)) {
                return sender == 0 ? TransferRefusal.SenderNotRegistered : TransferRefusal.SenderFrozen;
            }
        }
        // slither-disable-next-line timestamp
        if (block.timestamp >= _expiresAt) return TransferRefusal.CoinExpired;
        if (to == address(0)) return TransferRefusal.None;

        uint256 receiver = toWord >> Participants.STATUS_SHIFT;
        if (!Participants.isClear(receiver)) {
            return receiver == 0 ? TransferRefusal.ReceiverNotRegistered : TransferRefusal.ReceiverFrozen;
        }
        if (receiver == uint256(Participants.Kind.Municipality)) return TransferRefusal.None;
        if (uint64(toWord) & _areaPrefixMask != _areaCode) return TransferRefusal.ReceiverOutsideArea;
        if (toWord.acceptsPurpose(_purposeBit)) return TransferRefusal.None;
        if (receiver != uint256(Participants.Kind.Resident)) return TransferRefusal.PurposeNotAccepted;
        if (personToPerson || from == address(0)) return TransferRefusal.None;
        return TransferRefusal.PersonToPersonNotAllowed;
    }

    function _update(address from, address to, uint256 value) internal override {
        TransferRefusal reason = _refusal(from, to);
        if (reason != TransferRefusal.None) revert CoinTransferRefused(from, to, value, reason);
        super._update(from, to, value);
    }

    // ----------------------------------------------------------------------------------------------
    // Payments
    // ----------------------------------------------------------------------------------------------

    /// @notice Pays `to` and tags the payment with `paymentReference` (a till's sale, an order).
    ///         Emits Transfer and PaymentMade.
    function pay(address to, uint256 value, bytes32 paymentReference) external {
        _transfer(msg.sender, to, value);
        emit PaymentMade(msg.sender, to, value, paymentReference);
    }

    /// @notice `pay`, signed by `from` and sent by anyone (the backend relays it; `from` needs no ether).
    ///         Emits AuthorizationUsed, Transfer and PaymentMade.
    function payWithAuthorization(
        address from,
        address to,
        uint256 value,
        bytes32 paymentReference,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_PAY_WITH_AUTHORIZATION_TYPEHASH, from, to, value, paymentReference, validAfter, validBefore, nonce)
        );
        _useAuthorization(from, structHash, validAfter, validBefore, nonce, v, r, s);
        _transfer(from, to, value);
        emit PaymentMade(from, to, value, paymentReference);
    }

    /// @notice EIP-3009: a transfer signed by `from`, sent by anyone. Emits AuthorizationUsed, Transfer.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, v, r, s);
    }

    /// @notice EIP-3009: a transfer signed by `from` that only the payee `to` may send, so that nobody
    ///         can front-run it. Emits AuthorizationUsed, Transfer.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _receiveWithAuthorization(from, to, value, validAfter, validBefore, nonce, v, r, s);
    }

    /// @notice EIP-3009: voids an unused authorization. Emits AuthorizationCanceled.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _cancelAuthorization(authorizer, nonce, v, r, s);
    }

    // ----------------------------------------------------------------------------------------------
    // Minting and burning
    // ----------------------------------------------------------------------------------------------

    /// @notice Mints `value` to `to`. Only the issuer, which checks attestations and budgets. Emits Transfer.
    function mint(address to, uint256 value) external {
        if (msg.sender != issuer) revert CoinUnauthorizedCaller(msg.sender);
        _mint(to, value);
    }

    /// @notice A resident pays off part of a debt to the municipality: burns `value` against the debt
    ///         case `debtReference`. Only coins whose purpose allows it. Emits Transfer and DebtSettled.
    function settleDebt(uint256 value, bytes32 debtReference) external {
        _burnFor(msg.sender, BurnReason.DebtSettlement, value, debtReference);
    }

    /// @notice A resident pays a municipal service (leges, a sport pass, an event): burns `value`
    ///         against the order `serviceReference`. Emits Transfer and ServiceRedeemed.
    function redeemService(uint256 value, bytes32 serviceReference) external {
        _burnFor(msg.sender, BurnReason.ServiceRedemption, value, serviceReference);
    }

    /// @notice A merchant redeems coins for euros: burns `value` against `payoutReference`; the
    ///         municipality pays the euros. Emits Transfer and PayoutRedeemed.
    function redeemPayout(uint256 value, bytes32 payoutReference) external {
        _burnFor(msg.sender, BurnReason.MerchantPayout, value, payoutReference);
    }

    /// @notice Any of the three burns above, signed by the holder and sent by anyone.
    ///         Emits AuthorizationUsed, Transfer and the reason's own event.
    function burnWithAuthorization(
        address from,
        BurnReason reason,
        uint256 value,
        bytes32 burnReference,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(_BURN_WITH_AUTHORIZATION_TYPEHASH, from, reason, value, burnReference, validAfter, validBefore, nonce)
        );
        _useAuthorization(from, structHash, validAfter, validBefore, nonce, v, r, s);
        _burnFor(from, reason, value, burnReference);
    }

    /// @notice After expiry, burns what `holder` has left (a corrective action: works while paused and
    ///         for frozen holders). Only the issuer, which returns the amount to a budget.
    ///         Emits Transfer and ExpiredReclaimed.
    function reclaimExpired(address holder) external returns (uint256 value) {
        if (msg.sender != issuer) revert CoinUnauthorizedCaller(msg.sender);
        // slither-disable-next-line timestamp
        if (expiry == 0 || block.timestamp < expiry) revert CoinNotExpired(expiry);
        value = balanceOf(holder);
        ERC20._update(holder, address(0), value);
        emit ExpiredReclaimed(holder, value);
    }

    /// @notice Moves a lost wallet's whole balance to its replacement (a corrective action). Only the
    ///         registry, as part of its recovery. Emits Transfer and BalanceRecovered when there is a balance.
    function recoverBalance(address lost, address replacement) external returns (uint256 value) {
        if (msg.sender != address(registry)) revert CoinUnauthorizedCaller(msg.sender);
        value = balanceOf(lost);
        if (value == 0) return 0;
        ERC20._update(lost, replacement, value);
        emit BalanceRecovered(lost, replacement, value);
    }

    /// @dev Residents burn for debts and services when the purpose allows it; merchants for payouts.
    function _burnFor(address holder, BurnReason reason, uint256 value, bytes32 burnReference) private {
        if (value == 0) revert CoinZeroAmount();
        if (burnReference == bytes32(0)) revert CoinMissingReference();
        Participants.Kind kind = _records.wordOf(holder).kindOf();
        bool allowed = reason == BurnReason.MerchantPayout
            ? kind == Participants.Kind.Merchant
            : kind == Participants.Kind.Resident && _residentRedemptions & (1 << uint8(reason)) != 0;
        if (!allowed) revert CoinBurnNotAllowed(holder, reason);

        _burn(holder, value);
        if (reason == BurnReason.DebtSettlement) emit DebtSettled(holder, value, burnReference);
        else if (reason == BurnReason.ServiceRedemption) emit ServiceRedeemed(holder, value, burnReference);
        else emit PayoutRedeemed(holder, value, burnReference);
    }

    // Both ERC20 and IERC20Permit declare these; the OpenZeppelin implementations stand.
    function nonces(address owner) public view override returns (uint256) {
        return super.nonces(owner);
    }
}
