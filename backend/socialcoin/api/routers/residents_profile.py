"""A resident's own page: their profile and wallet, their messages, and changing their PIN.

Every route here reads the resident from the token: there is no way to name another resident."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from ...db.models import Notification
from ...domain import people
from ..deps import MAX_ID, ResidentUser, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM, PROBLEM_RESPONSES, Problem
from .municipality_people import ResidentPublic

router = APIRouter(prefix="/residents/me", tags=["residents"], responses=PROBLEM_RESPONSES)

TOO_MANY = {429: {"model": Problem, "content": {PROBLEM: {}}, "description": "Too many wrong PINs: wait"}}


class NotificationPublic(BaseModel):
    id: int = Field(examples=[12])
    kind: str = Field(examples=["coins_minted"])
    message_nl: str = Field(examples=["U heeft € 25,00 ontvangen voor Buurtmoestuin."])
    message_en: str = Field(examples=["You received € 25,00 for Buurtmoestuin."])
    task_id: int | None = Field(
        ge=1, le=MAX_ID, default=None, description="The task it is about, if any", examples=[3]
    )
    activity_id: int | None = Field(
        ge=1, le=MAX_ID, default=None, description="The activity it is about, if any", examples=[None]
    )
    created_at: datetime = Field(examples=["2026-03-02T09:30:00Z"])
    read_at: datetime | None = Field(examples=[None])

    @classmethod
    def of(cls, notification: Notification) -> NotificationPublic:
        return cls(
            id=notification.id,
            kind=notification.kind,
            message_nl=notification.message_nl,
            message_en=notification.message_en,
            task_id=getattr(notification, "task_id", None),
            activity_id=getattr(notification, "activity_id", None),
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class PinChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_pin: str = Field(min_length=1, max_length=8, examples=["24680"])
    new_pin: str = Field(
        min_length=1, max_length=8, description="5 to 8 digits, not easy to guess", examples=["86420"]
    )


@router.get("", response_model=ResidentPublic, summary="My profile, wallet and registration")
def my_profile(principal: ResidentUser, session: SessionDep) -> ResidentPublic:
    return ResidentPublic.one(session, people.get_resident(session, principal.subject_id or 0))


@router.get("/notifications", response_model=list[NotificationPublic], summary="My messages, newest first")
def my_notifications(
    principal: ResidentUser,
    session: SessionDep,
    unread_only: Annotated[bool, Query(description="Only those not read yet", examples=[True])] = False,
    limit: Annotated[int, Query(ge=1, le=500, examples=[50])] = 100,
) -> list[NotificationPublic]:
    found = people.notifications_of(session, principal.subject_id, unread_only=unread_only, limit=limit)
    return [NotificationPublic.of(n) for n in found]


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationPublic,
    summary="Mark one of my messages read",
    description="Marking it again keeps the first time. Another resident's message is not found (404).",
)
def mark_read(
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[12])],
    principal: ResidentUser,
    session: WriteSessionDep,
) -> NotificationPublic:
    return NotificationPublic.of(
        people.mark_notification_read(session, principal.subject_id, notification_id)
    )


@router.post(
    "/pin",
    status_code=204,
    responses=TOO_MANY,
    summary="Change my PIN",
    description="Needs the current PIN. The wallet the service keeps is encrypted again under the new PIN, "
    "and every other session of the resident is signed out.",
)
def change_pin(body: PinChange, principal: ResidentUser, session: SessionDep, runtime: RuntimeDep) -> None:
    people.change_pin(session, runtime.settings, principal, body.current_pin, body.new_pin)
