"""Constants and helpers shared by the contract tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
from contextlib import contextmanager

from brownie import accounts, chain, web3
from brownie.exceptions import VirtualMachineError
from eth_utils import keccak

from socialcoin.chain.typed_data import ISSUER_DOMAIN_NAME, Domain, sign

ADMIN_DELAY = 3600
RECOVERY_DELAY = 2 * 24 * 3600
GEMEENTE = "GM0202"  # Arnhem
WIJK = "WK020201"  # Geitenkamp
OTHER_WIJK = "WK020202"
BUURT = "BU02020101"
OTHER_GEMEENTE = "GM0363"
ONE_EURO = 100
FAR_FUTURE = 2**40


def local_account(label: str):
    """A brownie account with a private key derived from `label` (test keys only)."""
    return accounts.add(keccak(text=f"socialcoin test key {label}").hex())


def ref(text: str) -> bytes:
    """A bytes32 reference or id from a readable label."""
    return keccak(text=text)


def coin_domain(coin) -> Domain:
    return Domain(name=coin.name(), chain_id=web3.eth.chain_id, verifying_contract=coin.address)


def issuer_domain(issuer) -> Domain:
    return Domain(name=ISSUER_DOMAIN_NAME, chain_id=web3.eth.chain_id, verifying_contract=issuer.address)


def window(seconds: int = 3600) -> tuple[int, int]:
    """(validAfter, validBefore) around the chain's clock."""
    now = chain.time()
    return 0, now + seconds


def random_nonce() -> bytes:
    return os.urandom(32)


def sign_with(account, domain: Domain, primary_type: str, message: dict):
    return sign(account.private_key, domain, primary_type, message)


def _format_argument(value) -> str:
    """An argument as brownie prints it in a decoded custom error."""
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        value = bytes.fromhex(value[2:])
    if isinstance(value, bytes | bytearray):
        # brownie prints decoded bytesN arguments as Python bytes literals.
        return repr(bytes(value))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    return str(value)


@contextmanager
def reverts_with(error: str, *args):
    """Expects the transaction or call inside to revert with custom error `error`, and when `args`
    are given, with exactly these arguments (accounts, addresses, ints, enums or bytes)."""
    try:
        yield
    except VirtualMachineError as exc:
        message = exc.revert_msg or ""
        name = message.split(":", 1)[0].strip()
        assert name == error, f"reverted with {message!r}, expected {error}"
        if args:
            expected = ", ".join(_format_argument(arg) for arg in args)
            actual = message.split(":", 1)[1].strip() if ":" in message else ""
            assert actual == expected, f"{error} arguments {actual!r}, expected {expected!r}"
    else:
        raise AssertionError(f"expected a revert with {error}, but nothing reverted")


def emitters(tx, signature: str) -> list[str]:
    """The addresses that emitted event `signature` in `tx` (brownie leaves the event's address
    unset for events of contracts the transaction did not call)."""
    topic = keccak(text=signature)
    return [log.address for log in tx.logs if bytes(log.topics[0]) == topic]


def recover_wallet(registry, compliance, lost, replacement, case: str = "recovery case"):
    """A whole recovery: freezes the lost wallet (when it is not frozen), requests, waits the delay and
    executes; returns the execution's transaction."""
    if not registry.participant(lost)[3]:
        registry.freeze([lost], {"from": compliance})
    registry.requestRecovery(lost, replacement, ref(case), {"from": compliance})
    chain.sleep(registry.recoveryDelay() + 1)
    return registry.executeRecovery(lost, {"from": compliance})
