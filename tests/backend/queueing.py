"""Writes tests put into the outbox directly (administration: nothing in the domain finishes them)."""

from __future__ import annotations

from eth_utils import keccak

from socialcoin.chain.contracts import Contract
from socialcoin.chain.outbox import Outbox, Queued
from socialcoin.chain.payloads import AttestedMint, ContractCall, Payload
from socialcoin.db.enums import Origin


def admin_mint(coin: str, to: str, amount: int, reason: str = "test") -> ContractCall:
    return ContractCall(Contract.ISSUER, "adminMint", [coin, to, amount, "0x" + keccak(text=reason).hex()])


def queue(session, key: str, payload: Payload, signer: str = "minter"):
    return Outbox.enqueue(session, key, payload, signer=signer, origin=Origin.ADMINISTRATION)


def attested(payload: dict) -> AttestedMint:
    """An attested mint from {"attestation": ..., "signature": ...}."""
    return AttestedMint(payload["attestation"], payload["signature"])


def queue_attested(session, claims: list[tuple[str, dict]]) -> int:
    return Outbox.enqueue_many(
        session, [Queued(key, attested(payload), "minter", Origin.ADMINISTRATION) for key, payload in claims]
    )
