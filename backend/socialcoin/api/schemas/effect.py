"""The effect report for the municipality: the figures of a period per wijk, and a comparison."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from ...domain.effect import Change, Comparison, EffectReport, Figures, figures_as_dict
from ..deps import MAX_ID

MonthQuery = Annotated[
    str | None, Query(description="A calendar month (or give from and to)", examples=["2026-11"])
]
FromQuery = Annotated[
    date | None, Query(alias="from", description="First day (Europe/Amsterdam)", examples=["2026-11-01"])
]
ToQuery = Annotated[
    date | None, Query(description="Day after the last (not included)", examples=["2026-12-01"])
]
CompareMonthQuery = Annotated[
    str | None, Query(description="A month to compare with, e.g. before the start", examples=["2026-10"])
]
CompareFromQuery = Annotated[date | None, Query(description="First day of the period to compare with")]
CompareToQuery = Annotated[date | None, Query(description="Day after the last of the period to compare with")]
AreaQuery = Annotated[str | None, Query(description="Only this wijk", examples=["WK020201"])]
ProgrammeQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only this programme's activities, rewards and coin")
]


class FiguresOut(BaseModel):
    residents: int = Field(description="Residents with coins minted for them or a confirmed spend")
    hours: int = Field(description="Hours of minted claims and rewards (activities paid per hour)")
    tasks: int = Field(description="Tasks of minted claims and rewards (activities paid per task)")
    social_value_cents: int = Field(description="Minted for verified activities and rewards")
    coins_earned_cents: int = Field(description="Every mint to residents on chain, grants included")
    spent_locally_cents: int = Field(description="Payments to merchants within the coin's area, less refunds")
    services_cents: int = Field(description="Paid service orders")
    debts_settled_cents: int = Field(description="Confirmed debt settlements")
    debt_residents: int = Field(description="Residents who paid off anything")
    debt_reduced_mean_cents: int
    debt_reduced_median_cents: int
    merchants_reached: int = Field(description="Distinct merchants paid")

    @classmethod
    def of(cls, figures: Figures) -> FiguresOut:
        return cls(**figures_as_dict(figures))


class AreaOut(BaseModel):
    area: str = Field(examples=["WK020201"])
    figures: FiguresOut


class ReportOut(BaseModel):
    start: date = Field(description="First day")
    end: date = Field(description="Day after the last")
    before_start: bool = Field(description="The period ended before the programme began (a baseline)")
    programme_start: datetime | None
    areas: list[AreaOut]
    total: FiguresOut

    @classmethod
    def of(cls, report: EffectReport) -> ReportOut:
        return cls(
            start=report.period.start,
            end=report.period.end,
            before_start=report.before_start,
            programme_start=report.programme_start,
            areas=[AreaOut(area=a, figures=FiguresOut.of(f)) for a, f in report.areas.items()],
            total=FiguresOut.of(report.total),
        )


class ChangeOut(BaseModel):
    figure: str
    earlier: int
    later: int
    difference: int
    percent: float | None = Field(description="Of the earlier value; null when that was 0")

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        return cls(
            figure=change.figure,
            earlier=change.earlier,
            later=change.later,
            difference=change.difference,
            percent=change.percent,
        )


class AreaChangesOut(BaseModel):
    area: str
    changes: list[ChangeOut]


class ComparisonOut(BaseModel):
    earlier: ReportOut
    areas: list[AreaChangesOut]
    total: list[ChangeOut]


class EffectOut(BaseModel):
    programme_id: int | None
    area: str | None
    report: ReportOut
    comparison: ComparisonOut | None = Field(description="With compare_month or compare_from/compare_to")

    @classmethod
    def of(cls, report: EffectReport, comparison: Comparison | None) -> EffectOut:
        return cls(
            programme_id=report.programme_id,
            area=report.area,
            report=ReportOut.of(report),
            comparison=None
            if comparison is None
            else ComparisonOut(
                earlier=ReportOut.of(comparison.earlier),
                areas=[
                    AreaChangesOut(area=a, changes=[ChangeOut.of(c) for c in found])
                    for a, found in comparison.areas.items()
                ],
                total=[ChangeOut.of(c) for c in comparison.total],
            ),
        )
