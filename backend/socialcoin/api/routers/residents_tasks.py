"""A resident's tasks: what the municipality gave them, starting and finishing with proof, and
suggesting new activities. Every route reads the resident from the token; another resident's task
is answered as not found."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db.models import Activity, Claim, Programme, Task
from ...domain import activities, tasks
from ..deps import MAX_ID, ResidentUser, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/residents/me", tags=["residents"], responses=PROBLEM_RESPONSES)

COIN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
HASH = "0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
WHEN = "2026-03-02T09:30:00Z"
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's number", examples=[17])]
TaskStatus = Literal[
    "assigned", "started", "finished", "attested", "approved", "minted", "rejected", "failed"
]


class MyActivity(BaseModel):
    id: int = Field(examples=[4])
    title: str = Field(examples=["Buurtmoestuin onderhouden"])
    description: str = Field(
        examples=["Wieden, water geven en oogsten in de moestuin aan de Slijpsteenstraat."]
    )
    unit: Literal["hour", "task"] = Field(examples=["hour"])
    value_cents_per_unit: int = Field(description="What one hour or task earns, in cents", examples=[1000])
    cap_units_per_month: int = Field(description="Most units paid per month", examples=[8])
    coin: str = Field(description="The coin it pays in", examples=[COIN])


class MyTask(BaseModel):
    id: int = Field(examples=[17])
    activity: MyActivity
    status: TaskStatus = Field(
        description="assigned → started → finished (with proof) → attested (by the organisation) → approved "
        "(by the municipality) → minted; or rejected, or failed",
        examples=["started"],
    )
    opens_at: datetime = Field(description="From when it can start", examples=[WHEN])
    due_at: datetime = Field(description="When it must be finished", examples=["2026-03-16T09:30:00Z"])
    remaining_seconds: int = Field(description="Time left until due_at; 0 when due", examples=[86_400])
    started_at: datetime | None = Field(examples=["2026-03-03T10:00:00Z"])
    finished_at: datetime | None = Field(examples=[None])
    units: int | None = Field(description="Hours or tasks done", examples=[None])
    amount_cents: int | None = Field(description="What it earns: units x value per unit", examples=[None])
    evidence_name: str | None = Field(examples=[None])
    evidence_hash: str | None = Field(
        description="SHA-256 of the proof, as it goes on chain", examples=[HASH]
    )
    decision_reason: str | None = Field(description="Why it was not approved, if it was not", examples=[None])

    @classmethod
    def of(cls, session: Session, task: Task) -> MyTask:
        activity = session.get(Activity, task.activity_id)
        programme = session.get(Programme, activity.programme_id)
        reason = session.scalar(select(Claim.decision_reason).where(Claim.task_id == task.id))
        return cls(
            id=task.id,
            activity=MyActivity(
                id=activity.id,
                title=activity.title,
                description=activity.description,
                unit=activity.unit,
                value_cents_per_unit=activity.value_cents_per_unit,
                cap_units_per_month=activity.cap_units_per_month,
                coin=programme.coin,
            ),
            status=task.status,
            opens_at=task.opens_at,
            due_at=task.due_at,
            remaining_seconds=tasks.remaining_seconds(task),
            started_at=task.started_at,
            finished_at=task.finished_at,
            units=task.units,
            amount_cents=tasks.reward_cents(task, activity),
            evidence_name=task.evidence_name,
            evidence_hash=task.evidence_hash,
            decision_reason=reason,
        )


class SuggestionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200, examples=["Boodschappen voor buren"])
    description: str = Field(
        min_length=10,
        max_length=5000,
        examples=["Eén keer per week boodschappen doen voor oudere buren in de straat."],
    )
    unit: Literal["hour", "task"] = Field(description="Paid per hour or per task", examples=["task"])


class MySuggestion(BaseModel):
    id: int = Field(examples=[21])
    title: str = Field(examples=["Boodschappen voor buren"])
    description: str = Field(examples=["Eén keer per week boodschappen doen voor oudere buren in de straat."])
    unit: Literal["hour", "task"] = Field(examples=["task"])
    area: str = Field(description="The resident's area", examples=["BU02020101"])
    status: Literal["suggested", "active", "rejected"] = Field(
        description="suggested: waiting; active: taken into the catalogue; rejected: see decision_reason",
        examples=["suggested"],
    )
    decision_reason: str | None = Field(examples=[None])
    created_at: datetime = Field(examples=[WHEN])

    @classmethod
    def of(cls, activity: Activity) -> MySuggestion:
        return cls(
            id=activity.id,
            title=activity.title,
            description=activity.description,
            unit=activity.unit,
            area=activity.area,
            status=activity.status,
            decision_reason=activity.decision_reason,
            created_at=activity.created_at,
        )


@router.get("/tasks", response_model=list[MyTask], summary="My tasks, with the time left for each")
def my_tasks(principal: ResidentUser, session: SessionDep) -> list[MyTask]:
    return [MyTask.of(session, t) for t in tasks.list_tasks(session, resident_id=principal.subject_id)]


@router.get("/tasks/{task_id}", response_model=MyTask, summary="One of my tasks")
def my_task(task_id: TaskId, principal: ResidentUser, session: SessionDep) -> MyTask:
    return MyTask.of(session, tasks.task_of_resident(session, principal.subject_id, task_id))


@router.post(
    "/tasks/{task_id}/start",
    response_model=MyTask,
    summary="Start one of my tasks",
    description="Only between the task's opens_at and due_at, and only once.",
)
def start_task(task_id: TaskId, principal: ResidentUser, session: WriteSessionDep) -> MyTask:
    return MyTask.of(session, tasks.start(session, principal.subject_id, task_id))


@router.post(
    "/tasks/{task_id}/finish",
    response_model=MyTask,
    summary="Finish a started task, with proof",
    description="A multipart form: how much was done (`units`: hours or tasks) and the proof (`evidence`: "
    "a photo (JPEG, PNG, HEIC, WebP) or a PDF, at most 10 MB). The proof stays off chain; its SHA-256 "
    "goes on chain with the attestation. Refused beyond the activity's cap per month.",
)
def finish_task(
    task_id: TaskId,
    principal: ResidentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    units: Annotated[int, Form(description="Hours or tasks done", examples=[3])],
    evidence: Annotated[UploadFile, File(description="A photo or a PDF that shows the work")],
) -> MyTask:
    task = tasks.finish(
        session,
        runtime.settings.evidence_dir,
        principal.subject_id,
        task_id,
        units=units,
        evidence=evidence.file,
        filename=evidence.filename,
    )
    return MyTask.of(session, task)


@router.post(
    "/activity-suggestions",
    status_code=201,
    response_model=MySuggestion,
    summary="Suggest a new activity for my area",
    description="The municipality takes it into the catalogue or declines it with a reason; either way "
    "you get a message.",
)
def suggest(body: SuggestionCreate, principal: ResidentUser, session: WriteSessionDep) -> MySuggestion:
    suggestion = activities.suggest_activity(
        session, principal.subject_id, title=body.title, description=body.description, unit=body.unit
    )
    return MySuggestion.of(suggestion)


@router.get(
    "/activity-suggestions", response_model=list[MySuggestion], summary="My suggestions and their state"
)
def my_suggestions(principal: ResidentUser, session: SessionDep) -> list[MySuggestion]:
    return [MySuggestion.of(a) for a in activities.suggestions_of(session, principal.subject_id)]
