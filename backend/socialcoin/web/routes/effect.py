"""The municipality's portal: the effect report (/gemeente/effect), the page beside GET
/municipality/reports/effect (api/routers/municipality_reports.py): the same role (admins and debt
counsellors), the same domain functions, the same refusals named at their field; the PDF and the CSV are
the API's files."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...api.deps import SessionDep
from ...db.models import Programme
from ...db.types import utcnow
from ...domain import effect, effect_files
from ...domain.errors import DomainError, InvalidInput
from .. import pages

router = pages.page_router(prefix="/gemeente")
# The form's fields, by the names the domain gives them.
FORM_FIELDS = {"month": "maand", "compare_month": "vergelijk", "area": "wijk", "programme_id": "programma"}


def _asked(
    session: Session, maand: str, vergelijk: str, wijk: str, programma: str
) -> tuple[effect.EffectReport, effect.Comparison | None, Programme | None]:
    period = effect.month(maand, "month")
    earlier = effect.month(vergelijk, "compare_month") if vergelijk.strip() else None
    if programma.strip() and not programma.strip().isdigit():
        raise InvalidInput(
            "programme_invalid", "Kies een programma.", "Choose a programme.", field="programme_id"
        )
    programme_id = int(programma) if programma.strip() else None
    report, comparison = effect.report_and_comparison(
        session, period, earlier, programme_id=programme_id, area=wijk or None
    )
    return report, comparison, session.get(Programme, programme_id) if programme_id else None


@router.get("/effect")
def effect_page(
    request: Request,
    _: pages.StaffPage,
    session: SessionDep,
    maand: str | None = None,
    vergelijk: str = "",
    wijk: str = "",
    programma: str = "",
) -> Response:
    """GET /municipality/reports/effect: this month's figures unless another is asked."""
    typed = {
        "maand": maand if maand is not None else f"{utcnow().astimezone(effect.TIME_ZONE):%Y-%m}",
        "vergelijk": vergelijk,
        "wijk": wijk,
        "programma": programma,
    }
    context: dict[str, Any] = {
        "typed": typed,
        "programmes": session.scalars(select(Programme).order_by(Programme.name)).all(),
        "figures": effect.FIGURES,
        "money": {name for name in effect.FIGURES if name.endswith("_cents")},
    }
    try:
        report, comparison, _programme = _asked(session, **typed)
    except DomainError as error:
        return pages.render(
            request,
            "municipality/effect.html",
            status_code=error.status,
            fault_field=FORM_FIELDS.get(error.field or "", "maand"),
            fault=pages.message(error, pages.language_of(request)),
            report=None,
            **context,
        )
    query = urlencode({k: v for k, v in typed.items() if v})
    return pages.render(
        request,
        "municipality/effect.html",
        report=report,
        comparison=comparison,
        query=query,
        fault_field=None,
        **context,
    )


def _file(request: Request, session: Session, kind: str, typed: dict[str, str]) -> Response:
    try:
        report, comparison, programme = _asked(session, **typed)
    except DomainError as error:
        return pages.with_page_headers(
            request, Response(pages.message(error, pages.language_of(request)), status_code=error.status)
        )
    name = f"effectmeting-{report.period.start:%Y-%m}.{kind}"
    if kind == "pdf":
        content: str | bytes = effect_files.effect_pdf(
            report, comparison, programme=programme.name if programme else None
        )
        media_type = "application/pdf"
    else:
        content, media_type = effect_files.effect_csv(report, comparison), "text/csv; charset=utf-8"
    return pages.with_page_headers(
        request,
        Response(
            content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        ),
    )


@router.get("/effect.{kind}")
def effect_file(
    request: Request,
    kind: Literal["pdf", "csv"],
    _: pages.StaffPage,
    session: SessionDep,
    maand: str = "",
    vergelijk: str = "",
    wijk: str = "",
    programma: str = "",
) -> Response:
    """GET /municipality/reports/effect.pdf and .csv."""
    return _file(
        request,
        session,
        kind,
        {"maand": maand, "vergelijk": vergelijk, "wijk": wijk, "programma": programma},
    )
