"""An organisation's portal: its activities, its residents' tasks, verifying a finished task with an
attestation signed in the browser with the organisation's own key, and what was minted for it.

The verifier signs in with the access code the municipality gave it (`VerifierPage`); every page shows
only the tasks of activities its organisation verifies, as the API's `/organisations/me/...` routes do,
with the same domain functions and the same answers (`OrganisationTask`, `ClaimPublic`): a resident is
shown by the name those answers carry, nothing more.

Signing happens in the page (static/js/organisation-sign.js): the typed data of the attestation is
rendered into the page; the verifier's own wallet (EIP-1193) or its keystore file, opened with its
password in the page, signs it; only the signature and its deadline are posted here. The service never
sees the key, the keystore file or its password (their inputs have no name: a form never sends them).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from ...api.deps import RuntimeDep, SessionDep
from ...api.schemas.activities import ActivityPublic
from ...api.schemas.claims import MAX_SIGNATURE_HEX, AttestationToSign, ClaimPublic
from ...api.schemas.tasks import OrganisationTask, TaskId
from ...db.enums import ClaimStatus, TaskStatus
from ...domain import activities, claims, people, tasks
from ...domain.coins import catalogue
from ...domain.errors import DomainError, NotFound
from ...runtime import Runtime
from .. import pages

router = pages.page_router()

# Tasks that wait for the organisation's signature; a signed one may be signed again until the
# municipality decides (a new deadline; see domain.claims.attest).
SIGNABLE = (TaskStatus.FINISHED, TaskStatus.ATTESTED)
# The filter's choices, those that need the organisation first.
TASK_FILTERS = tuple(
    str(status)
    for status in (
        TaskStatus.FINISHED,
        TaskStatus.ATTESTED,
        TaskStatus.APPROVED,
        TaskStatus.MINTED,
        TaskStatus.REJECTED,
        TaskStatus.FAILED,
        TaskStatus.ASSIGNED,
        TaskStatus.STARTED,
    )
)
CLAIM_FILTERS = tuple(str(status) for status in ClaimStatus)
# Photos a browser shows in the page; other proof (a PDF, a HEIC photo) is offered as a file to open.
SHOWN_IN_PAGE = ("image/jpeg", "image/png", "image/webp")


def _chosen(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


@router.get("/organisatie")
def portal(
    request: Request, principal: pages.VerifierPage, session: SessionDep, toon: str | None = None
) -> Response:
    """The organisation's activities, each with the tasks of residents on it (all, or one status)."""
    organisation_id = principal.subject
    shown_status = _chosen(toon, TASK_FILTERS)
    found = OrganisationTask.many(session, tasks.list_tasks(session, organisation_id=organisation_id))
    by_activity: dict[int, list[OrganisationTask]] = {}
    for task in found:
        if shown_status is None or task.status == shown_status:
            by_activity.setdefault(task.activity_id, []).append(task)
    return pages.render(
        request,
        "organisation/home.html",
        organisation=people.get_organisation(session, organisation_id),
        activities=ActivityPublic.many(
            session, activities.list_activities(session, organisation_id=organisation_id)
        ),
        tasks_by_activity=by_activity,
        to_check=[task for task in found if task.status == str(TaskStatus.FINISHED)],
        shown_status=shown_status,
        task_filters=TASK_FILTERS,
        verifiers=people.verifiers_of(session, [organisation_id])[organisation_id],
        coins=catalogue(session),
    )


def _task_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    organisation_id: int,
    task_id: int,
    *,
    signed: bool = False,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    task = tasks.task_of_organisation(session, organisation_id, task_id)
    activity = ActivityPublic.of(session, activities.get_activity(session, task.activity_id))
    to_sign: AttestationToSign | None = None
    if task.status in SIGNABLE:
        signable, typed = claims.typed_data(session, runtime.chain.deployment, organisation_id, task_id)
        to_sign = AttestationToSign.of(signable, typed)
    evidence_type: str | None = None
    if task.evidence_path is not None:
        try:
            _path, evidence_type, _name = tasks.evidence_file(runtime.settings.evidence_dir, task)
        except NotFound:
            evidence_type = None
    verifiers = people.verifiers_of(session, [organisation_id])[organisation_id]
    return pages.render(
        request,
        "organisation/task.html",
        status_code=status_code,
        task=OrganisationTask.many(session, [task])[0],
        activity=activity,
        coin=catalogue(session).get(activity.coin),
        to_sign=to_sign,
        evidence_missing=task.evidence_path is not None and evidence_type is None,
        evidence_type=evidence_type,
        evidence_in_page=evidence_type in SHOWN_IN_PAGE,
        signers=[v.address for v in verifiers if v.coin == activity.coin],
        signed=signed and task.status == TaskStatus.ATTESTED,
        error=pages.message(error, pages.language_of(request)) if error else None,
        error_code=error.code if error else None,
    )


@router.get("/organisatie/taken/{task_id}")
def task_page(
    task_id: TaskId,
    request: Request,
    principal: pages.VerifierPage,
    session: SessionDep,
    runtime: RuntimeDep,
    ondertekend: str | None = None,
) -> Response:
    """A task with its proof; a finished one with what to sign and the ways to sign it."""
    return _task_page(request, session, runtime, principal.subject, task_id, signed=ondertekend is not None)


@router.get("/organisatie/taken/{task_id}/bewijs")
def task_evidence(
    task_id: TaskId, request: Request, principal: pages.VerifierPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The proof of a task of this organisation's activities (any other task is not found)."""
    task = tasks.task_of_organisation(session, principal.subject, task_id)
    path, media_type, name = tasks.evidence_file(runtime.settings.evidence_dir, task)
    response = FileResponse(path, media_type=media_type, filename=name, content_disposition_type="inline")
    return pages.with_page_headers(request, response)


@router.post("/organisatie/taken/{task_id}/attestatie")
def attest(
    task_id: TaskId,
    request: Request,
    principal: pages.VerifierPage,
    session: SessionDep,
    runtime: RuntimeDep,
    deadline: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "",
) -> Response:
    """The signature made in the page, and its deadline: the task becomes a claim for the municipality
    (as POST /organisations/me/tasks/{id}/attestation). A refusal is shown on the task's page."""
    # What is not a number or a signature at all is left for the domain to refuse, in its own words.
    given_deadline = int(deadline) if deadline.strip().isdigit() and len(deadline) < 20 else 0
    given_signature = signature.strip() if len(signature) <= MAX_SIGNATURE_HEX else ""
    try:
        claims.attest(
            session,
            runtime.chain,
            principal.subject,
            task_id,
            deadline=given_deadline,
            signature=given_signature,
        )
    except DomainError as error:
        return _task_page(
            request, session, runtime, principal.subject, task_id, error=error, status_code=error.status
        )
    return pages.redirect(request, f"/organisatie/taken/{task_id}?ondertekend=1")


@router.get("/organisatie/claims")
def claims_page(
    request: Request, principal: pages.VerifierPage, session: SessionDep, toon: str | None = None
) -> Response:
    """What became of the organisation's signed tasks: waiting, approved, minted, rejected or failed."""
    organisation_id = principal.subject
    shown_status = _chosen(toon, CLAIM_FILTERS)
    found = ClaimPublic.many(session, claims.list_claims(session, organisation_id=organisation_id))
    task_rows = OrganisationTask.many(session, tasks.list_tasks(session, organisation_id=organisation_id))
    totals: dict[str, int] = {}
    for claim in found:
        totals[claim.status] = totals.get(claim.status, 0) + claim.amount_cents
    context: dict[str, Any] = {
        "claims": [c for c in found if shown_status is None or c.status == shown_status],
        "tasks": {task.id: task for task in task_rows},
        "minted_cents": totals.get(ClaimStatus.MINTED, 0),
        "waiting_cents": totals.get(ClaimStatus.ATTESTED, 0) + totals.get(ClaimStatus.APPROVED, 0),
        "shown_status": shown_status,
        "claim_filters": CLAIM_FILTERS,
    }
    return pages.render(request, "organisation/claims.html", **context)
