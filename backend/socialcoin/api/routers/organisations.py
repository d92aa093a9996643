"""An organisation's verifier: the finished tasks of its activities, their proof, and attesting them.

The verifier signs the EIP-712 attestation with its own key (a wallet, a hardware key); this API only
hands out what to sign and checks what comes back. The token's subject is the organisation."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ...domain import claims, tasks
from ..deps import RuntimeDep, SessionDep, Verifier
from ..problems import PROBLEM_RESPONSES
from ..schemas.claims import AttestationSignature, AttestationToSign, ClaimPublic, OurClaimStatusQuery
from ..schemas.tasks import EVIDENCE_FILE, AttestableStatusQuery, OrganisationTask, TaskId

router = APIRouter(prefix="/organisations", tags=["organisations"], responses=PROBLEM_RESPONSES)


@router.get("/me/tasks", response_model=list[OrganisationTask], summary="Tasks of the activities we verify")
def our_tasks(
    principal: Verifier, session: SessionDep, status: AttestableStatusQuery = None
) -> list[OrganisationTask]:
    found = tasks.list_tasks(session, organisation_id=principal.subject, status=status)
    return OrganisationTask.many(session, found)


@router.get(
    "/me/tasks/{task_id}/evidence",
    response_class=FileResponse,
    summary="The proof of a task",
    responses=EVIDENCE_FILE,
)
def task_evidence(
    task_id: TaskId, principal: Verifier, session: SessionDep, runtime: RuntimeDep
) -> FileResponse:
    task = tasks.task_of_organisation(session, principal.subject, task_id)
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
    task, typed = claims.typed_data(session, runtime.chain.deployment, principal.subject, task_id)
    return AttestationToSign.of(task, typed)


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
        session, runtime.chain, principal.subject, task_id, deadline=body.deadline, signature=body.signature
    )
    return ClaimPublic.of(session, claim)


@router.get("/me/claims", response_model=list[ClaimPublic], summary="Our attested claims and their state")
def our_claims(
    principal: Verifier, session: SessionDep, status: OurClaimStatusQuery = None
) -> list[ClaimPublic]:
    return ClaimPublic.many(
        session, claims.list_claims(session, status=status, organisation_id=principal.subject)
    )
