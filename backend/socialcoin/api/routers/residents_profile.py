"""A resident's own page: their profile and wallet, their messages, and changing their PIN.

Every route here reads the resident from the token: there is no way to name another resident."""

from __future__ import annotations

from fastapi import APIRouter

from ...domain import people
from ..deps import CurrentResident, ResidentUser, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.auth import PinChange
from ..schemas.common import TOO_MANY, HistoryLimit
from ..schemas.notifications import NotificationId, NotificationPublic, UnreadOnly
from ..schemas.residents import ResidentPublic

router = APIRouter(prefix="/residents/me", tags=["residents"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=ResidentPublic, summary="My profile, wallet and registration")
def my_profile(resident: CurrentResident, session: SessionDep) -> ResidentPublic:
    return ResidentPublic.of(session, resident)


@router.get("/notifications", response_model=list[NotificationPublic], summary="My messages, newest first")
def my_notifications(
    principal: ResidentUser, session: SessionDep, unread_only: UnreadOnly = False, limit: HistoryLimit = 100
) -> list[NotificationPublic]:
    found = people.notifications_of(session, principal.subject, unread_only=unread_only, limit=limit)
    return [NotificationPublic.of(n) for n in found]


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationPublic,
    summary="Mark one of my messages read",
    description="Marking it again keeps the first time. Another resident's message is not found (404).",
)
def mark_read(
    notification_id: NotificationId, principal: ResidentUser, session: WriteSessionDep
) -> NotificationPublic:
    return NotificationPublic.of(people.mark_notification_read(session, principal.subject, notification_id))


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
