"""Custodial wallets: a key the service creates for a resident, encrypted at rest under the PIN.

The encryption key is derived with scrypt from the PIN, a random salt and the service's secret, so
that neither a stolen database nor a stolen secret alone opens a wallet.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import InvalidInput, NotAllowed

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SALT = 16
_NONCE = 12


def check_pin(pin: str) -> None:
    if not (pin.isdigit() and 5 <= len(pin) <= 8):
        raise InvalidInput(
            "pin_invalid", "Een pincode bestaat uit 5 tot 8 cijfers.", "A PIN has 5 to 8 digits.", field="pin"
        )


def _key(pin: str, salt: bytes, secret: str) -> bytes:
    return hashlib.scrypt(pin.encode() + b"|" + secret.encode(), salt=salt, **_SCRYPT)


def seal_key(private_key: bytes, address: str, pin: str, secret: str) -> bytes:
    """Encrypts a wallet key under a PIN: the form `open_wallet` reads."""
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    return salt + nonce + AESGCM(_key(pin, salt, secret)).encrypt(nonce, bytes(private_key), address.encode())


def create_wallet(pin: str, secret: str) -> tuple[str, bytes]:
    """A new key: (address, ciphertext to store)."""
    check_pin(pin)
    account = Account.create()
    return account.address, seal_key(account.key, account.address, pin, secret)


def open_wallet(address: str, ciphertext: bytes, pin: str, secret: str) -> LocalAccount:
    salt, nonce, body = ciphertext[:_SALT], ciphertext[_SALT : _SALT + _NONCE], ciphertext[_SALT + _NONCE :]
    try:
        key = AESGCM(_key(pin, salt, secret)).decrypt(nonce, body, address.encode())
    except InvalidTag:
        raise NotAllowed(
            "pin_wrong", "De pincode klopt niet.", "The PIN is not correct.", field="pin"
        ) from None
    return Account.from_key(key)


def hash_pin(pin: str, secret: str) -> str:
    salt = os.urandom(_SALT)
    return salt.hex() + ":" + _key(pin, salt, secret).hex()


def pin_matches(pin: str, stored: str, secret: str) -> bool:
    salt, digest = stored.split(":")
    return hmac.compare_digest(_key(pin, bytes.fromhex(salt), secret).hex(), digest)
