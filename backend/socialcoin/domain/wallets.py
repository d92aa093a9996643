"""Custodial wallets: a key the service creates for a resident, encrypted at rest under the PIN.

The encryption key is derived with scrypt from the PIN, a random salt and the service's secret, so
that neither a stolen database nor a stolen secret alone opens a wallet.

scrypt is slow on purpose (tens of ms of CPU), so the CPU it takes is bounded per process
(`KEY_DERIVATIONS`): KDF_SLOTS derivations at a time, in threads of lower priority than the ones that
answer requests (reads stay fast under a flood of logins), and at most KDF_QUEUE more waiting; beyond
that a request is refused at once with 503 service_busy and Retry-After, before any PIN attempt is counted.

A wallet created in a batch admission has no PIN yet (nobody puts PINs in a spreadsheet, and scrypt for
each of 10,000 rows would take minutes): its key is sealed under a key derived (HKDF) from the service's
secret until the resident chooses a PIN with the activation code from their letter, and is then sealed
under the PIN like any other. The activation codes themselves: domain/activation_codes.py.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from .errors import DomainError, InvalidInput

log = logging.getLogger(__name__)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SALT = 16
_NONCE = 12
_AWAITING_ACTIVATION = b"socialcoin wallet awaiting activation"


def check_pin(pin: str) -> None:
    if not (pin.isdigit() and 5 <= len(pin) <= 8):
        raise InvalidInput(
            "pin_invalid", "Een pincode bestaat uit 5 tot 8 cijfers.", "A PIN has 5 to 8 digits.", field="pin"
        )


# Per process: derivations at a time, and how many more may wait for one. A request waiting holds one of
# the API's database slots (api/deps.py: 16), so the queue stays well below them and reads keep theirs; a
# burst of 8 attempts on one account (a few taps, a retrying client) still waits its turn.
KDF_SLOTS = 1
KDF_QUEUE = 8
KDF_RETRY_AFTER_SECONDS = 1
DEFAULT_KDF_SECONDS = 0.1  # until one was measured
# Key derivations run at this nice value (Linux: per thread): requests that only read get the CPU first.
KDF_NICENESS = 10


class KeyDerivationsBusy(DomainError):
    status = 503


def _lower_priority() -> None:
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), KDF_NICENESS)
        except OSError:  # not allowed here: the bound on slots still holds
            log.warning("key derivations run at normal priority")


class KeyDerivations:
    """scrypt, bounded: `slots` at a time in threads of their own (lower priority), `queue` more waiting.

    A caller takes a *ticket* first (`ticket()`): that is where a full queue refuses it, so a PIN attempt
    takes its ticket before it is counted. Derivations inside a ticket use it (one ticket per request,
    however many derivations it runs). `typical_seconds` is what a derivation took lately: the time a
    decoy waits for, so that a refusal without a derivation takes as long as one with."""

    def __init__(self, slots: int = KDF_SLOTS, queue: int = KDF_QUEUE):
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix="scrypt", initializer=_lower_priority)
        self._room = threading.BoundedSemaphore(slots + queue)
        self._held = threading.local()
        self._lock = threading.Lock()
        self._typical: float | None = None
        self.derived = 0  # derivations run by this process (tests and benchmarks read it)
        self.running = 0
        self.most_running = 0  # the most that ever ran at once

    @contextmanager
    def ticket(self) -> Iterator[None]:
        if getattr(self._held, "ticket", False):
            yield  # this thread holds one already
            return
        if not self._room.acquire(blocking=False):
            raise KeyDerivationsBusy(
                "service_busy",
                "Het is nu erg druk. Probeer het over een paar seconden opnieuw; er is niets geteld.",
                "The service is very busy right now. Try again in a few seconds; nothing was counted.",
                retry_after_seconds=KDF_RETRY_AFTER_SECONDS,
            )
        self._held.ticket = True
        try:
            yield
        finally:
            self._held.ticket = False
            self._room.release()

    def refuse_when_full(self) -> None:
        """Raises service_busy when no ticket is to be had now: a request that may need no derivation (a
        sign-in for a case that does not exist) is refused just as one that needs it would be."""
        with self.ticket():
            pass

    def _run(self, password: bytes, salt: bytes) -> bytes:
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        started = time.perf_counter()
        try:
            return hashlib.scrypt(password, salt=salt, **_SCRYPT)
        finally:
            took = time.perf_counter() - started
            with self._lock:
                self.running -= 1
                self.derived += 1
                self._typical = took if self._typical is None else 0.8 * self._typical + 0.2 * took

    def derive(self, password: bytes, salt: bytes) -> bytes:
        with self.ticket():
            return self._pool.submit(self._run, password, salt).result()

    def typical_seconds(self) -> float:
        """How long a derivation takes here lately (the first call measures one)."""
        if self._typical is None:
            try:
                self.derive(b"decoy|", os.urandom(_SALT))
            except KeyDerivationsBusy:
                return DEFAULT_KDF_SECONDS  # busy: the next call measures
        assert self._typical is not None
        return self._typical


KEY_DERIVATIONS = KeyDerivations()


def _key(pin: str, salt: bytes, secret: str) -> bytes:
    return KEY_DERIVATIONS.derive(pin.encode() + b"|" + secret.encode(), salt)


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
