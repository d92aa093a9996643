"""EIP-712 messages that residents and verifiers sign, built for eth-account's typed-data signing.

These mirror the type strings in contracts/EIP3009.sol, contracts/SocialCoin.sol and
contracts/ActivityIssuer.sol; a test checks that the contracts accept what eth-account signs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

_AUTHORIZATION_WINDOW = [
    {"name": "validAfter", "type": "uint256"},
    {"name": "validBefore", "type": "uint256"},
    {"name": "nonce", "type": "bytes32"},
]

TYPES: dict[str, list[dict[str, str]]] = {
    "TransferWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        *_AUTHORIZATION_WINDOW,
    ],
    "ReceiveWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        *_AUTHORIZATION_WINDOW,
    ],
    "PayWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "paymentReference", "type": "bytes32"},
        *_AUTHORIZATION_WINDOW,
    ],
    "RefundWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "paymentReference", "type": "bytes32"},
        *_AUTHORIZATION_WINDOW,
    ],
    "BurnWithAuthorization": [
        {"name": "from", "type": "address"},
        {"name": "reason", "type": "uint8"},
        {"name": "value", "type": "uint256"},
        {"name": "burnReference", "type": "bytes32"},
        *_AUTHORIZATION_WINDOW,
    ],
    "CancelAuthorization": [
        {"name": "authorizer", "type": "address"},
        {"name": "nonce", "type": "bytes32"},
    ],
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Attestation": [
        {"name": "resident", "type": "address"},
        {"name": "coin", "type": "address"},
        {"name": "amount", "type": "uint256"},
        {"name": "activityId", "type": "bytes32"},
        {"name": "claimId", "type": "bytes32"},
        {"name": "evidenceHash", "type": "bytes32"},
        {"name": "deadline", "type": "uint256"},
    ],
}

ISSUER_DOMAIN_NAME = "Socialcoin ActivityIssuer"


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain: a coin's is (its name, "1"); the issuer's is (ISSUER_DOMAIN_NAME, "1")."""

    name: str
    chain_id: int
    verifying_contract: str
    version: str = "1"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True)
class Signature:
    v: int
    r: bytes
    s: bytes

    @property
    def packed(self) -> bytes:
        """r ‖ s ‖ v, the 65-byte form `bytes signature` parameters take."""
        return self.r + self.s + bytes([self.v])


def typed_message(domain: Domain, primary_type: str, message: dict[str, Any]) -> dict[str, Any]:
    """The full EIP-712 structure, as wallets (eth_signTypedData_v4) and eth-account take it."""
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, primary_type: TYPES[primary_type]},
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": message,
    }


def sign(private_key: bytes | str, domain: Domain, primary_type: str, message: dict[str, Any]) -> Signature:
    """Signs a typed message with eth-account."""
    signable = encode_typed_data(full_message=typed_message(domain, primary_type, message))
    signed = Account.sign_message(signable, private_key)
    return Signature(v=signed.v, r=signed.r.to_bytes(32, "big"), s=signed.s.to_bytes(32, "big"))
