// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {EIP3009} from "./EIP3009.sol";
import {ICoinFactory} from "./interfaces/ICoinFactory.sol";
import {IParticipantRegistry} from "./interfaces/IParticipantRegistry.sol";
import {ISocialCoin} from "./interfaces/ISocialCoin.sol";
import {Participants} from "./libraries/Participants.sol";
import {Records} from "./libraries/Records.sol";
import {ParticipantRecords} from "./ParticipantRecords.sol";

/// @title SocialCoin
/// @notice One coin of a municipality: a purpose, an area, an expiry, a person-to-person setting, a
///         redemption grace for merchants and a holding cap for residents, all fixed at creation. 100 units
///         are EUR 1.00. Created by the CoinFactory only.
/// @dev Transfers and mints go through `_update`, which applies the transfer rule (`_refusal`) once. Burns
///      and refunds judge themselves (`_burnRefusal`, `_refundRefusal`: the same rule, with what differs for
///      them) and then call `ERC20._update`, as do the municipality's corrective actions (recovery, expiry
///      reclaim), which the rule does not govern and which work while paused.
contract SocialCoin is ISocialCoin, ERC20, ERC20Permit, EIP3009 {
    using Participants for uint256;
    using Records for ParticipantRecords;

    bytes32 private constant _PAY_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "PayWithAuthorization(address from,address to,uint256 value,bytes32 paymentReference,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant _BURN_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "BurnWithAuthorization(address from,uint8 reason,uint256 value,bytes32 burnReference,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant _REFUND_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "RefundWithAuthorization(address from,address to,uint256 value,bytes32 paymentReference,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// Tags the payout reference of a merchant balance that expiry reclaim turned into a payout.
    bytes32 private constant _EXPIRY_PAYOUT_TAG = keccak256("Socialcoin expiry payout");

    /// `_refusal`'s answer for an allowed balance change into a resident: allowed, and the holding cap
    /// applies. Beyond every TransferRefusal, so it is never taken for a reason.
    uint256 private constant _ALLOWED_TO_RESIDENT = type(uint256).max;
    uint256 private constant _ALLOWED = uint256(TransferRefusal.None);

    IParticipantRegistry public immutable registry;
    /// The registry's records: read on every balance change.
    ParticipantRecords private immutable _records;
    /// The ActivityIssuer: the only account that mints and reclaims expired coins.
    address public immutable issuer;
    uint8 public immutable purposeId;
    bytes8 public immutable area;
    uint64 public immutable expiry;
    bool public immutable personToPerson;
    /// Seconds after `expiry` during which merchants may still redeem for euros.
    uint64 public immutable redemptionGrace;
    /// The most units a resident may hold; 0 for no cap.
    uint256 public immutable holdingCap;

    uint256 private immutable _purposeBit;
    uint64 private immutable _areaCode;
    uint64 private immutable _areaPrefixMask;
    /// `expiry`, or the end of time for a coin that never expires: one comparison on the hot path.
    uint256 private immutable _expiresAt;
    /// `expiry + redemptionGrace`, or the end of time: until then merchants may redeem for payouts.
    uint256 private immutable _redeemableUntil;
    /// Burn reasons residents may use with this coin, from its purpose (fixed like the purpose).
    uint8 private immutable _residentRedemptions;

    /// What a payer paid a payee under one payment reference, and how much of it the payee refunded.
    struct PaymentRecord {
        uint128 paid;
        uint128 refunded;
    }

    mapping(bytes32 paymentKey => PaymentRecord) private _payments;

    /// @dev Arguments are checked by the CoinFactory, the only deployer.
    constructor(ICoinFactory.CoinSpec memory spec, IParticipantRegistry registry_, address issuer_)
        ERC20(spec.name, spec.symbol)
        ERC20Permit(spec.name)
    {
        registry = registry_;
        _records = registry_.records();
        issuer = issuer_;
        purposeId = spec.purposeId;
        area = spec.area;
        expiry = spec.expiry;
        personToPerson = spec.personToPerson;
        redemptionGrace = spec.redemptionGrace;
        holdingCap = spec.holdingCap;
        _purposeBit = 1 << spec.purposeId;
        _areaCode = uint64(spec.area);
        _expiresAt = spec.expiry == 0 ? type(uint256).max : spec.expiry;
        _redeemableUntil = spec.expiry == 0 ? type(uint256).max : uint256(spec.expiry) + spec.redemptionGrace;
        _areaPrefixMask = Participants.prefixMask(Participants.areaLength(spec.area));
        _residentRedemptions = registry_.purpose(spec.purposeId).redemptions;
    }

    /// @notice Two decimals: 100 units are EUR 1.00.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    // ----------------------------------------------------------------------------------------------
    // The transfer rule
    // ----------------------------------------------------------------------------------------------

    /// @notice Whether `from` may send `value` to `to` now, and if not, why. `from == address(0)` asks
    ///         about a mint; `to == address(0)` about the burn `from` would make (a merchant's payout, a
    ///         resident's debt settlement or service redemption), with the same verdict as `canBurn`.
    ///         Same verdict as the actual balance change, in the same order: the rule, then the balance,
    ///         then the receiver's holding cap.
    function canTransfer(address from, address to, uint256 value)
        external
        view
        returns (bool allowed, TransferRefusal reason)
    {
        if (to == address(0)) return canBurn(from, _burnReasonOf(from), value);
        return _verdict(from, to, value, _refusal(from, to));
    }

    /// @notice Whether `holder` may burn `value` for `reason` now, and if not, why: the same verdict as
    ///         the burn itself (`BurnNotAllowed` where it reverts with CoinBurnNotAllowed), for a non-zero
    ///         amount and a reference (the burn refuses those first: CoinZeroAmount, CoinMissingReference).
    function canBurn(address holder, BurnReason reason, uint256 value)
        public
        view
        returns (bool allowed, TransferRefusal refusal)
    {
        uint256 code = _burnRefusal(holder, reason);
        if (code == _ALLOWED && balanceOf(holder) < value) code = uint256(TransferRefusal.InsufficientBalance);
        return (code == _ALLOWED, TransferRefusal(code));
    }

    /// @notice Whether `payee` may refund `value` to `payer` under `paymentReference` now, and if not,
    ///         why: the same verdict as the refund itself (`RefundExceedsPayment` where it reverts with
    ///         CoinRefundExceedsPayment), for a non-zero amount and reference.
    function canRefund(address payee, address payer, uint256 value, bytes32 paymentReference)
        external
        view
        returns (bool allowed, TransferRefusal reason)
    {
        if (value > _refundable(payee, payer, paymentReference)) {
            return (false, TransferRefusal.RefundExceedsPayment);
        }
        return _verdict(payee, payer, value, _refundRefusal(payee, payer));
    }

    /// @dev The rule itself, in one place. The system is not paused. Sender: registered and not frozen
    ///      (a mint has no sender). The coin has not expired. Receiver: registered and not frozen, and
    ///      then either the municipality; or within the coin's area and accepting its purpose; or a
    ///      resident within the area, when the coin allows person-to-person payments or the coins are
    ///      being minted (answered `_ALLOWED_TO_RESIDENT`: the holding cap applies). Written so that an
    ///      allowed payment to a merchant takes few branches. Burns have their own (`_burnRefusal`).
    function _refusal(address from, address to) private view returns (uint256) {
        (uint256 fromWord, uint256 toWord) = _records.context(from, to);
        // Status and area are read inline (not through Participants' helpers) to save internal jumps.
        uint256 sender = fromWord >> Participants.STATUS_SHIFT;
        if (!Participants.isClear(sender) && (sender >= Participants.PAUSED || from != address(0))) {
            return _senderRefusal(sender);
        }
        // slither-disable-next-line timestamp
        if (block.timestamp >= _expiresAt) return uint256(TransferRefusal.CoinExpired);

        uint256 receiver = toWord >> Participants.STATUS_SHIFT;
        if (!Participants.isClear(receiver)) {
            return uint256(receiver == 0 ? TransferRefusal.ReceiverNotRegistered : TransferRefusal.ReceiverFrozen);
        }
        bool withinArea = uint64(toWord) & _areaPrefixMask == _areaCode;
        // Merchants and organisations (kinds 2 and 3) receive as acceptors; residents and the municipality
        // have rules of their own. One comparison tells them apart (wrapping for the resident's 1).
        unchecked {
            if (receiver - uint256(Participants.Kind.Merchant) > 1) {
                if (receiver == uint256(Participants.Kind.Municipality)) return _ALLOWED;
                if (!withinArea) return uint256(TransferRefusal.ReceiverOutsideArea);
                if (personToPerson || from == address(0) || toWord.acceptsPurpose(_purposeBit)) {
                    return _ALLOWED_TO_RESIDENT;
                }
                return uint256(TransferRefusal.PersonToPersonNotAllowed);
            }
        }
        if (!withinArea) return uint256(TransferRefusal.ReceiverOutsideArea);
        if (toWord.acceptsPurpose(_purposeBit)) return _ALLOWED;
        return uint256(TransferRefusal.PurposeNotAccepted);
    }

    /// @dev Why a sender whose status is not clear may not send: the pause, or its own registration.
    function _senderRefusal(uint256 status) private pure returns (uint256) {
        if (status >= Participants.PAUSED) return uint256(TransferRefusal.SystemPaused);
        return uint256(status == 0 ? TransferRefusal.SenderNotRegistered : TransferRefusal.SenderFrozen);
    }

    /// @dev The views' verdict from a rule's answer, in the order a balance change meets them: the rule,
    ///      the sender's balance (ERC20InsufficientBalance), the receiver's holding cap.
    function _verdict(address from, address to, uint256 value, uint256 code)
        private
        view
        returns (bool, TransferRefusal)
    {
        if (code == _ALLOWED || code == _ALLOWED_TO_RESIDENT) {
            if (from != address(0) && balanceOf(from) < value) {
                code = uint256(TransferRefusal.InsufficientBalance);
            } else if (code == _ALLOWED_TO_RESIDENT) {
                code = _exceedsCap(to, from == to ? 0 : value) ? uint256(TransferRefusal.HoldingCapExceeded) : _ALLOWED;
            }
        }
        return (code == _ALLOWED, TransferRefusal(code));
    }

    /// @dev Whether `resident` would hold more than the cap after receiving `value` more.
    function _exceedsCap(address resident, uint256 value) private view returns (bool) {
        if (holdingCap == 0) return false;
        uint256 balance = balanceOf(resident);
        return balance > holdingCap || value > holdingCap - balance;
    }

    /// @dev Reverts when a resident just received coins and now holds more than the cap. Called after the
    ///      balance write, when the resident's balance slot is warm: a warm read, and only for residents.
    function _requireWithinCap(address from, address to, uint256 value) private view {
        if (holdingCap != 0 && balanceOf(to) > holdingCap) {
            revert CoinTransferRefused(from, to, value, TransferRefusal.HoldingCapExceeded);
        }
    }

    function _update(address from, address to, uint256 value) internal override {
        uint256 reason = _refusal(from, to);
        if (reason != _ALLOWED) {
            if (reason != _ALLOWED_TO_RESIDENT) revert CoinTransferRefused(from, to, value, TransferRefusal(reason));
            super._update(from, to, value);
            _requireWithinCap(from, to, value);
            return;
        }
        super._update(from, to, value);
    }

    /// @notice ERC-20 `transferFrom`, for a spender that is a registered participant and not frozen;
    ///         the transfer itself passes the rule. Signed authorizations (EIP-3009, permit) are sent by
    ///         anyone and do not come through here.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        uint256 status = _records.wordOf(msg.sender) >> Participants.STATUS_SHIFT;
        if (!Participants.isClear(status)) {
            if (status == 0) revert CoinSpenderNotRegistered(msg.sender);
            revert CoinSpenderFrozen(msg.sender);
        }
        return super.transferFrom(from, to, value);
    }

    // ----------------------------------------------------------------------------------------------
    // Payments and refunds
    // ----------------------------------------------------------------------------------------------

    /// @notice Pays `to` and tags the payment with `paymentReference` (a till's sale, an order); a
    ///         non-zero reference makes the payment refundable under it. Emits Transfer and PaymentMade.
    function pay(address to, uint256 value, bytes32 paymentReference) external {
        _pay(msg.sender, to, value, paymentReference);
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
        _pay(from, to, value, paymentReference);
    }

    /// @notice The payee (`msg.sender`) gives back all or part of what `payer` paid it under
    ///         `paymentReference`: never more than was paid under it less what was refunded. Allowed
    ///         whatever the person-to-person setting (it returns the payer's own coins); otherwise the
    ///         transfer rule applies, the receiver's side as for a mint, and the holding cap.
    ///         Emits Transfer and PaymentRefunded.
    function refund(address payer, uint256 value, bytes32 paymentReference) external {
        _refund(msg.sender, payer, value, paymentReference);
    }

    /// @notice `refund`, signed by the payee `from` and sent by anyone (a merchant's key is kept by the
    ///         service, which relays). Emits AuthorizationUsed, Transfer and PaymentRefunded.
    function refundWithAuthorization(
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
            abi.encode(
                _REFUND_WITH_AUTHORIZATION_TYPEHASH, from, to, value, paymentReference, validAfter, validBefore, nonce
            )
        );
        _useAuthorization(from, structHash, validAfter, validBefore, nonce, v, r, s);
        _refund(from, to, value, paymentReference);
    }

    /// @notice What `payer` paid `payee` under `paymentReference` (with `pay` or `payWithAuthorization`)
    ///         and how much of it `payee` refunded.
    function payment(address payer, address payee, bytes32 paymentReference)
        external
        view
        returns (uint256 paid, uint256 refunded)
    {
        PaymentRecord storage record = _payments[_paymentKey(payer, payee, paymentReference)];
        return (record.paid, record.refunded);
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

    /// @dev A payment with a reference is recorded (one storage word per payer, payee and reference), so
    ///      that its payee can refund it; a payment without one is not refundable and costs nothing more.
    function _pay(address from, address to, uint256 value, bytes32 paymentReference) private {
        _transfer(from, to, value);
        if (paymentReference != bytes32(0)) {
            _payments[_paymentKey(from, to, paymentReference)].paid += SafeCast.toUint128(value);
        }
        emit PaymentMade(from, to, value, paymentReference);
    }

    function _refund(address payee, address payer, uint256 value, bytes32 paymentReference) private {
        if (value == 0) revert CoinZeroAmount();
        if (paymentReference == bytes32(0)) revert CoinMissingReference();
        PaymentRecord storage record = _payments[_paymentKey(payer, payee, paymentReference)];
        uint256 refundable = record.paid - record.refunded;
        if (value > refundable) revert CoinRefundExceedsPayment(payee, payer, paymentReference, refundable, value);
        uint256 reason = _refundRefusal(payee, payer);
        if (reason != _ALLOWED && reason != _ALLOWED_TO_RESIDENT) {
            revert CoinTransferRefused(payee, payer, value, TransferRefusal(reason));
        }
        // Cannot overflow: value <= refundable = paid - refunded, and paid fits 128 bits.
        unchecked {
            record.refunded += uint128(value);
        }
        ERC20._update(payee, payer, value);
        if (reason == _ALLOWED_TO_RESIDENT) _requireWithinCap(payee, payer, value);
        emit PaymentRefunded(payee, payer, value, paymentReference);
    }

    /// @dev The transfer rule for a refund: the payee's side as for any sender; the payer's side as for a
    ///      mint, so that the person-to-person setting does not stop coins going back to a resident.
    function _refundRefusal(address payee, address payer) private view returns (uint256) {
        // The payee's word, with the pause flag; the second word (no receiver) is empty.
        // slither-disable-next-line unused-return
        (uint256 payeeWord,) = _records.context(payee, address(0));
        uint256 status = payeeWord >> Participants.STATUS_SHIFT;
        if (!Participants.isClear(status)) return _senderRefusal(status);
        return _refusal(address(0), payer);
    }

    function _refundable(address payee, address payer, bytes32 paymentReference) private view returns (uint256) {
        PaymentRecord storage record = _payments[_paymentKey(payer, payee, paymentReference)];
        return record.paid - record.refunded;
    }

    function _paymentKey(address payer, address payee, bytes32 paymentReference) private pure returns (bytes32) {
        return keccak256(abi.encode(payer, payee, paymentReference));
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
    ///         municipality pays the euros. Also after expiry, until the redemption grace has passed.
    ///         Emits Transfer and PayoutRedeemed.
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
    ///         for frozen holders). Only the issuer, which returns the amount to a budget. A holder with
    ///         nothing is skipped (no event), so a list may name a holder twice. A merchant's balance is
    ///         never reclaimed: during the redemption grace it stays for the merchant to redeem; after it
    ///         (unless the merchant is frozen) it is burned as a payout against `expiryPayoutReference`,
    ///         which the municipality pays in euros, and counts for nothing in the returned amount.
    ///         Emits Transfer and ExpiredReclaimed, or Transfer and PayoutRedeemed for a merchant.
    function reclaimExpired(address holder) external returns (uint256 value) {
        if (msg.sender != issuer) revert CoinUnauthorizedCaller(msg.sender);
        // slither-disable-next-line timestamp
        if (expiry == 0 || block.timestamp < expiry) revert CoinNotExpired(expiry);
        uint256 balance = balanceOf(holder);
        if (balance == 0) return 0;
        uint256 word = _records.wordOf(holder);
        if (word.kindOf() == Participants.Kind.Merchant) {
            // slither-disable-next-line timestamp
            if (block.timestamp < _redeemableUntil || word.isFrozen()) return 0;
            ERC20._update(holder, address(0), balance);
            emit PayoutRedeemed(holder, balance, expiryPayoutReference(holder));
            return 0;
        }
        ERC20._update(holder, address(0), balance);
        emit ExpiredReclaimed(holder, balance);
        return balance;
    }

    /// @notice The payout reference under which expiry reclaim burns `merchant`'s balance of this coin
    ///         after the redemption grace: keccak256(abi.encode(keccak256("Socialcoin expiry payout"),
    ///         coin, merchant)), so that the service can tell it and pays it once.
    function expiryPayoutReference(address merchant) public view returns (bytes32) {
        return keccak256(abi.encode(_EXPIRY_PAYOUT_TAG, address(this), merchant));
    }

    /// @notice Moves a lost wallet's whole balance to its replacement (a corrective action, outside the
    ///         holding cap: the replacement is a new address, so it holds exactly what the lost one held).
    ///         Only the registry, as part of its recovery. Emits Transfer and BalanceRecovered when there is
    ///         a balance.
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
        uint256 refusal = _burnRefusal(holder, reason);
        if (refusal != _ALLOWED) {
            if (refusal == uint256(TransferRefusal.BurnNotAllowed)) revert CoinBurnNotAllowed(holder, reason);
            revert CoinTransferRefused(holder, address(0), value, TransferRefusal(refusal));
        }

        ERC20._update(holder, address(0), value);
        if (reason == BurnReason.DebtSettlement) emit DebtSettled(holder, value, burnReference);
        else if (reason == BurnReason.ServiceRedemption) emit ServiceRedeemed(holder, value, burnReference);
        else emit PayoutRedeemed(holder, value, burnReference);
    }

    /// @dev The rule for a burn, in the order the burn meets it: the holder's kind and the purpose allow
    ///      the reason; the system is not paused and the holder not frozen; the coin has not expired, or,
    ///      for a merchant's payout, the redemption grace has not passed.
    function _burnRefusal(address holder, BurnReason reason) private view returns (uint256) {
        // The holder's word, with the pause flag; the second word (no receiver) is empty.
        // slither-disable-next-line unused-return
        (uint256 word,) = _records.context(holder, address(0));
        Participants.Kind kind = word.kindOf();
        bool payout = reason == BurnReason.MerchantPayout;
        bool allowed = payout
            ? kind == Participants.Kind.Merchant
            : kind == Participants.Kind.Resident && _residentRedemptions & (1 << uint8(reason)) != 0;
        if (!allowed) return uint256(TransferRefusal.BurnNotAllowed);
        uint256 status = word >> Participants.STATUS_SHIFT;
        if (!Participants.isClear(status)) return _senderRefusal(status);
        // slither-disable-next-line timestamp
        if (block.timestamp >= (payout ? _redeemableUntil : _expiresAt)) return uint256(TransferRefusal.CoinExpired);
        return _ALLOWED;
    }

    /// @dev The burn `holder` makes with this coin, for `canTransfer(holder, address(0), value)`: a
    ///      merchant's payout, else a resident's debt settlement when the purpose allows it, else a service
    ///      redemption (refused when the purpose or the kind allows none).
    function _burnReasonOf(address holder) private view returns (BurnReason) {
        if (_records.wordOf(holder).kindOf() == Participants.Kind.Merchant) return BurnReason.MerchantPayout;
        return _residentRedemptions & (1 << uint8(BurnReason.DebtSettlement)) != 0
            ? BurnReason.DebtSettlement
            : BurnReason.ServiceRedemption;
    }

    // Both ERC20 and IERC20Permit declare these; the OpenZeppelin implementations stand.
    function nonces(address owner) public view override returns (uint256) {
        return super.nonces(owner);
    }
}
