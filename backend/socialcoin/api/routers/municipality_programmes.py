"""The municipality's programmes desk: budgets, the activity catalogue (and residents' suggestions),
assigning tasks, and deciding on verified claims, which sends approved ones to the chain to mint."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ...db.enums import TaskStatus
from ...db.models import Activity, Claim, Programme, Resident, Task
from ...domain import activities, claims, programmes, tasks
from ...domain.activities import GUIDELINES, MAX_TASK_DAYS, MIN_TASK_DAYS, Terms
from ..deps import MAX_ID, Admin, RuntimeDep, SessionDep, Staff, WriteSessionDep
from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)

COIN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
RESIDENT_ADDRESS = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
VERIFIER_ADDRESS = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
HASH = "0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
WHEN = "2026-03-02T09:30:00Z"

ProgrammeId = Annotated[int, Path(ge=1, le=MAX_ID, description="The programme's number", examples=[1])]
ActivityId = Annotated[int, Path(ge=1, le=MAX_ID, description="The activity's number", examples=[4])]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's number", examples=[17])]
ClaimId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The claim's number (not its on-chain claim id)", examples=[9])
]


class Create(BaseModel):
    """A request body: unknown fields are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------------------
# Programmes and budgets
# --------------------------------------------------------------------------------------------------


class ProgrammeCreate(Create):
    name: str = Field(min_length=3, max_length=200, examples=["Buurt in beweging 2026"])
    coin: str = Field(description="Address of the coin the programme mints", examples=[COIN])
    budget_cents: int = Field(
        description="What the municipality sets aside, in euro cents", examples=[2_500_000]
    )


class BudgetUpdate(Create):
    budget_cents: int = Field(
        description="The new budget in cents; never below what is approved or minted", examples=[3_000_000]
    )


class ProgrammePublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Buurt in beweging 2026"])
    coin: str = Field(examples=[COIN])
    budget_cents: int = Field(examples=[2_500_000])
    created_at: datetime = Field(examples=[WHEN])

    @classmethod
    def of(cls, programme: Programme) -> ProgrammePublic:
        return cls(
            id=programme.id,
            name=programme.name,
            coin=programme.coin,
            budget_cents=programme.budget_cents,
            created_at=programme.created_at,
        )


class ProgrammeBudgetPublic(BaseModel):
    programme_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    name: str = Field(examples=["Buurt in beweging 2026"])
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    budgeted_cents: int = Field(description="The programme's budget", examples=[2_500_000])
    reserved_cents: int = Field(
        description="Approved claims and queued rewards whose mint the index does not show yet",
        examples=[3_000],
    )
    minted_cents: int = Field(
        description="Minted for the programme's claims and rewards (indexed ActivityMinted, RewardGranted)",
        examples=[120_000],
    )
    available_cents: int = Field(
        description="budgeted - reserved - minted: what approvals can still use", examples=[2_377_000]
    )


class CoinBudgetPublic(BaseModel):
    coin: str = Field(examples=[COIN])
    symbol: str = Field(examples=["GKW"])
    budgeted_cents: int = Field(
        description="Sum of the budgets of the coin's programmes", examples=[2_500_000]
    )
    minted_cents: int = Field(
        description="ActivityMinted, RewardGranted and AdminMinted on the issuer, all programmes and none",
        examples=[150_000],
    )
    burned_cents: int = Field(
        description="DebtSettled, ServiceRedeemed, PayoutRedeemed and ExpiredReclaimed on the coin",
        examples=[40_000],
    )
    outstanding_cents: int = Field(
        description="minted - burned: coins in circulation, owed in euro", examples=[110_000]
    )


class BudgetsPublic(BaseModel):
    """Burns cannot be told apart by programme (coins are interchangeable), so they are given per coin."""

    minter_allowance_cents: int = Field(
        description="What the backend's minter key may still mint on chain", examples=[4_850_000]
    )
    programmes: list[ProgrammeBudgetPublic]
    coins: list[CoinBudgetPublic]


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
    overview = programmes.budget_overview(session, runtime.chain.deployment.issuer, allowance)
    return BudgetsPublic(
        minter_allowance_cents=overview.minter_allowance_cents,
        programmes=[
            ProgrammeBudgetPublic(
                programme_id=b.programme.id,
                name=b.programme.name,
                coin=b.programme.coin,
                symbol=b.symbol,
                budgeted_cents=b.programme.budget_cents,
                reserved_cents=b.reserved_cents,
                minted_cents=b.minted_cents,
                available_cents=b.available_cents,
            )
            for b in overview.programmes
        ],
        coins=[
            CoinBudgetPublic(
                coin=c.coin,
                symbol=c.symbol,
                budgeted_cents=c.budgeted_cents,
                minted_cents=c.minted_cents,
                burned_cents=c.burned_cents,
                outstanding_cents=c.outstanding_cents,
            )
            for c in overview.coins
        ],
    )


# --------------------------------------------------------------------------------------------------
# The activity catalogue
# --------------------------------------------------------------------------------------------------

Unit = Literal["hour", "task"]


class GuidelinePublic(BaseModel):
    unit: Unit = Field(examples=["hour"])
    min_value_cents: int = Field(description="Least social value per unit", examples=[500])
    max_value_cents: int = Field(description="Most social value per unit", examples=[2500])
    max_units_per_month: int = Field(description="Highest cap per resident per month", examples=[40])


class GuidelinesPublic(BaseModel):
    units: list[GuidelinePublic]
    min_task_days: int = Field(examples=[MIN_TASK_DAYS])
    max_task_days: int = Field(examples=[MAX_TASK_DAYS])


class ActivityTerms(Create):
    """What the municipality decides for an activity (checked against the guidelines)."""

    programme_id: int = Field(
        ge=1, le=MAX_ID, description="The programme that pays, and so the coin", examples=[1]
    )
    organisation_id: int = Field(
        ge=1, le=MAX_ID, description="The organisation whose verifier attests the work", examples=[2]
    )
    value_cents_per_unit: int = Field(
        description="Social value per unit in euro cents, within the guidelines", examples=[1000]
    )
    starts_on: AwareDatetime = Field(
        description="From when tasks can start", examples=["2026-03-01T00:00:00+01:00"]
    )
    ends_on: AwareDatetime = Field(
        description="When the activity ends; no task runs past it", examples=["2026-12-31T23:59:00+01:00"]
    )
    task_days: int = Field(description="Days a resident has for one task", examples=[14])
    cap_units_per_month: int = Field(
        description="Most units one resident can be paid for per month", examples=[8]
    )


class ActivityCreate(ActivityTerms):
    title: str = Field(min_length=3, max_length=200, examples=["Buurtmoestuin onderhouden"])
    description: str = Field(
        min_length=3,
        max_length=5000,
        examples=["Wieden, water geven en oogsten in de moestuin aan de Slijpsteenstraat."],
    )
    unit: Unit = Field(description="hour or task", examples=["hour"])
    area: str = Field(max_length=10, description="CBS code, within the coin's area", examples=["WK020201"])


class SuggestionApproval(ActivityTerms):
    title: str | None = Field(
        default=None,
        min_length=3,
        max_length=200,
        description="A better title; keeps the resident's when left out",
        examples=["Boodschappen voor buren"],
    )
    description: str | None = Field(
        default=None,
        min_length=3,
        max_length=5000,
        description="A better description; keeps the resident's when left out",
        examples=[None],
    )
    area: str | None = Field(
        default=None,
        max_length=10,
        description="Another area; keeps the resident's when left out",
        examples=["WK020201"],
    )


class Rejection(Create):
    reason: str = Field(
        min_length=3,
        max_length=2000,
        description="Told to the resident as written",
        examples=["Dit valt al onder de activiteit 'Boodschappen voor buren'."],
    )


class ActivityPublic(BaseModel):
    id: int = Field(examples=[4])
    title: str = Field(examples=["Buurtmoestuin onderhouden"])
    description: str = Field(
        examples=["Wieden, water geven en oogsten in de moestuin aan de Slijpsteenstraat."]
    )
    unit: Unit = Field(examples=["hour"])
    status: Literal["active", "suggested", "rejected"] = Field(examples=["active"])
    area: str = Field(examples=["WK020201"])
    programme_id: int | None = Field(ge=1, le=MAX_ID, examples=[1])
    coin: str | None = Field(description="The coin the activity pays in", examples=[COIN])
    organisation_id: int | None = Field(ge=1, le=MAX_ID, examples=[2])
    value_cents_per_unit: int | None = Field(examples=[1000])
    starts_on: datetime | None = Field(examples=["2026-02-28T23:00:00Z"])
    ends_on: datetime | None = Field(examples=["2026-12-31T22:59:00Z"])
    task_days: int | None = Field(examples=[14])
    cap_units_per_month: int | None = Field(examples=[8])
    suggested_by: int | None = Field(description="The resident who suggested it", examples=[None])
    decision_reason: str | None = Field(description="Why a suggestion was rejected", examples=[None])
    created_at: datetime = Field(examples=[WHEN])

    @classmethod
    def of(cls, session: Session, activity: Activity) -> ActivityPublic:
        programme = session.get(Programme, activity.programme_id) if activity.programme_id else None
        return cls(
            id=activity.id,
            title=activity.title,
            description=activity.description,
            unit=activity.unit,
            status=activity.status,
            area=activity.area,
            programme_id=activity.programme_id,
            coin=programme.coin if programme else None,
            organisation_id=activity.organisation_id,
            value_cents_per_unit=activity.value_cents_per_unit,
            starts_on=activity.starts_on,
            ends_on=activity.ends_on,
            task_days=activity.task_days,
            cap_units_per_month=activity.cap_units_per_month,
            suggested_by=activity.suggested_by,
            decision_reason=activity.decision_reason,
            created_at=activity.created_at,
        )


def _terms(body: ActivityTerms, area: str | None) -> Terms:
    return Terms(
        programme_id=body.programme_id,
        organisation_id=body.organisation_id,
        value_cents_per_unit=body.value_cents_per_unit,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        task_days=body.task_days,
        cap_units_per_month=body.cap_units_per_month,
        area=area,
    )


@router.get(
    "/activity-guidelines",
    response_model=GuidelinesPublic,
    summary="The municipality's bounds for social value, caps and task days",
)
def guidelines(_: Staff) -> GuidelinesPublic:
    return GuidelinesPublic(
        units=[
            GuidelinePublic(
                unit=unit.value,
                min_value_cents=g.min_value_cents,
                max_value_cents=g.max_value_cents,
                max_units_per_month=g.max_units_per_month,
            )
            for unit, g in GUIDELINES.items()
        ],
        min_task_days=MIN_TASK_DAYS,
        max_task_days=MAX_TASK_DAYS,
    )


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
        session,
        title=body.title,
        description=body.description,
        unit=body.unit,
        terms=_terms(body, body.area),
    )
    return ActivityPublic.of(session, activity)


@router.get("/activities", response_model=list[ActivityPublic], summary="The catalogue (and suggestions)")
def list_activities(
    _: Staff,
    session: SessionDep,
    status: Annotated[
        Literal["active", "suggested", "rejected"] | None,
        Query(description="Only activities with this status", examples=["active"]),
    ] = None,
) -> list[ActivityPublic]:
    return [ActivityPublic.of(session, a) for a in activities.list_activities(session, status)]


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
        session,
        activity_id,
        _terms(body, body.area),
        title=body.title,
        description=body.description,
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


class TaskAssignment(Create):
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    resident_ids: list[int] = Field(
        min_length=1, max_length=500, description="One task for each resident", examples=[[12, 13]]
    )


class TaskPublic(BaseModel):
    id: int = Field(examples=[17])
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    activity_title: str = Field(examples=["Buurtmoestuin onderhouden"])
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[12])
    status: Literal[
        "assigned", "started", "finished", "attested", "approved", "minted", "rejected", "failed"
    ] = Field(examples=["finished"])
    opens_at: datetime = Field(description="When the task can start", examples=[WHEN])
    due_at: datetime = Field(description="When the task must be finished", examples=["2026-03-16T09:30:00Z"])
    remaining_seconds: int = Field(description="Until due_at; 0 when due", examples=[86_400])
    reminder_sent_at: datetime | None = Field(examples=[None])
    started_at: datetime | None = Field(examples=["2026-03-03T10:00:00Z"])
    finished_at: datetime | None = Field(examples=["2026-03-05T16:00:00Z"])
    units: int | None = Field(description="Hours or tasks done, as the resident reported", examples=[3])
    amount_cents: int | None = Field(description="units x value per unit", examples=[3000])
    evidence_name: str | None = Field(examples=["moestuin.jpg"])
    evidence_hash: str | None = Field(description="SHA-256 of the proof; goes on chain", examples=[HASH])

    @classmethod
    def of(cls, session: Session, task: Task) -> TaskPublic:
        activity = session.get(Activity, task.activity_id)
        return cls(
            id=task.id,
            activity_id=activity.id,
            activity_title=activity.title,
            resident_id=task.resident_id,
            status=task.status,
            opens_at=task.opens_at,
            due_at=task.due_at,
            remaining_seconds=tasks.remaining_seconds(task),
            reminder_sent_at=task.reminder_sent_at,
            started_at=task.started_at,
            finished_at=task.finished_at,
            units=task.units,
            amount_cents=tasks.reward_cents(task, activity),
            evidence_name=task.evidence_name,
            evidence_hash=task.evidence_hash,
        )


@router.post(
    "/tasks",
    status_code=201,
    response_model=list[TaskPublic],
    summary="Assign an activity to residents (one task each)",
    description="All or none: a resident outside the activity's area, or one who already has this "
    "activity open, refuses the whole request. Each resident is told.",
)
def assign_tasks(body: TaskAssignment, _: Staff, session: WriteSessionDep) -> list[TaskPublic]:
    return [TaskPublic.of(session, t) for t in tasks.assign(session, body.activity_id, body.resident_ids)]


@router.get("/tasks", response_model=list[TaskPublic], summary="List tasks")
def list_tasks(
    _: Staff,
    session: SessionDep,
    resident_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this resident's", examples=[12])
    ] = None,
    activity_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only this activity's", examples=[4])
    ] = None,
    status: Annotated[
        TaskStatus | None, Query(description="Only with this status", examples=["finished"])
    ] = None,
) -> list[TaskPublic]:
    found = tasks.list_tasks(session, resident_id=resident_id, activity_id=activity_id, status=status)
    return [TaskPublic.of(session, t) for t in found]


@router.get(
    "/tasks/{task_id}/evidence",
    response_class=FileResponse,
    summary="The proof of a task (photo or PDF)",
    responses={
        200: {
            "content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}},
            "description": "The file as uploaded",
        }
    },
)
def task_evidence(task_id: TaskId, _: Staff, session: SessionDep, runtime: RuntimeDep) -> FileResponse:
    path, media_type, name = tasks.evidence_file(
        runtime.settings.evidence_dir, tasks.get_task(session, task_id)
    )
    return FileResponse(path, media_type=media_type, filename=name)


# --------------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------------


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
    status: Literal["attested", "approved", "minted", "failed", "rejected"] = Field(examples=["attested"])
    decision_reason: str | None = Field(examples=[None])
    mint_error: str | None = Field(
        description="The contract's refusal, when the mint failed", examples=[None]
    )
    created_at: datetime = Field(examples=[WHEN])

    @classmethod
    def of(cls, session: Session, claim: Claim) -> ClaimPublic:
        task = session.get(Task, claim.task_id)
        resident = session.get(Resident, task.resident_id)
        return cls(
            id=claim.id,
            task_id=task.id,
            claim_id=claim.claim_id,
            resident_id=resident.id,
            resident=resident.wallet_address,
            coin=claim.coin,
            amount_cents=claim.amount_cents,
            activity_id=task.activity_id,
            evidence_hash=claim.attestation["evidenceHash"],
            verifier=claim.verifier,
            deadline=int(claim.attestation["deadline"]),
            status=str(claim.status),
            decision_reason=claim.decision_reason,
            mint_error=claims.mint_error(session, claim),
            created_at=claim.created_at,
        )


@router.get(
    "/claims", response_model=list[ClaimPublic], summary="List claims (attested ones await a decision)"
)
def list_claims(
    _: Admin,
    session: SessionDep,
    status: Annotated[
        Literal["attested", "approved", "minted", "failed", "rejected"] | None,
        Query(description="Only claims with this status", examples=["attested"]),
    ] = None,
) -> list[ClaimPublic]:
    return [ClaimPublic.of(session, c) for c in claims.list_claims(session, status=status)]


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
