"""A resident's messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, Field

from ...db.models import Notification
from ..deps import MAX_ID
from .common import WHEN

NotificationId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[12])]
UnreadOnly = Annotated[bool, Query(description="Only those not read yet", examples=[True])]


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
    created_at: datetime = Field(examples=[WHEN])
    read_at: datetime | None = Field(examples=[None])

    @classmethod
    def of(cls, notification: Notification) -> NotificationPublic:
        return cls(
            id=notification.id,
            kind=notification.kind,
            message_nl=notification.message_nl,
            message_en=notification.message_en,
            task_id=notification.task_id,
            activity_id=notification.activity_id,
            created_at=notification.created_at,
            read_at=notification.read_at,
        )
