"""Messages to residents, in Dutch and English: reminders, decisions and payments."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..db.models import Notification
from ..db.types import utcnow
from .errors import NotFound


class Kind:
    TASK_REMINDER = "task_reminder"
    TASK_ASSIGNED = "task_assigned"
    CLAIM_REJECTED = "claim_rejected"
    COINS_MINTED = "coins_minted"
    MINT_FAILED = "mint_failed"
    SUGGESTION_APPROVED = "suggestion_approved"
    SUGGESTION_REJECTED = "suggestion_rejected"


def notify(
    session: Session,
    resident_id: int,
    kind: str,
    nl: str,
    en: str,
    *,
    task_id: int | None = None,
    activity_id: int | None = None,
) -> Notification:
    """Adds a message for a resident, in the caller's transaction."""
    notification = Notification(
        resident_id=resident_id,
        kind=kind,
        message_nl=nl,
        message_en=en,
        task_id=task_id,
        activity_id=activity_id,
    )
    session.add(notification)
    session.flush()
    return notification


def notify_many(session: Session, kind: str, messages: list[tuple[int, str, str, int | None]]) -> None:
    """Adds many messages of one kind, (resident id, Dutch, English, activity id) each, in one insert:
    for batches of thousands (a month's rewards), where `notify` one by one would take seconds."""
    if messages:
        session.execute(
            insert(Notification),
            [
                {
                    "resident_id": resident_id,
                    "kind": kind,
                    "message_nl": nl,
                    "message_en": en,
                    "activity_id": activity_id,
                    "created_at": utcnow(),
                }
                for resident_id, nl, en, activity_id in messages
            ],
        )


def for_resident(session: Session, resident_id: int, *, unread_only: bool = False) -> list[Notification]:
    """The resident's messages, newest first."""
    query = select(Notification).where(Notification.resident_id == resident_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.id.desc())))


def mark_read(session: Session, resident_id: int, notification_id: int) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None or notification.resident_id != resident_id:
        raise NotFound(
            "notification_not_found",
            f"Bericht {notification_id} bestaat niet.",
            f"Notification {notification_id} does not exist.",
            field="notification_id",
        )
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification
