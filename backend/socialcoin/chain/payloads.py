"""What an outbox item asks the chain to do, as typed payloads, and how each kind becomes a contract call.

An item stores its payload as JSON (`to_json`); the outbox reads it back with `payload_of`. Batchable
kinds (attested mints, granted rewards, registrations) go into one call for many items; a refusal that
names an item (`culprit`) fails only that item.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from .constants import BurnReason
from .contracts import Call, Contract, to_bytes
from .errors import ChainRevert
from .gateway import Chain


@dataclass(frozen=True)
class ContractCall:
    """Any single call of a function of ours: `contract` is a Contract name or a coin's address; byte
    arguments are 0x-hex strings (converted by the function's ABI)."""

    kind: ClassVar[str] = "call"
    contract: str
    function: str
    args: list[Any]


@dataclass(frozen=True)
class AttestedMint:
    """A verifier-signed attestation (the EIP-712 message, bytes as hex) and its signature."""

    kind: ClassVar[str] = "mint_attested"
    attestation: dict[str, Any]
    signature: str

    @property
    def claim_id(self) -> str:
        return str(self.attestation["claimId"])

    @property
    def resident(self) -> str:
        return str(self.attestation["resident"])


@dataclass(frozen=True)
class Grant:
    """A reward the municipality decided itself, minted with grantBatch under `claim_id`."""

    kind: ClassVar[str] = "mint_granted"
    coin: str
    to: str
    amount: int
    claim_id: str


@dataclass(frozen=True)
class Registration:
    """A participant for the registry: kind, area (bytes8 as hex), purposes and the record's hash."""

    kind: ClassVar[str] = "register"
    account: str
    participant_kind: int
    area: str
    purposes: int
    record_hash: str


@dataclass(frozen=True)
class Relayed:
    """A holder's signed authorization, relayed: a payment to `to` (payWithAuthorization), a refund to
    `to` of a payment made under `reference` (refundWithAuthorization, `refund` set) or a burn for
    `reason` (burnWithAuthorization) of `value` against `reference`."""

    kind: ClassVar[str] = "relay"
    coin: str
    sender: str
    value: int
    reference: str
    valid_after: int
    valid_before: int
    nonce: int
    signature: str  # r ‖ s ‖ v, hex
    to: str | None = None
    reason: int | None = None
    refund: bool = False

    @property
    def function(self) -> str:
        if self.refund:
            return "refundWithAuthorization"
        return "payWithAuthorization" if self.reason is None else "burnWithAuthorization"

    def args(self) -> list[Any]:
        raw = to_bytes(self.signature)
        v = raw[64] + 27 if raw[64] < 27 else raw[64]
        middle: list[Any] = [self.to] if self.reason is None else [BurnReason(self.reason)]
        return [
            self.sender,
            *middle,
            self.value,
            to_bytes(self.reference),
            self.valid_after,
            self.valid_before,
            self.nonce.to_bytes(32, "big"),
            v,
            raw[:32],
            raw[32:64],
        ]


Payload = ContractCall | AttestedMint | Grant | Registration | Relayed
PAYLOADS: dict[str, type[Payload]] = {
    p.kind: p for p in (ContractCall, AttestedMint, Grant, Registration, Relayed)
}


def to_json(payload: Payload) -> dict[str, Any]:
    return asdict(payload)


def payload_of(kind: str, data: dict[str, Any]) -> Payload:
    return PAYLOADS[kind](**data)


# --------------------------------------------------------------------------------------------------
# How each kind becomes a call
# --------------------------------------------------------------------------------------------------


def _attestation(a: dict[str, Any]) -> tuple[Any, ...]:
    return (
        a["resident"],
        a["coin"],
        int(a["amount"]),
        to_bytes(a["activityId"]),
        to_bytes(a["claimId"]),
        to_bytes(a["evidenceHash"]),
        int(a["deadline"]),
    )


def _matching(values: list[str], wanted: Any) -> int | None:
    if wanted is None:
        return None
    wanted = str(wanted).lower()
    return next((i for i, value in enumerate(values) if value.lower() == wanted), None)


class Kind:
    """How items of one kind become a contract call, and which item a refusal names."""

    batchable = False
    # An upper bound of the gas one item takes in a batch; None: always ask eth_estimateGas.
    gas_per_item: int | None = None

    def call(self, chain: Chain, payloads: list[Any]) -> Call:
        raise NotImplementedError

    def culprit(self, revert: ChainRevert, payloads: list[Any]) -> int | None:
        """Index of the item a refusal names, if it names one (a batch of one always names its item)."""
        return 0 if len(payloads) == 1 else None


class MintAttestedKind(Kind):
    batchable = True
    gas_per_item = 100_000  # measured ~43,000 (fresh claim id), ~60,000 for a resident's first coins

    def call(self, chain: Chain, payloads: list[AttestedMint]) -> Call:
        args = [[_attestation(p.attestation) for p in payloads], [to_bytes(p.signature) for p in payloads]]
        return chain.encode(Contract.ISSUER, chain.deployment.issuer, "mintBatch", args)

    def culprit(self, revert: ChainRevert, payloads: list[AttestedMint]) -> int | None:
        found = _matching([p.claim_id for p in payloads], revert.arguments.get("claimId"))
        if found is None:
            account = revert.arguments.get("account") or revert.arguments.get("to")
            found = _matching([p.resident for p in payloads], account)
        return super().culprit(revert, payloads) if found is None else found


class MintGrantedKind(Kind):
    batchable = True
    gas_per_item = 80_000  # measured ~40,500 per grant in a batch of 100, more for a resident's first coins

    def call(self, chain: Chain, payloads: list[Grant]) -> Call:
        grants = [(p.coin, p.to, p.amount, to_bytes(p.claim_id)) for p in payloads]
        return chain.encode(Contract.ISSUER, chain.deployment.issuer, "grantBatch", [grants])

    def culprit(self, revert: ChainRevert, payloads: list[Grant]) -> int | None:
        found = _matching([p.claim_id for p in payloads], revert.arguments.get("claimId"))
        if found is None:
            account = revert.arguments.get("account") or revert.arguments.get("to")
            found = _matching([p.to for p in payloads], account)
        if found is None:  # IssuerUnknownCoin names the coin
            found = _matching([p.coin for p in payloads], revert.arguments.get("coin"))
        return super().culprit(revert, payloads) if found is None else found


class RegisterKind(Kind):
    batchable = True
    gas_per_item = 150_000

    def call(self, chain: Chain, payloads: list[Registration]) -> Call:
        rows = [
            (p.account, p.participant_kind, to_bytes(p.area), p.purposes, to_bytes(p.record_hash))
            for p in payloads
        ]
        return chain.encode(Contract.REGISTRY, chain.deployment.registry, "registerBatch", [rows])

    def culprit(self, revert: ChainRevert, payloads: list[Registration]) -> int | None:
        found = _matching([p.account for p in payloads], revert.arguments.get("account"))
        return super().culprit(revert, payloads) if found is None else found


class ContractCallKind(Kind):
    def call(self, chain: Chain, payloads: list[ContractCall]) -> Call:
        (payload,) = payloads
        fixed = {c.value for c in Contract}
        contract = Contract(payload.contract) if payload.contract in fixed else Contract.COIN
        return chain.encode(
            contract, chain.deployment.address(payload.contract), payload.function, payload.args
        )


class RelayKind(Kind):
    def call(self, chain: Chain, payloads: list[Relayed]) -> Call:
        (payload,) = payloads
        return chain.encode(Contract.COIN, payload.coin, payload.function, payload.args())


KINDS: dict[str, Kind] = {
    AttestedMint.kind: MintAttestedKind(),
    Grant.kind: MintGrantedKind(),
    Registration.kind: RegisterKind(),
    ContractCall.kind: ContractCallKind(),
    Relayed.kind: RelayKind(),
}
