"""Tasks: an activity assigned to a resident, as the resident, the municipality and the organisation
that attests it see it, and the proof the resident uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from ...db.enums import TaskStatus
from ...db.models import Activity, Claim, Programme, Resident, Task
from ...domain import tasks
from ...domain.errors import InvalidInput
from ..deps import MAX_ID
from .activities import DESCRIPTION_EXAMPLE, TITLE_EXAMPLE, Unit
from .common import COIN, HASH, WHEN, Create, rows_by

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's number", examples=[17])]
TaskStatusQuery = Annotated[
    TaskStatus | None, Query(description="Only with this status", examples=["finished"])
]
AttestableStatusQuery = Annotated[
    TaskStatus | None, Query(description="finished: waiting for an attestation", examples=["finished"])
]
ResidentQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only this resident's", examples=[12])
]
ActivityQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only this activity's", examples=[4])
]
# The resident's finished task: a multipart form, which the route reads itself once the token is checked
# (FastAPI reads File and Form parameters before it checks anything), so it is documented here by hand.
FINISH_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["units", "evidence"],
                    "properties": {
                        "units": {
                            "type": "integer",
                            "minimum": 1,
                            "description": "Hours or tasks done",
                            "examples": [3],
                        },
                        "evidence": {
                            "type": "string",
                            "format": "binary",
                            "description": "A photo or a PDF that shows the work",
                        },
                    },
                }
            }
        },
    }
}


async def finished_form(request: Request) -> tuple[int, UploadFile, FormData]:
    """(units, the proof, the form to close) from the finish form; streamed up to the route's limit."""
    form = await request.form(max_files=1, max_fields=1)
    units, evidence = form.get("units"), form.get("evidence")
    if not isinstance(evidence, UploadFile):
        await form.close()
        raise InvalidInput(
            "evidence_missing",
            "Voeg het bewijs toe: een foto of een PDF (veld 'evidence').",
            "Attach the proof: a photo or a PDF (field 'evidence').",
            field="evidence",
        )
    if not isinstance(units, str) or not units.strip().isdigit():
        await form.close()
        raise InvalidInput(
            "units_invalid",
            "Vul in hoeveel u deed: een heel getal, minstens 1 (veld 'units').",
            "Say how much you did: a whole number, at least 1 (field 'units').",
            field="units",
        )
    return int(units), evidence, form


EVIDENCE_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/jpeg": {}, "image/png": {}, "application/pdf": {}},
        "description": "The file as uploaded",
    }
}

# A task's status in answers: spelled out there, where the filters above name the TaskStatus schema.
TaskState = Literal["assigned", "started", "finished", "attested", "approved", "minted", "rejected", "failed"]
DUE = "2026-03-16T09:30:00Z"
STARTED = "2026-03-03T10:00:00Z"
FINISHED = "2026-03-05T16:00:00Z"


class TaskAssignment(Create):
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    resident_ids: list[int] = Field(
        min_length=1, max_length=500, description="One task for each resident", examples=[[12, 13]]
    )


class TaskPublic(BaseModel):
    id: int = Field(examples=[17])
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    activity_title: str = Field(examples=[TITLE_EXAMPLE])
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[12])
    status: TaskState = Field(examples=["finished"])
    opens_at: datetime = Field(description="When the task can start", examples=[WHEN])
    due_at: datetime = Field(description="When the task must be finished", examples=[DUE])
    remaining_seconds: int = Field(description="Until due_at; 0 when due", examples=[86_400])
    reminder_sent_at: datetime | None = Field(examples=[None])
    started_at: datetime | None = Field(examples=[STARTED])
    finished_at: datetime | None = Field(examples=[FINISHED])
    units: int | None = Field(description="Hours or tasks done, as the resident reported", examples=[3])
    amount_cents: int | None = Field(description="units x value per unit", examples=[3000])
    evidence_name: str | None = Field(examples=["moestuin.jpg"])
    evidence_hash: str | None = Field(description="SHA-256 of the proof; goes on chain", examples=[HASH])

    @classmethod
    def many(cls, session: Session, found: list[Task]) -> list[Self]:
        activities = rows_by(session, Activity, Activity.id, (t.activity_id for t in found))
        return [
            cls(
                id=task.id,
                activity_id=task.activity_id,
                activity_title=activities[task.activity_id].title,
                resident_id=task.resident_id,
                status=task.status,
                opens_at=task.opens_at,
                due_at=task.due_at,
                remaining_seconds=tasks.remaining_seconds(task),
                reminder_sent_at=task.reminder_sent_at,
                started_at=task.started_at,
                finished_at=task.finished_at,
                units=task.units,
                amount_cents=tasks.reward_cents(task, activities[task.activity_id]),
                evidence_name=task.evidence_name,
                evidence_hash=task.evidence_hash,
            )
            for task in found
        ]


class OrganisationTask(BaseModel):
    id: int = Field(examples=[17])
    activity_id: int = Field(ge=1, le=MAX_ID, examples=[4])
    activity_title: str = Field(examples=[TITLE_EXAMPLE])
    resident_name: str = Field(description="Who did it", examples=["Eva de Vries"])
    status: TaskState = Field(description="finished: waiting for your attestation", examples=["finished"])
    due_at: datetime = Field(examples=[DUE])
    finished_at: datetime | None = Field(examples=[FINISHED])
    units: int | None = Field(description="Hours or tasks done, as the resident reported", examples=[3])
    amount_cents: int | None = Field(description="units x value per unit", examples=[3000])
    evidence_name: str | None = Field(examples=["moestuin.jpg"])
    evidence_hash: str | None = Field(description="SHA-256 of the proof", examples=[HASH])

    @classmethod
    def many(cls, session: Session, found: list[Task]) -> list[Self]:
        activities = rows_by(session, Activity, Activity.id, (t.activity_id for t in found))
        residents = rows_by(session, Resident, Resident.id, (t.resident_id for t in found))
        return [
            cls(
                id=task.id,
                activity_id=task.activity_id,
                activity_title=activities[task.activity_id].title,
                resident_name=residents[task.resident_id].name,
                status=task.status,
                due_at=task.due_at,
                finished_at=task.finished_at,
                units=task.units,
                amount_cents=tasks.reward_cents(task, activities[task.activity_id]),
                evidence_name=task.evidence_name,
                evidence_hash=task.evidence_hash,
            )
            for task in found
        ]


class MyActivity(BaseModel):
    id: int = Field(examples=[4])
    title: str = Field(examples=[TITLE_EXAMPLE])
    description: str = Field(examples=[DESCRIPTION_EXAMPLE])
    unit: Unit = Field(examples=["hour"])
    value_cents_per_unit: int = Field(description="What one hour or task earns, in cents", examples=[1000])
    cap_units_per_month: int = Field(description="Most units paid per month", examples=[8])
    coin: str = Field(description="The coin it pays in", examples=[COIN])


class MyTask(BaseModel):
    id: int = Field(examples=[17])
    activity: MyActivity
    status: TaskState = Field(
        description="assigned → started → finished (with proof) → attested (by the organisation) → approved "
        "(by the municipality) → minted; or rejected, or failed",
        examples=["started"],
    )
    opens_at: datetime = Field(description="From when it can start", examples=[WHEN])
    due_at: datetime = Field(description="When it must be finished", examples=[DUE])
    remaining_seconds: int = Field(description="Time left until due_at; 0 when due", examples=[86_400])
    started_at: datetime | None = Field(examples=[STARTED])
    finished_at: datetime | None = Field(examples=[None])
    units: int | None = Field(description="Hours or tasks done", examples=[None])
    amount_cents: int | None = Field(description="What it earns: units x value per unit", examples=[None])
    evidence_name: str | None = Field(examples=[None])
    evidence_hash: str | None = Field(
        description="SHA-256 of the proof, as it goes on chain", examples=[HASH]
    )
    decision_reason: str | None = Field(description="Why it was not approved, if it was not", examples=[None])

    @classmethod
    def many(cls, session: Session, found: list[Task]) -> list[Self]:
        """The tasks with their activities, the coins those pay in, and the decisions on their claims."""
        activities = rows_by(session, Activity, Activity.id, (t.activity_id for t in found))
        programmes = rows_by(session, Programme, Programme.id, (a.programme_id for a in activities.values()))
        coins = {a.id: programmes[a.programme_id].coin for a in activities.values() if a.programme_id}
        claims = rows_by(session, Claim, Claim.task_id, (t.id for t in found))
        answers = []
        for task in found:
            activity = activities[task.activity_id]
            claim = claims.get(task.id)
            answers.append(
                cls(
                    id=task.id,
                    activity=MyActivity(
                        id=activity.id,
                        title=activity.title,
                        description=activity.description,
                        unit=activity.unit,
                        value_cents_per_unit=activity.value_cents_per_unit,
                        cap_units_per_month=activity.cap_units_per_month,
                        coin=coins[activity.id],
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
                    decision_reason=claim.decision_reason if claim else None,
                )
            )
        return answers

    @classmethod
    def of(cls, session: Session, task: Task) -> Self:
        return cls.many(session, [task])[0]
