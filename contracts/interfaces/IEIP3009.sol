// SPDX-License-Identifier: EUPL-1.2
pragma solidity ^0.8.28;

/// @title IEIP3009
/// @notice Transfers authorised by a signature (EIP-3009), so that residents never need ether.
interface IEIP3009 {
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    error AuthorizationNotYetValid(uint256 validAfter);
    error AuthorizationExpired(uint256 validBefore);
    error AuthorizationAlreadyUsed(address authorizer, bytes32 nonce);
    error AuthorizationInvalidSigner(address signer, address authorizer);
    error AuthorizationCallerNotPayee(address caller, address payee);

    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
}
