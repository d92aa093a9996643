"""Custodial wallets: a key the service creates for a resident, encrypted at rest under the PIN.

The encryption key is derived with scrypt from the PIN, a random salt and the service's secret, so
that neither a stolen database nor a stolen secret alone opens a wallet.

A wallet created in a batch admission has no PIN yet (nobody puts PINs in a spreadsheet, and scrypt for
each of 10,000 rows would take minutes): its key is sealed under a key derived (HKDF) from the service's
secret until the resident chooses a PIN with the activation code from their letter, and is then sealed
under the PIN like any other. The activation codes themselves: domain/activation_codes.py.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from .errors import InvalidInput

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SALT = 16
_NONCE = 12
_AWAITING_ACTIVATION = b"socialcoin wallet awaiting activation"


def check_pin(pin: str) -> None:
    if not (pin.isdigit() and 5 <= len(pin) <= 8):
        raise InvalidInput(
            "pin_invalid", "Een pincode bestaat uit 5 tot 8 cijfers.", "A PIN has 5 to 8 digits.", field="pin"
        )


def _key(pin: str, salt: bytes, secret: str) -> bytes:
    return hashlib.scrypt(pin.encode() + b"|" + secret.encode(), salt=salt, **_SCRYPT)


def _service_key(salt: bytes, secret: str) -> bytes:
    """The key a wallet awaiting activation is sealed under: fast, from the service's secret only."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_AWAITING_ACTIVATION).derive(
        secret.encode()
    )


def _new_key() -> tuple[bytes, str]:
    """A fresh secp256k1 key and its address (through OpenSSL: several times faster than eth-keys' own
    Python arithmetic, which counts when a batch creates 10,000)."""
    key = ec.generate_private_key(ec.SECP256K1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return key.private_numbers().private_value.to_bytes(32, "big"), to_checksum_address(
        keccak(public[1:])[-20:]
    )


def _seal(encryption_key: bytes, salt: bytes, private_key: bytes, address: str) -> bytes:
    nonce = os.urandom(_NONCE)
    return salt + nonce + AESGCM(encryption_key).encrypt(nonce, bytes(private_key), address.encode())


def _open(encryption_key_of: Callable[[bytes], bytes], address: str, ciphertext: bytes) -> bytes:
    """The private key; InvalidTag when `encryption_key_of(salt)` is not the key it was sealed under."""
    salt, nonce, body = ciphertext[:_SALT], ciphertext[_SALT : _SALT + _NONCE], ciphertext[_SALT + _NONCE :]
    return AESGCM(encryption_key_of(salt)).decrypt(nonce, body, address.encode())


def seal_key(private_key: bytes, address: str, pin: str, secret: str) -> bytes:
    """Encrypts a wallet key under a PIN: the form `open_wallet` reads."""
    salt = os.urandom(_SALT)
    return _seal(_key(pin, salt, secret), salt, private_key, address)


def create_wallet(pin: str, secret: str) -> tuple[str, bytes]:
    """A new key: (address, ciphertext to store)."""
    check_pin(pin)
    private_key, address = _new_key()
    return address, seal_key(private_key, address, pin, secret)


def open_wallet(address: str, ciphertext: bytes, pin: str, secret: str) -> LocalAccount | None:
    """The wallet's key, opened with the PIN (one key derivation: the cipher's tag tells a wrong PIN);
    None when the PIN is wrong."""
    try:
        key = _open(lambda salt: _key(pin, salt, secret), address, ciphertext)
    except InvalidTag:
        return None
    return Account.from_key(key)


def create_wallet_awaiting_activation(secret: str) -> tuple[str, bytes]:
    """A new key sealed under the service's key: (address, ciphertext), to be re-sealed by `activate`."""
    private_key, address = _new_key()
    salt = os.urandom(_SALT)
    return address, _seal(_service_key(salt, secret), salt, private_key, address)


def activate(address: str, ciphertext: bytes, pin: str, secret: str) -> bytes:
    """A wallet awaiting activation, re-sealed under the resident's PIN (the form `open_wallet` reads)."""
    private_key = _open(lambda salt: _service_key(salt, secret), address, ciphertext)
    return seal_key(private_key, address, pin, secret)


def hash_pin(pin: str, secret: str) -> str:
    salt = os.urandom(_SALT)
    return salt.hex() + ":" + _key(pin, salt, secret).hex()


def pin_matches(pin: str, stored: str, secret: str) -> bool:
    salt, digest = stored.split(":")
    return hmac.compare_digest(_key(pin, bytes.fromhex(salt), secret).hex(), digest)
