"""The council's effect report (admins and debt counsellors): the figures of a period per wijk and programme,
compared with another period if asked, as JSON, CSV and PDF (the same parameters for all three)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from ...db.models import Programme
from ...domain import effect, effect_files
from ..deps import SessionDep, Staff
from ..problems import PROBLEM_RESPONSES
from ..schemas.effect import (
    AreaQuery,
    CompareFromQuery,
    CompareMonthQuery,
    CompareToQuery,
    EffectOut,
    FromQuery,
    MonthQuery,
    ProgrammeQuery,
    ToQuery,
)

router = APIRouter(prefix="/municipality/reports", tags=["municipality"], responses=PROBLEM_RESPONSES)


@dataclass(frozen=True)
class Asked:
    report: effect.EffectReport
    comparison: effect.Comparison | None
    programme: str | None  # its name

    @property
    def filename(self) -> str:
        return f"effectmeting-{self.report.period.start:%Y-%m-%d}"


def asked(
    principal: Staff,
    session: SessionDep,
    month: MonthQuery = None,
    start: FromQuery = None,
    to: ToQuery = None,
    compare_month: CompareMonthQuery = None,
    compare_from: CompareFromQuery = None,
    compare_to: CompareToQuery = None,
    area: AreaQuery = None,
    programme_id: ProgrammeQuery = None,
) -> Asked:
    period = effect.period_of(month, start, to)
    earlier = effect.period_of(compare_month, compare_from, compare_to, prefix="compare_", required=False)
    assert period is not None  # required
    report, comparison = effect.report_and_comparison(
        session, period, earlier, programme_id=programme_id, area=area
    )
    return Asked(report, comparison, _programme_name(session, programme_id))


def _programme_name(session: Session, programme_id: int | None) -> str | None:
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    return programme.name if programme else None


AskedDep = Annotated[Asked, Depends(asked)]


@router.get("/effect", response_model=EffectOut, summary="Effect report: figures per wijk and programme")
def effect_report(found: AskedDep) -> EffectOut:
    return EffectOut.of(found.report, found.comparison)


@router.get(
    "/effect.csv",
    response_class=Response,
    summary="Effect report (CSV)",
    responses={
        200: {"content": {"text/csv": {}}, "description": "A line per wijk and period, the total last"}
    },
)
def effect_report_csv(found: AskedDep) -> Response:
    return Response(
        effect_files.effect_csv(found.report, found.comparison),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}.csv"'},
    )


@router.get(
    "/effect.pdf",
    response_class=Response,
    summary="Effect report (PDF)",
    responses={200: {"content": {"application/pdf": {}}, "description": "The figures to print"}},
)
def effect_report_pdf(found: AskedDep) -> Response:
    return Response(
        effect_files.effect_pdf(found.report, found.comparison, programme=found.programme),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}.pdf"'},
    )
