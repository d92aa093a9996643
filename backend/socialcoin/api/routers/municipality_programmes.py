"""The municipality's programmes desk: budgets, the activity catalogue (and residents' suggestions),
assigning tasks, and deciding on verified claims, which sends approved ones to the chain to mint."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ...domain import activities, claims, programmes, tasks
from ..deps import Admin, RuntimeDep, SessionDep, Staff, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.activities import (
    ActivityCreate,
    ActivityId,
    ActivityPublic,
    ActivityStatusQuery,
    GuidelinesPublic,
    SuggestionApproval,
)
from ..schemas.claims import ClaimId, ClaimPublic, ClaimStatusQuery
from ..schemas.common import Rejection
from ..schemas.programmes import BudgetsPublic, BudgetUpdate, ProgrammeCreate, ProgrammeId, ProgrammePublic
from ..schemas.tasks import (
    EVIDENCE_FILE,
    ActivityQuery,
    ResidentQuery,
    TaskAssignment,
    TaskId,
    TaskPublic,
    TaskStatusQuery,
)

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)


# --------------------------------------------------------------------------------------------------
# Programmes and budgets
# --------------------------------------------------------------------------------------------------


@router.post(
    "/programmes",
    status_code=201,
    response_model=ProgrammePublic,
    summary="Create a programme: a budget for one coin",
)
def create_programme(body: ProgrammeCreate, _: Admin, session: WriteSessionDep) -> ProgrammePublic:
    programme = programmes.create_programme(
        session, name=body.name, coin=body.coin, budget_cents=body.budget_cents
    )
    return ProgrammePublic.of(programme)


@router.get("/programmes", response_model=list[ProgrammePublic], summary="List programmes")
def list_programmes(_: Admin, session: SessionDep) -> list[ProgrammePublic]:
    return [ProgrammePublic.of(p) for p in programmes.list_programmes(session)]


@router.put(
    "/programmes/{programme_id}/budget",
    response_model=ProgrammePublic,
    summary="Change a programme's budget",
    description="Refused (409) below what approved and minted claims and queued and minted rewards take.",
)
def set_budget(
    programme_id: ProgrammeId, body: BudgetUpdate, _: Admin, session: WriteSessionDep
) -> ProgrammePublic:
    return ProgrammePublic.of(programmes.set_budget(session, programme_id, body.budget_cents))


@router.get(
    "/budgets",
    response_model=BudgetsPublic,
    summary="Budgeted, minted, burned and outstanding, per programme and per coin",
    description="Minted and burned come from the indexed chain events, so they lag the chain by the "
    "indexer's confirmation depth.",
)
def budgets(_: Admin, session: SessionDep, runtime: RuntimeDep) -> BudgetsPublic:
    allowance = runtime.chain.minter_allowance(runtime.keys["minter"])
    return BudgetsPublic.of(programmes.budget_overview(session, runtime.chain.deployment.issuer, allowance))


# --------------------------------------------------------------------------------------------------
# The activity catalogue
# --------------------------------------------------------------------------------------------------


@router.get(
    "/activity-guidelines",
    response_model=GuidelinesPublic,
    summary="The municipality's bounds for social value, caps and task days",
)
def guidelines(_: Staff) -> GuidelinesPublic:
    return GuidelinesPublic.current()


@router.post(
    "/activities",
    status_code=201,
    response_model=ActivityPublic,
    summary="Add an activity to the catalogue",
    description="Value per unit, cap per month and task days must lie within the guidelines "
    "(GET /municipality/activity-guidelines); a refusal names the field and the bound. The area must "
    "lie within the programme's coin's area.",
)
def create_activity(body: ActivityCreate, _: Admin, session: WriteSessionDep) -> ActivityPublic:
    activity = activities.create_activity(
        session, title=body.title, description=body.description, unit=body.unit, terms=body.terms(body.area)
    )
    return ActivityPublic.of(session, activity)


@router.get("/activities", response_model=list[ActivityPublic], summary="The catalogue (and suggestions)")
def list_activities(
    _: Staff, session: SessionDep, status: ActivityStatusQuery = None
) -> list[ActivityPublic]:
    return ActivityPublic.many(session, activities.list_activities(session, status))


@router.get("/activities/{activity_id}", response_model=ActivityPublic, summary="One activity")
def get_activity(activity_id: ActivityId, _: Staff, session: SessionDep) -> ActivityPublic:
    return ActivityPublic.of(session, activities.get_activity(session, activity_id))


@router.post(
    "/activity-suggestions/{activity_id}/approve",
    response_model=ActivityPublic,
    summary="Take a resident's suggestion into the catalogue, on the municipality's terms",
    description="The same guidelines apply as for a new activity. The resident is told.",
)
def approve_suggestion(
    activity_id: ActivityId, body: SuggestionApproval, _: Admin, session: WriteSessionDep
) -> ActivityPublic:
    activity = activities.approve_suggestion(
        session, activity_id, body.terms(body.area), title=body.title, description=body.description
    )
    return ActivityPublic.of(session, activity)


@router.post(
    "/activity-suggestions/{activity_id}/reject",
    response_model=ActivityPublic,
    summary="Decline a resident's suggestion, with a reason the resident reads",
)
def reject_suggestion(
    activity_id: ActivityId, body: Rejection, _: Admin, session: WriteSessionDep
) -> ActivityPublic:
    return ActivityPublic.of(session, activities.reject_suggestion(session, activity_id, body.reason))


# --------------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------------


@router.post(
    "/tasks",
    status_code=201,
    response_model=list[TaskPublic],
    summary="Assign an activity to residents (one task each)",
    description="All or none: a resident outside the activity's area, or one who already has this "
    "activity open, refuses the whole request. Each resident is told.",
)
def assign_tasks(body: TaskAssignment, _: Staff, session: WriteSessionDep) -> list[TaskPublic]:
    return TaskPublic.many(session, tasks.assign(session, body.activity_id, body.resident_ids))


@router.get("/tasks", response_model=list[TaskPublic], summary="List tasks")
def list_tasks(
    _: Staff,
    session: SessionDep,
    resident_id: ResidentQuery = None,
    activity_id: ActivityQuery = None,
    status: TaskStatusQuery = None,
) -> list[TaskPublic]:
    found = tasks.list_tasks(session, resident_id=resident_id, activity_id=activity_id, status=status)
    return TaskPublic.many(session, found)


@router.get(
    "/tasks/{task_id}/evidence",
    response_class=FileResponse,
    summary="The proof of a task (photo or PDF)",
    responses=EVIDENCE_FILE,
)
def task_evidence(task_id: TaskId, _: Staff, session: SessionDep, runtime: RuntimeDep) -> FileResponse:
    path, media_type, name = tasks.evidence_file(
        runtime.settings.evidence_dir, tasks.get_task(session, task_id)
    )
    return FileResponse(path, media_type=media_type, filename=name)


# --------------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------------


@router.get(
    "/claims", response_model=list[ClaimPublic], summary="List claims (attested ones await a decision)"
)
def list_claims(_: Admin, session: SessionDep, status: ClaimStatusQuery = None) -> list[ClaimPublic]:
    return ClaimPublic.many(session, claims.list_claims(session, status=status))


@router.post(
    "/claims/{claim_id}/approve",
    response_model=ClaimPublic,
    summary="Approve a claim: it is minted through the outbox",
    description="Checked before anything reaches the chain: the signature's deadline, the resident's "
    "registration, the cap per month, the programme's budget and the minter's allowance. Approving a "
    "claim again changes nothing: a claim mints once.",
)
def approve_claim(claim_id: ClaimId, _: Admin, session: SessionDep, runtime: RuntimeDep) -> ClaimPublic:
    claim = claims.approve(session, runtime.chain, runtime.keys["minter"], claim_id)
    return ClaimPublic.of(session, claim)


@router.post(
    "/claims/{claim_id}/reject",
    response_model=ClaimPublic,
    summary="Reject a claim, with a reason the resident reads; it is never minted",
)
def reject_claim(claim_id: ClaimId, body: Rejection, _: Admin, session: WriteSessionDep) -> ClaimPublic:
    return ClaimPublic.of(session, claims.reject(session, claim_id, body.reason))
