"""An organisation's verifier: the finished tasks of its activities, their proof, and attesting them.

The verifier signs the EIP-712 attestation with its own key (a wallet, a hardware key); this API only
hands out what to sign and checks what comes back. The token's subject is the organisation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ...chain.typed_data import ISSUER_DOMAIN_NAME, Domain, typed_message
from ...db.enums import TaskStatus
from ...db.models import Activity, Resident, Task
from ...domain import claims, tasks
from ..deps import MAX_ID, RuntimeDep, SessionDep, Verifier
from ..problems import PROBLEM_RESPONSES
from .municipality_programmes import COIN, HASH, RESIDENT_ADDRESS, ClaimPublic

router = APIRouter(prefix="/organisations", tags=["organisations"], responses=PROBLEM_RESPONSES)

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's number", examples=[17])]
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


class OrganisationTask(BaseModel):
    id: int = Field(examples=[17])
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    activity_title: str = Field(examples=["Buurtmoestuin onderhouden"])
    resident_name: str = Field(description="Who did it", examples=["Eva de Vries"])
    status: Literal[
        "assigned", "started", "finished", "attested", "approved", "minted", "rejected", "failed"
    ] = Field(description="finished: waiting for your attestation", examples=["finished"])
    due_at: datetime = Field(examples=["2026-03-16T09:30:00Z"])
    finished_at: datetime | None = Field(examples=["2026-03-05T16:00:00Z"])
    units: int | None = Field(description="Hours or tasks done, as the resident reported", examples=[3])
    amount_cents: int | None = Field(description="units x value per unit", examples=[3000])
    evidence_name: str | None = Field(examples=["moestuin.jpg"])
    evidence_hash: str | None = Field(description="SHA-256 of the proof", examples=[HASH])

    @classmethod
    def of(cls, session: Session, task: Task) -> OrganisationTask:
        activity = session.get(Activity, task.activity_id)
        return cls(
            id=task.id,
            activity_id=activity.id,
            activity_title=activity.title,
            resident_name=session.get(Resident, task.resident_id).name,
            status=task.status,
            due_at=task.due_at,
            finished_at=task.finished_at,
            units=task.units,
            amount_cents=tasks.reward_cents(task, activity),
            evidence_name=task.evidence_name,
            evidence_hash=task.evidence_hash,
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


class AttestationSignature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deadline: int = Field(description="The deadline of the typed data that was signed", examples=[1774000000])
    signature: str = Field(
        min_length=130, max_length=132, description="65 bytes r‖s‖v, hex", examples=["0x" + "ab" * 64 + "1b"]
    )


@router.get("/me/tasks", response_model=list[OrganisationTask], summary="Tasks of the activities we verify")
def our_tasks(
    principal: Verifier,
    session: SessionDep,
    status: Annotated[
        TaskStatus | None,
        Query(description="finished: waiting for an attestation", examples=["finished"]),
    ] = None,
) -> list[OrganisationTask]:
    found = tasks.list_tasks(session, organisation_id=principal.subject_id, status=status)
    return [OrganisationTask.of(session, t) for t in found]


@router.get(
    "/me/tasks/{task_id}/evidence",
    response_class=FileResponse,
    summary="The proof of a task",
    responses={
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}},
            "description": "The file as uploaded",
        }
    },
)
def task_evidence(
    task_id: TaskId, principal: Verifier, session: SessionDep, runtime: RuntimeDep
) -> FileResponse:
    task = tasks.task_of_organisation(session, principal.subject_id, task_id)
    path, media_type, name = tasks.evidence_file(runtime.settings.evidence_dir, task)
    return FileResponse(path, media_type=media_type, filename=name)


@router.get(
    "/me/tasks/{task_id}/attestation",
    response_model=AttestationToSign,
    summary="The attestation of a finished task, as EIP-712 typed data to sign",
    description="Sign `typed_data` with the verifier key the municipality authorised for the coin "
    "(eth_signTypedData_v4), then post the signature and the deadline back.",
)
def attestation_to_sign(
    task_id: TaskId, principal: Verifier, session: SessionDep, runtime: RuntimeDep
) -> AttestationToSign:
    task, typed = claims.typed_data(session, runtime.chain.deployment, principal.subject_id or 0, task_id)
    message = typed["message"]
    return AttestationToSign(
        task_id=task.id,
        claim_id=message["claimId"],
        amount_cents=message["amount"],
        deadline=message["deadline"],
        typed_data=typed,
    )


@router.post(
    "/me/tasks/{task_id}/attestation",
    status_code=201,
    response_model=ClaimPublic,
    summary="Post the signed attestation: the task becomes a claim for the municipality to decide",
    description="The signature must recover to a verifier key of this organisation that is authorised "
    "on chain for the coin; the cap per month and the programme's budget must allow the amount. "
    "Signing again before the municipality decides replaces the signature (a new deadline).",
)
def attest(
    task_id: TaskId, body: AttestationSignature, principal: Verifier, session: SessionDep, runtime: RuntimeDep
) -> ClaimPublic:
    claim = claims.attest(
        session,
        runtime.chain,
        principal.subject_id or 0,
        task_id,
        deadline=body.deadline,
        signature=body.signature,
    )
    return ClaimPublic.of(session, claim)


@router.get("/me/claims", response_model=list[ClaimPublic], summary="Our attested claims and their state")
def our_claims(
    principal: Verifier,
    session: SessionDep,
    status: Annotated[
        Literal["attested", "approved", "minted", "failed", "rejected"] | None,
        Query(description="Only claims with this status", examples=["minted"]),
    ] = None,
) -> list[ClaimPublic]:
    return [
        ClaimPublic.of(session, c)
        for c in claims.list_claims(session, status=status, organisation_id=principal.subject_id)
    ]
