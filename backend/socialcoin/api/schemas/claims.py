"""Claims: a finished task attested by the organisation's verifier (EIP-712), which the municipality
approves (it is minted) or rejects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...chain.typed_data import ISSUER_DOMAIN_NAME, Domain, typed_message
from ...db.models import Claim, Resident, Task
from ...domain import claims
from ..deps import MAX_ID
from .common import COIN, HASH, RESIDENT_ADDRESS, VERIFIER_ADDRESS, WHEN, Create, rows_by

ClaimId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The claim's number (not its on-chain claim id)", examples=[9])
]
ClaimState = Literal["attested", "approved", "minted", "failed", "rejected"]
# The municipality looks for claims to decide on, an organisation for what became of its own.
ClaimStatusQuery = Annotated[
    ClaimState | None, Query(description="Only claims with this status", examples=["attested"])
]
OurClaimStatusQuery = Annotated[
    ClaimState | None, Query(description="Only claims with this status", examples=["minted"])
]

ISSUER = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
TYPED_DATA_EXAMPLE = typed_message(
    Domain(name=ISSUER_DOMAIN_NAME, chain_id=31337, verifying_contract=ISSUER),
    "Attestation",
    {
        "resident": RESIDENT_ADDRESS,
        "coin": COIN,
        "amount": 3000,
        "activityId": "0x0000000000000000000000000000000000000000000000000000000000000004",
        "claimId": "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
        "evidenceHash": HASH,
        "deadline": 1774000000,
    },
)


class AttestationToSign(BaseModel):
    task_id: int = Field(ge=1, le=MAX_ID, examples=[17])
    claim_id: str = Field(description="The task's on-chain claim id", examples=[HASH])
    amount_cents: int = Field(description="units x value per unit", examples=[3000])
    deadline: int = Field(
        description="Unix time until which the signature can be minted; post it back", examples=[1774000000]
    )
    typed_data: dict[str, Any] = Field(
        description="EIP-712 typed data, as eth_signTypedData_v4 takes it", examples=[TYPED_DATA_EXAMPLE]
    )

    @classmethod
    def of(cls, task: Task, typed: dict[str, Any]) -> AttestationToSign:
        message = typed["message"]
        return cls(
            task_id=task.id,
            claim_id=message["claimId"],
            amount_cents=message["amount"],
            deadline=message["deadline"],
            typed_data=typed,
        )


# Room for a contract wallet's signature: 32 signers' 65 bytes and the encoding around them.
MAX_SIGNATURE_HEX = 2 + 2 * (32 * 65 + 4 * 32)


class AttestationSignature(Create):
    deadline: int = Field(description="The deadline of the typed data that was signed", examples=[1774000000])
    signature: str = Field(
        min_length=130,
        max_length=MAX_SIGNATURE_HEX,
        description="65 bytes r‖s‖v, hex; or from a contract wallet (a multisig, ERC-1271) "
        "abi.encode(address wallet, bytes walletSignature), hex",
        examples=["0x" + "ab" * 64 + "1b"],
    )


class ClaimPublic(BaseModel):
    id: int = Field(examples=[9])
    task_id: int = Field(ge=1, le=MAX_ID, examples=[17])
    claim_id: str = Field(description="The on-chain claim id (bytes32)", examples=[HASH])
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[12])
    resident: str = Field(description="The resident's wallet address", examples=[RESIDENT_ADDRESS])
    coin: str = Field(examples=[COIN])
    amount_cents: int = Field(examples=[3000])
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    evidence_hash: str = Field(examples=[HASH])
    verifier: str = Field(description="The key that signed the attestation", examples=[VERIFIER_ADDRESS])
    deadline: int = Field(
        description="Unix time until which the signature can be minted", examples=[1774000000]
    )
    status: ClaimState = Field(examples=["attested"])
    decision_reason: str | None = Field(examples=[None])
    mint_error: str | None = Field(
        description="The contract's refusal, when the mint failed", examples=[None]
    )
    created_at: datetime = Field(examples=[WHEN])

    @classmethod
    def many(cls, session: Session, found: list[Claim]) -> list[Self]:
        """The claims with their tasks, the tasks' residents and the refusals of failed mints."""
        tasks = rows_by(session, Task, Task.id, (c.task_id for c in found))
        residents = rows_by(session, Resident, Resident.id, (t.resident_id for t in tasks.values()))
        mint_errors = claims.mint_errors(session, found)
        answers = []
        for claim in found:
            task = tasks[claim.task_id]
            answers.append(
                cls(
                    id=claim.id,
                    task_id=task.id,
                    claim_id=claim.claim_id,
                    resident_id=task.resident_id,
                    resident=residents[task.resident_id].wallet_address,
                    coin=claim.coin,
                    amount_cents=claim.amount_cents,
                    activity_id=task.activity_id,
                    evidence_hash=claim.attestation["evidenceHash"],
                    verifier=claim.verifier,
                    deadline=int(claim.attestation["deadline"]),
                    status=str(claim.status),
                    decision_reason=claim.decision_reason,
                    mint_error=mint_errors.get(claim.id),
                    created_at=claim.created_at,
                )
            )
        return answers

    @classmethod
    def of(cls, session: Session, claim: Claim) -> Self:
        return cls.many(session, [claim])[0]
