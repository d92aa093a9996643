// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IEIP3009} from "./interfaces/IEIP3009.sol";

/// @title EIP3009
/// @notice Internal workers for signed transfers (EIP-3009); the coin adds the public functions.
/// @dev Used nonces are kept as bits (256 per storage word, like Uniswap's Permit2): nonce n marks bit
///      `n & 0xff` of word `n >> 8`. Any bytes32 nonce works; a wallet that counts its nonces up pays
///      for a fresh storage word once per 256 payments instead of on every payment.
abstract contract EIP3009 is ERC20, EIP712, IEIP3009 {
    bytes32 private constant _TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant _RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    bytes32 private constant _CANCEL_AUTHORIZATION_TYPEHASH =
        keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");

    mapping(address authorizer => mapping(uint256 wordIndex => uint256 bits)) private _usedNonces;

    /// @notice Whether `authorizer` has used or cancelled `nonce`.
    function authorizationState(address authorizer, bytes32 nonce) public view returns (bool) {
        (uint256 wordIndex, uint256 bit) = _nonceBit(nonce);
        return _usedNonces[authorizer][wordIndex] & bit != 0;
    }

    function _transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) internal {
        bytes32 structHash =
            keccak256(abi.encode(_TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce));
        _useAuthorization(from, structHash, validAfter, validBefore, nonce, v, r, s);
        _transfer(from, to, value);
    }

    function _receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) internal {
        if (to != msg.sender) revert AuthorizationCallerNotPayee(msg.sender, to);
        bytes32 structHash =
            keccak256(abi.encode(_RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce));
        _useAuthorization(from, structHash, validAfter, validBefore, nonce, v, r, s);
        _transfer(from, to, value);
    }

    function _cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) internal {
        bytes32 structHash = keccak256(abi.encode(_CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce));
        _requireSigner(authorizer, structHash, v, r, s);
        _markNonceUsed(authorizer, nonce);
        emit AuthorizationCanceled(authorizer, nonce);
    }

    /// @dev Checks the validity window and the signature over `structHash`, then spends the nonce.
    ///      Other signed actions of the coin (payments with a reference, burns) use it too.
    function _useAuthorization(
        address authorizer,
        bytes32 structHash,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) internal {
        // slither-disable-next-line timestamp
        if (block.timestamp <= validAfter) revert AuthorizationNotYetValid(validAfter);
        // slither-disable-next-line timestamp
        if (block.timestamp >= validBefore) revert AuthorizationExpired(validBefore);
        _requireSigner(authorizer, structHash, v, r, s);
        _markNonceUsed(authorizer, nonce);
        emit AuthorizationUsed(authorizer, nonce);
    }

    function _requireSigner(address authorizer, bytes32 structHash, uint8 v, bytes32 r, bytes32 s) private view {
        address signer = ECDSA.recover(_hashTypedDataV4(structHash), v, r, s);
        if (signer != authorizer) revert AuthorizationInvalidSigner(signer, authorizer);
    }

    function _markNonceUsed(address authorizer, bytes32 nonce) private {
        (uint256 wordIndex, uint256 bit) = _nonceBit(nonce);
        uint256 bits = _usedNonces[authorizer][wordIndex];
        if (bits & bit != 0) revert AuthorizationAlreadyUsed(authorizer, nonce);
        _usedNonces[authorizer][wordIndex] = bits | bit;
    }

    function _nonceBit(bytes32 nonce) private pure returns (uint256 wordIndex, uint256 bit) {
        wordIndex = uint256(nonce) >> 8;
        bit = 1 << (uint256(nonce) & 0xff);
    }
}
