"""The activity catalogue: the municipality's guidelines, activities on its terms, and residents'
suggestions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from fastapi import Path, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Activity, Programme
from ...domain.activities import GUIDELINES, MAX_TASK_DAYS, MIN_TASK_DAYS, Terms
from ..deps import MAX_ID
from .common import COIN, WHEN, Create, rows_by

ActivityId = Annotated[int, Path(ge=1, le=MAX_ID, description="The activity's number", examples=[4])]
ActivityStatusQuery = Annotated[
    Literal["active", "suggested", "rejected"] | None,
    Query(description="Only activities with this status", examples=["active"]),
]

Unit = Literal["hour", "task"]
TITLE_EXAMPLE = "Buurtmoestuin onderhouden"
DESCRIPTION_EXAMPLE = "Wieden, water geven en oogsten in de moestuin aan de Slijpsteenstraat."


class GuidelinePublic(BaseModel):
    unit: Unit = Field(examples=["hour"])
    min_value_cents: int = Field(description="Least social value per unit", examples=[500])
    max_value_cents: int = Field(description="Most social value per unit", examples=[2500])
    max_units_per_month: int = Field(description="Highest cap per resident per month", examples=[40])


class GuidelinesPublic(BaseModel):
    units: list[GuidelinePublic]
    min_task_days: int = Field(examples=[MIN_TASK_DAYS])
    max_task_days: int = Field(examples=[MAX_TASK_DAYS])

    @classmethod
    def current(cls) -> GuidelinesPublic:
        return cls(
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

    def terms(self, area: str | None) -> Terms:
        """The terms for the domain; `area` None keeps a suggestion's area."""
        return Terms(
            programme_id=self.programme_id,
            organisation_id=self.organisation_id,
            value_cents_per_unit=self.value_cents_per_unit,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            task_days=self.task_days,
            cap_units_per_month=self.cap_units_per_month,
            area=area,
        )


class ActivityCreate(ActivityTerms):
    title: str = Field(min_length=3, max_length=200, examples=[TITLE_EXAMPLE])
    description: str = Field(min_length=3, max_length=5000, examples=[DESCRIPTION_EXAMPLE])
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


class ActivityPublic(BaseModel):
    id: int = Field(examples=[4])
    title: str = Field(examples=[TITLE_EXAMPLE])
    description: str = Field(examples=[DESCRIPTION_EXAMPLE])
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
    def many(cls, session: Session, activities: list[Activity]) -> list[Self]:
        """The activities with their programmes' coins (a suggestion has no programme yet)."""
        programmes = rows_by(session, Programme, Programme.id, (a.programme_id for a in activities))
        return [
            cls(
                id=activity.id,
                title=activity.title,
                description=activity.description,
                unit=activity.unit,
                status=activity.status,
                area=activity.area,
                programme_id=activity.programme_id,
                coin=programmes[activity.programme_id].coin if activity.programme_id else None,
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
            for activity in activities
        ]

    @classmethod
    def of(cls, session: Session, activity: Activity) -> Self:
        return cls.many(session, [activity])[0]


class SuggestionCreate(Create):
    title: str = Field(min_length=3, max_length=200, examples=["Boodschappen voor buren"])
    description: str = Field(
        min_length=10,
        max_length=5000,
        examples=["Eén keer per week boodschappen doen voor oudere buren in de straat."],
    )
    unit: Unit = Field(description="Paid per hour or per task", examples=["task"])


class MySuggestion(BaseModel):
    id: int = Field(examples=[21])
    title: str = Field(examples=["Boodschappen voor buren"])
    description: str = Field(examples=["Eén keer per week boodschappen doen voor oudere buren in de straat."])
    unit: Unit = Field(examples=["task"])
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
