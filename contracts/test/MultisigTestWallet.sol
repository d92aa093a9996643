// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MultisigTestWallet
/// @notice For tests only: a minimal contract wallet (an organisation's multisig) that answers ERC-1271.
///         A signature is the owners' 65-byte ECDSA signatures of the hash, concatenated in ascending
///         order of the owners' addresses; it is valid when at least `threshold` owners signed.
contract MultisigTestWallet is IERC1271 {
    mapping(address => bool) public isOwner;
    uint256 public immutable threshold;

    constructor(address[] memory owners, uint256 threshold_) {
        for (uint256 i = 0; i < owners.length; ++i) {
            isOwner[owners[i]] = true;
        }
        threshold = threshold_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != threshold * 65) return 0xffffffff;
        address previous = address(0);
        for (uint256 i = 0; i < threshold; ++i) {
            (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(hash, signature[i * 65:(i + 1) * 65]);
            if (error != ECDSA.RecoverError.NoError || !isOwner[signer] || signer <= previous) return 0xffffffff;
            previous = signer;
        }
        return IERC1271.isValidSignature.selector;
    }
}
