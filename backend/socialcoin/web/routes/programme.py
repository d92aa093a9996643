"""The municipality's portal, the programme's side: activities and suggestions, claims, debts, services,
payouts, budgets.

Each route stands beside an API route (api/routers/municipality_programmes.py, municipality_money.py) and
does what it does:
- **the same role**: `StaffPage` where the API lets admins and debt counsellors in, `AdminPage` where only
  admins; a debt counsellor on an admin's page is refused as the API refuses them (403, role_not_allowed),
  not sent to sign in again;
- **the same checks**: what was typed is read (amounts such as "12,50", dates, whole numbers), then checked
  with the API's own request schema, then the same domain function is called with the same arguments, in
  one transaction (nothing half-done);
- a form that is refused comes back with what was typed, each problem named at its field, and the API's
  status code; one that succeeds answers 303 to where its result shows.

No text a person reads is written here: a domain refusal carries its own Dutch and English, and the form's
own checks are named by a code the templates write out from the catalogue (programme/macros.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Form, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ...api.deps import MAX_ID, RuntimeDep, SessionDep
from ...api.schemas.activities import ActivityCreate, ActivityId, ActivityPublic, SuggestionApproval
from ...api.schemas.claims import ClaimId, ClaimPublic
from ...api.schemas.common import Rejection, rows_by
from ...api.schemas.debts import CaseId, DebtCaseCreate, DebtCasePublic
from ...api.schemas.payouts import BatchId, PayoutBatchCreate, PayoutBatchPublic, PayoutPublic
from ...api.schemas.programmes import BudgetsPublic, BudgetUpdate, ProgrammeCreate, ProgrammeId
from ...api.schemas.services import OrderPublic, ServiceCreate, ServiceId, ServicePublic, ServiceUpdate
from ...api.schemas.tasks import TaskAssignment, TaskId, TaskPublic
from ...chain.constants import Purpose
from ...db.base import writing
from ...db.models import Activity, Claim, Merchant, Organisation, Resident, Task
from ...domain import activities, claims, debts, payouts, people, programmes, reports, services, tasks
from ...domain.access import Principal, Role
from ...domain.activities import GUIDELINES, MAX_TASK_DAYS, MIN_TASK_DAYS
from ...domain.admission_batch import residents_by_case_number
from ...domain.coins import catalogue
from ...domain.errors import DomainError
from ...runtime import Runtime
from .. import pages
from ..i18n import TIME_ZONE, Formats, parse_euro

router = pages.page_router(prefix="/gemeente")

ModelT = TypeVar("ModelT", bound=BaseModel)
LIST_LIMIT = 100
ZONE = ZoneInfo(TIME_ZONE)


# --------------------------------------------------------------------------------------------------
# Roles: as the API's
# --------------------------------------------------------------------------------------------------


def _is_admin(principal: Principal) -> bool:
    return principal.role == Role.ADMIN


# --------------------------------------------------------------------------------------------------
# A form's problems
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a form: at `field` (None: the form as a whole). Either a domain refusal's
    `text` (already in the page's language) or a `code` the template writes out, with its `limit` (an
    amount in cents when `euro`) or the `value` at fault."""

    field: str | None
    text: str | None = None
    code: str | None = None
    limit: int | str | None = None
    euro: bool = False
    value: str | None = None


class FormRefused(Exception):
    def __init__(self, status: int, problems: Sequence[Problem]):
        super().__init__(status)
        self.status, self.problems = status, list(problems)


def refused_by_domain(request: Request, error: DomainError, fields: Mapping[str, str | None]) -> FormRefused:
    """A domain refusal, named at the form's field for the API field it names (when the form has it)."""
    field = fields.get(error.field) if error.field else None
    return FormRefused(error.status, [Problem(field, text=pages.message(error, pages.language_of(request)))])


_LIMITS = ("min_length", "max_length", "gt", "ge", "lt", "le")


def checked(
    model: type[ModelT], fields: Mapping[str, str | None], reading: Reading | None = None, /, **values: Any
) -> ModelT:
    """The values checked by the API's own request schema, its refusals named at the form's fields, together
    with what could not be read (`reading`; its fields are not refused twice)."""
    earlier = list(reading.problems) if reading is not None else []
    refused = {problem.field for problem in earlier}
    try:
        result = model(**values)
    except ValidationError as exc:
        problems = earlier
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            context = error.get("ctx") or {}
            limit = next((context[key] for key in _LIMITS if key in context), None)
            empty = isinstance(error.get("input"), str) and not str(error.get("input")).strip()
            problem = Problem(
                fields.get(name),
                code="missing" if empty and error["type"] == "string_too_short" else error["type"],
                limit=limit if isinstance(limit, int | str) else None,
                euro=name.endswith("_cents"),
            )
            if problem.field not in refused:
                problems.append(problem)
        raise FormRefused(422, problems) from None
    if earlier:
        raise FormRefused(422, earlier)
    return result


class Reading:
    """What a person typed, read into numbers and dates; each thing that cannot be read is a problem."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def cents(self, field: str, text: str) -> int | None:
        """An amount as typed ("12,50", "€ 12", "-5"); a minus sign is read, for the checks to refuse."""
        text = text.strip()
        if not text:
            self.problems.append(Problem(field, code="missing"))
            return None
        negative = text.startswith(("-", "−"))
        cents = parse_euro(text[1:] if negative else text)
        if cents is None:
            self.problems.append(Problem(field, code="not_an_amount", value=text))
            return None
        return -cents if negative else cents

    def whole(self, field: str, text: str) -> int | None:
        text = text.strip()
        if not text:
            self.problems.append(Problem(field, code="missing"))
            return None
        if not re.fullmatch(r"-?\d{1,12}", text):
            self.problems.append(Problem(field, code="not_a_whole_number", value=text))
            return None
        return int(text)

    def choice(self, field: str, text: str) -> int | None:
        """A number chosen from a list (a programme, an organisation)."""
        if not re.fullmatch(r"\d{1,10}", text.strip()) or not 1 <= int(text) <= MAX_ID:
            self.problems.append(Problem(field, code="choose"))
            return None
        return int(text)

    def day(self, field: str, text: str, required: bool = True) -> date | None:
        text = text.strip()
        if not text:
            if required:
                self.problems.append(Problem(field, code="missing"))
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.problems.append(Problem(field, code="not_a_date", value=text))
            return None

    def done(self) -> None:
        if self.problems:
            raise FormRefused(422, self.problems)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), ZONE)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59), ZONE)


# --------------------------------------------------------------------------------------------------
# Activities and suggestions
# --------------------------------------------------------------------------------------------------

ACTIVITY_STATUSES = ("active", "suggested", "rejected")
# The API's fields (and the domain's) -> the form's.
TERMS_FIELDS: dict[str, str | None] = {
    "title": "title",
    "description": "description",
    "unit": "unit",
    "area": "area",
    "programme_id": "programme_id",
    "organisation_id": "organisation_id",
    "value_cents_per_unit": "value",
    "starts_on": "starts_on",
    "ends_on": "ends_on",
    "task_days": "task_days",
    "cap_units_per_month": "cap_units_per_month",
}


class ActivityForm(BaseModel):
    """An activity's fields as typed (a suggestion's approval fills in the same)."""

    title: str = ""
    description: str = ""
    unit: str = ""
    area: str = ""
    programme_id: str = ""
    organisation_id: str = ""
    value: str = ""
    starts_on: str = ""
    ends_on: str = ""
    task_days: str = ""
    cap_units_per_month: str = ""


def _new_activity_form() -> ActivityForm:
    today = datetime.now(ZONE).date()
    return ActivityForm(starts_on=today.isoformat(), task_days="14")


def _terms_read(form: ActivityForm, reading: Reading) -> dict[str, Any]:
    """The terms' fields as the API's schema takes them."""
    starts_on, ends_on = reading.day("starts_on", form.starts_on), reading.day("ends_on", form.ends_on)
    values = {
        "programme_id": reading.choice("programme_id", form.programme_id),
        "organisation_id": reading.choice("organisation_id", form.organisation_id),
        "value_cents_per_unit": reading.cents("value", form.value),
        "starts_on": _start_of(starts_on) if starts_on else None,
        "ends_on": _end_of(ends_on) if ends_on else None,
        "task_days": reading.whole("task_days", form.task_days),
        "cap_units_per_month": reading.whole("cap_units_per_month", form.cap_units_per_month),
    }
    return values


def _activity_choices(session: Session) -> dict[str, Any]:
    """What the activity form offers: programmes (with their coins), organisations, the guidelines."""
    coins = catalogue(session)
    return {
        "programme_options": [
            (p.id, f"{p.name} ({coins.symbol(p.coin, p.coin)})") for p in programmes.list_programmes(session)
        ],
        "organisation_options": [(o.id, o.name) for o in people.list_organisations(session, limit=500)],
        "guidelines": GUIDELINES,
        "min_task_days": MIN_TASK_DAYS,
        "max_task_days": MAX_TASK_DAYS,
    }


@router.get("/activiteiten")
def activity_list(
    request: Request, principal: pages.StaffPage, session: SessionDep, status: str = "active"
) -> Response:
    status = status if status in ACTIVITY_STATUSES else "active"
    every = activities.list_activities(session)
    shown = ActivityPublic.many(session, [a for a in every if a.status == status])
    coins = catalogue(session)
    return pages.render(
        request,
        "programme/activities.html",
        status=status,
        counts={s: sum(1 for a in every if a.status == s) for s in ACTIVITY_STATUSES},
        activities=shown,
        symbols={a.id: coins.symbol(a.coin, "") for a in shown if a.coin},
        organisations=rows_by(session, Organisation, Organisation.id, (a.organisation_id for a in shown)),
        residents=rows_by(session, Resident, Resident.id, (a.suggested_by for a in shown)),
        is_admin=_is_admin(principal),
    )


def _new_activity_page(
    request: Request,
    session: Session,
    form: ActivityForm,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
) -> Response:
    return pages.render(
        request,
        "programme/activity_new.html",
        status_code=status_code,
        form=form,
        problems=list(problems),
        **_activity_choices(session),
    )


@router.get("/activiteiten/nieuw")
def new_activity_page(request: Request, _: pages.AdminPage, session: SessionDep) -> Response:
    return _new_activity_page(request, session, _new_activity_form())


@router.post("/activiteiten/nieuw")
def create_activity(
    request: Request, _: pages.AdminPage, session: SessionDep, form: Annotated[ActivityForm, Form()]
) -> Response:
    """POST /municipality/activities."""
    try:
        reading = Reading()
        body = checked(
            ActivityCreate,
            TERMS_FIELDS,
            reading,
            title=form.title,
            description=form.description,
            unit=form.unit,
            area=form.area.strip(),
            **_terms_read(form, reading),
        )
        with writing(session):
            activity = activities.create_activity(
                session,
                title=body.title,
                description=body.description,
                unit=body.unit,
                terms=body.terms(body.area),
            )
            activity_id = activity.id
    except DomainError as error:
        return _new_activity_page(
            request, session, form, error.status, refused_by_domain(request, error, TERMS_FIELDS).problems
        )
    except FormRefused as refusal:
        return _new_activity_page(request, session, form, refusal.status, refusal.problems)
    return pages.redirect(request, f"/gemeente/activiteiten/{activity_id}?klaar=created")


class AssignForm(BaseModel):
    case_numbers: str = ""


class RejectForm(BaseModel):
    reason: str = ""


ASSIGN_FIELDS: dict[str, str | None] = {"resident_ids": "case_numbers"}
REASON_FIELDS: dict[str, str | None] = {"reason": "reason"}


def _activity_page(
    request: Request,
    session: Session,
    principal: Principal,
    activity_id: ActivityId,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    assign_form: AssignForm | None = None,
    terms_form: ActivityForm | None = None,
    reject_form: RejectForm | None = None,
    done: str | None = None,
    assigned: int = 0,
) -> Response:
    activity = activities.get_activity(session, activity_id, field=None)
    shown = ActivityPublic.of(session, activity)
    found = tasks.list_tasks(session, activity_id=activity.id) if activity.status == "active" else []
    task_rows = TaskPublic.many(session, found)
    if terms_form is None:
        terms_form = ActivityForm(
            title=activity.title,
            description=activity.description,
            unit=activity.unit,
            area=activity.area,
            starts_on=datetime.now(ZONE).date().isoformat(),
            task_days="14",
        )
    return pages.render(
        request,
        "programme/activity.html",
        status_code=status_code,
        activity=shown,
        symbol=catalogue(session).symbol(shown.coin, "") if shown.coin else "",
        organisation=session.get(Organisation, activity.organisation_id)
        if activity.organisation_id
        else None,
        suggested_by=session.get(Resident, activity.suggested_by) if activity.suggested_by else None,
        tasks=task_rows,
        residents=rows_by(session, Resident, Resident.id, (t.resident_id for t in task_rows)),
        problems=list(problems),
        assign_form=assign_form or AssignForm(),
        form=terms_form,
        reject_form=reject_form or RejectForm(),
        is_admin=_is_admin(principal),
        done=done,
        assigned=assigned,
        **_activity_choices(session),
    )


@router.get("/activiteiten/{activity_id}")
def activity_page(
    request: Request,
    principal: pages.StaffPage,
    session: SessionDep,
    activity_id: ActivityId,
    klaar: str | None = None,
    toegewezen: int = 0,
) -> Response:
    return _activity_page(request, session, principal, activity_id, done=klaar, assigned=toegewezen)


def _case_numbers(text: str) -> list[str]:
    """Case numbers as typed: one per line, or separated by commas or semicolons."""
    return list(dict.fromkeys(part.strip() for part in re.split(r"[\n,;]", text) if part.strip()))


@router.post("/activiteiten/{activity_id}/taken")
def assign_task(
    request: Request,
    principal: pages.StaffPage,
    session: SessionDep,
    activity_id: ActivityId,
    form: Annotated[AssignForm, Form()],
) -> Response:
    """POST /municipality/tasks, with residents by case number: all of them or none."""
    case_numbers = _case_numbers(form.case_numbers)
    try:
        if not case_numbers:
            raise FormRefused(422, [Problem("case_numbers", code="missing")])
        with writing(session):
            found = residents_by_case_number(session, case_numbers)
            unknown = [c for c in case_numbers if c not in found]
            if unknown:
                raise FormRefused(
                    422, [Problem("case_numbers", code="case_unknown", value=c) for c in unknown]
                )
            body = checked(
                TaskAssignment,
                ASSIGN_FIELDS,
                activity_id=activity_id,
                resident_ids=[found[c].id for c in case_numbers],
            )
            given = tasks.assign(session, body.activity_id, body.resident_ids)
            count = len(given)
    except DomainError as error:
        return _activity_page(
            request,
            session,
            principal,
            activity_id,
            status_code=error.status,
            problems=refused_by_domain(request, error, ASSIGN_FIELDS).problems,
            assign_form=form,
        )
    except FormRefused as refusal:
        return _activity_page(
            request,
            session,
            principal,
            activity_id,
            status_code=refusal.status,
            problems=refusal.problems,
            assign_form=form,
        )
    return pages.redirect(request, f"/gemeente/activiteiten/{activity_id}?klaar=assigned&toegewezen={count}")


@router.post("/activiteiten/{activity_id}/goedkeuren")
def approve_suggestion(
    request: Request,
    principal: pages.AdminPage,
    session: SessionDep,
    activity_id: ActivityId,
    form: Annotated[ActivityForm, Form()],
) -> Response:
    """POST /municipality/activity-suggestions/{id}/approve: into the catalogue on the municipality's
    terms (a title, description or area left empty keeps the resident's)."""
    try:
        reading = Reading()
        body = checked(
            SuggestionApproval,
            TERMS_FIELDS,
            reading,
            title=form.title.strip() or None,
            description=form.description.strip() or None,
            area=form.area.strip() or None,
            **_terms_read(form, reading),
        )
        with writing(session):
            activities.approve_suggestion(
                session, activity_id, body.terms(body.area), title=body.title, description=body.description
            )
    except DomainError as error:
        refusal = refused_by_domain(request, error, TERMS_FIELDS)
        return _activity_page(
            request,
            session,
            principal,
            activity_id,
            status_code=error.status,
            problems=refusal.problems,
            terms_form=form,
        )
    except FormRefused as refusal:
        return _activity_page(
            request,
            session,
            principal,
            activity_id,
            status_code=refusal.status,
            problems=refusal.problems,
            terms_form=form,
        )
    return pages.redirect(request, f"/gemeente/activiteiten/{activity_id}?klaar=approved")


@router.post("/activiteiten/{activity_id}/afwijzen")
def reject_suggestion(
    request: Request,
    principal: pages.AdminPage,
    session: SessionDep,
    activity_id: ActivityId,
    form: Annotated[RejectForm, Form()],
) -> Response:
    """POST /municipality/activity-suggestions/{id}/reject, with a reason the resident reads."""
    try:
        body = checked(Rejection, REASON_FIELDS, reason=form.reason)
        with writing(session):
            activities.reject_suggestion(session, activity_id, body.reason)
    except DomainError as error:
        return _activity_page(
            request,
            session,
            principal,
            activity_id,
            status_code=error.status,
            problems=refused_by_domain(request, error, REASON_FIELDS).problems,
            reject_form=form,
        )
    except FormRefused as refusal:
        return _activity_page(
            request,
            session,
            principal,
            activity_id,
            status_code=refusal.status,
            problems=refusal.problems,
            reject_form=form,
        )
    return pages.redirect(request, f"/gemeente/activiteiten/{activity_id}?klaar=rejected")


@router.get("/taken/{task_id}/bewijs")
def task_evidence(
    request: Request, _: pages.StaffPage, session: SessionDep, runtime: RuntimeDep, task_id: TaskId
) -> FileResponse:
    """GET /municipality/tasks/{id}/evidence: the proof of a task, as uploaded."""
    path, media_type, name = tasks.evidence_file(
        runtime.settings.evidence_dir, tasks.get_task(session, task_id)
    )
    response = FileResponse(path, media_type=media_type, filename=name)
    pages.with_page_headers(request, response)
    return response


# --------------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------------

CLAIM_STATUSES = ("attested", "approved", "minted", "failed", "rejected")


def _claims_shown(session: Session, found: list[Claim]) -> dict[str, Any]:
    """Claims as the API shows them, with their residents, activities and tasks."""
    shown = ClaimPublic.many(session, found)
    return {
        "claims": shown,
        "residents": rows_by(session, Resident, Resident.id, (c.resident_id for c in shown)),
        "activities": rows_by(session, Activity, Activity.id, (c.activity_id for c in shown)),
        "tasks": rows_by(session, Task, Task.id, (c.task_id for c in shown)),
        "symbols": {coin.address: coin.symbol for coin in catalogue(session)},
        "deadlines": {c.id: datetime.fromtimestamp(c.deadline, UTC) for c in shown},
    }


@router.get("/claims")
def claim_list(
    request: Request, _: pages.AdminPage, session: SessionDep, status: str = "attested"
) -> Response:
    status = status if status in CLAIM_STATUSES else "attested"
    found = claims.list_claims(session, status=status)
    return pages.render(
        request, "programme/claims.html", status=status, problems=[], **_claims_shown(session, found[::-1])
    )


def _claim_page(
    request: Request,
    session: Session,
    claim_id: ClaimId,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    reject_form: RejectForm | None = None,
    done: str | None = None,
) -> Response:
    claim = claims.get_claim(session, claim_id)
    return pages.render(
        request,
        "programme/claim.html",
        status_code=status_code,
        problems=list(problems),
        reject_form=reject_form or RejectForm(),
        done=done,
        **_claims_shown(session, [claim]),
    )


@router.get("/claims/{claim_id}")
def claim_page(
    request: Request, _: pages.AdminPage, session: SessionDep, claim_id: ClaimId, klaar: str | None = None
) -> Response:
    return _claim_page(request, session, claim_id, done=klaar)


@router.post("/claims/{claim_id}/goedkeuren")
def approve_claim(
    request: Request, _: pages.AdminPage, session: SessionDep, runtime: RuntimeDep, claim_id: ClaimId
) -> Response:
    """POST /municipality/claims/{id}/approve: checked, then queued for the outbox to mint."""
    try:
        claims.approve(session, runtime.chain, runtime.keys["minter"], claim_id)
    except DomainError as error:
        if error.code == "claim_not_found":
            raise
        return _claim_page(
            request,
            session,
            claim_id,
            status_code=error.status,
            problems=refused_by_domain(request, error, {}).problems,
        )
    return pages.redirect(request, f"/gemeente/claims/{claim_id}?klaar=approved")


@router.post("/claims/{claim_id}/afwijzen")
def reject_claim(
    request: Request,
    _: pages.AdminPage,
    session: SessionDep,
    claim_id: ClaimId,
    form: Annotated[RejectForm, Form()],
) -> Response:
    """POST /municipality/claims/{id}/reject: a reason is needed, which the resident reads."""
    fields: dict[str, str | None] = {"reason": f"reason-{claim_id}"}
    try:
        body = checked(Rejection, fields, reason=form.reason)
        with writing(session):
            claims.reject(session, claim_id, body.reason)
    except DomainError as error:
        if error.code == "claim_not_found":
            raise
        return _claim_page(
            request,
            session,
            claim_id,
            status_code=error.status,
            problems=refused_by_domain(request, error, fields).problems,
            reject_form=form,
        )
    except FormRefused as refusal:
        return _claim_page(
            request,
            session,
            claim_id,
            status_code=refusal.status,
            problems=refusal.problems,
            reject_form=form,
        )
    return pages.redirect(request, f"/gemeente/claims/{claim_id}?klaar=rejected")


# --------------------------------------------------------------------------------------------------
# Debts
# --------------------------------------------------------------------------------------------------

DEBT_FIELDS: dict[str, str | None] = {
    "resident_id": "case_number",
    "creditor": "creditor",
    "creditor_reference": "creditor_reference",
    "amount_cents": "amount",
}
REPORT_KINDS = ("csv", "pdf")
REPORT_LANGUAGES = ("nl", "en")
CREDITOR_LONGEST = 200  # as the API's CreditorQuery


class DebtForm(BaseModel):
    case_number: str = ""
    creditor: str = ""
    creditor_reference: str = ""
    amount: str = ""


class ReportForm(BaseModel):
    """The settlement report's choices (a GET form: it downloads a file)."""

    schuldeiser: str = ""
    van: str = ""
    tot: str = ""
    taal: str = "nl"
    vorm: str = "csv"


def _debts_page(
    request: Request,
    session: Session,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    debt_form: DebtForm | None = None,
    report_form: ReportForm | None = None,
    status: str = "",
    creditor: str = "",
    case_number: str = "",
    page: int = 1,
) -> Response:
    status = status if status in ("open", "closed") else ""
    resident_id: int | None = None
    if case_number.strip():
        found = residents_by_case_number(session, [case_number.strip()])
        resident_id = found[case_number.strip()].id if found else 0  # 0: no one, so no cases
    cases = debts.list_cases(
        session,
        resident_id=resident_id,
        creditor=creditor or None,
        status=status or None,
        limit=LIST_LIMIT,
        offset=(page - 1) * LIST_LIMIT,
    )
    shown = DebtCasePublic.many(session, cases)
    return pages.render(
        request,
        "programme/debts.html",
        status_code=status_code,
        problems=list(problems),
        debt_form=debt_form or DebtForm(),
        report_form=report_form or ReportForm(),
        cases=shown,
        residents=rows_by(session, Resident, Resident.id, (c.resident_id for c in shown)),
        filters={"status": status, "schuldeiser": creditor, "dossier": case_number},
        page=page,
        more=len(cases) == LIST_LIMIT,
    )


@router.get("/schulden")
def debt_list(
    request: Request,
    _: pages.StaffPage,
    session: SessionDep,
    status: str = "",
    schuldeiser: Annotated[str, Query(max_length=CREDITOR_LONGEST)] = "",
    dossier: Annotated[str, Query(max_length=60)] = "",
    pagina: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    return _debts_page(
        request, session, status=status, creditor=schuldeiser, case_number=dossier, page=pagina
    )


@router.post("/schulden")
def record_debt(
    request: Request, _: pages.StaffPage, session: SessionDep, form: Annotated[DebtForm, Form()]
) -> Response:
    """POST /municipality/debts, with the resident by case number."""
    case_number = form.case_number.strip()
    try:
        reading = Reading()
        amount_cents = reading.cents("amount", form.amount)
        with writing(session):
            found = residents_by_case_number(session, [case_number]) if case_number else {}
            if not case_number:
                reading.problems.insert(0, Problem("case_number", code="missing"))
            elif case_number not in found:
                reading.problems.insert(0, Problem("case_number", code="case_unknown", value=case_number))
            body = checked(
                DebtCaseCreate,
                DEBT_FIELDS,
                reading,
                resident_id=found[case_number].id if case_number in found else None,
                creditor=form.creditor,
                creditor_reference=form.creditor_reference,
                amount_cents=amount_cents,
            )
            case = debts.create_case(
                session,
                resident_id=body.resident_id,
                creditor=body.creditor,
                creditor_reference=body.creditor_reference,
                amount_cents=body.amount_cents,
            )
            case_id = case.id
    except DomainError as error:
        return _debts_page(
            request,
            session,
            status_code=error.status,
            problems=refused_by_domain(request, error, DEBT_FIELDS).problems,
            debt_form=form,
        )
    except FormRefused as refusal:
        return _debts_page(
            request, session, status_code=refusal.status, problems=refusal.problems, debt_form=form
        )
    return pages.redirect(request, f"/gemeente/schulden/{case_id}?klaar=recorded")


@router.get("/schulden/rapport")
def settlement_report(
    request: Request, _: pages.StaffPage, session: SessionDep, form: Annotated[ReportForm, Query()]
) -> Response:
    """GET /municipality/debt-reports/settlements.csv or .pdf: what a creditor was paid, from one day up
    to and including another."""
    creditor = form.schuldeiser.strip()
    reading = Reading()
    if not creditor:
        reading.problems.append(Problem("schuldeiser", code="missing"))
    elif len(creditor) > CREDITOR_LONGEST:
        reading.problems.append(Problem("schuldeiser", code="string_too_long", limit=CREDITOR_LONGEST))
    since, until = reading.day("van", form.van, required=False), reading.day("tot", form.tot, required=False)
    if form.vorm not in REPORT_KINDS or form.taal not in REPORT_LANGUAGES:
        reading.problems.append(Problem(None, code="choose"))
    try:
        reading.done()
    except FormRefused as refusal:
        return _debts_page(
            request, session, status_code=refusal.status, problems=refusal.problems, report_form=form
        )
    lines = debts.settlement_report(
        session,
        creditor,
        since=_start_of(since) if since else None,
        until=_start_of(until + timedelta(days=1)) if until else None,
    )
    if form.vorm == "pdf":
        content: str | bytes = reports.settlement_pdf(
            lines,
            creditor,
            since=_start_of(since) if since else None,
            until=_start_of(until + timedelta(days=1)) if until else None,
        )
        media_type, name = "application/pdf", "afgeloste-schulden.pdf"
    else:
        content = reports.settlement_csv(lines, "en" if form.taal == "en" else "nl")
        media_type, name = "text/csv; charset=utf-8", "afgeloste-schulden.csv"
    return pages.with_page_headers(
        request,
        Response(
            content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        ),
    )


@router.get("/schulden/{case_id}")
def debt_page(
    request: Request, _: pages.StaffPage, session: SessionDep, case_id: CaseId, klaar: str | None = None
) -> Response:
    case = DebtCasePublic.of(session, debts.get_case(session, case_id), with_settlements=True)
    return pages.render(
        request,
        "programme/debt.html",
        case=case,
        resident=session.get(Resident, case.resident_id),
        symbols={coin.address: coin.symbol for coin in catalogue(session)},
        done=klaar,
    )


# --------------------------------------------------------------------------------------------------
# Services and orders
# --------------------------------------------------------------------------------------------------

SERVICE_FIELDS: dict[str, str | None] = {
    "name": "name",
    "description": "description",
    "price_cents": "price",
    "purposes": "purposes",
    "active": "active",
}
ORDER_STATUSES = ("paid", "pending", "failed")
PURPOSES = [p.name for p in Purpose]


class ServiceForm(BaseModel):
    name: str = ""
    description: str = ""
    price: str = ""
    purposes: list[str] = []
    active: str = ""  # a checkbox: sent when ticked


def _service_read(form: ServiceForm, reading: Reading) -> dict[str, Any]:
    price_cents = reading.cents("price", form.price)
    return {
        "name": form.name,
        "description": form.description,
        "price_cents": price_cents,
        "purposes": form.purposes,
        "active": bool(form.active),
    }


def _services_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    form: ServiceForm | None = None,
    order_status: str = "paid",
) -> Response:
    admin = _is_admin(principal)
    orders = services.list_orders(session, status=order_status, limit=LIST_LIMIT) if admin else []
    shown_orders = OrderPublic.many(session, orders)
    return pages.render(
        request,
        "programme/services.html",
        status_code=status_code,
        problems=list(problems),
        services=[ServicePublic.of(s) for s in services.list_services(session)],
        form=form or ServiceForm(active="ja"),
        purposes=PURPOSES,
        orders=shown_orders,
        order_status=order_status,
        residents=rows_by(session, Resident, Resident.id, (o.resident_id for o in shown_orders)),
        symbols={coin.address: coin.symbol for coin in catalogue(session)},
        is_admin=admin,
    )


@router.get("/diensten")
def service_list(
    request: Request, principal: pages.StaffPage, session: SessionDep, bestellingen: str = "paid"
) -> Response:
    order_status = bestellingen if bestellingen in ORDER_STATUSES else "paid"
    return _services_page(request, session, principal, order_status=order_status)


@router.post("/diensten")
def create_service(
    request: Request,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    form: Annotated[ServiceForm, Form()],
) -> Response:
    """POST /municipality/services (asks the chain which purposes may pay for services, then writes)."""
    try:
        reading = Reading()
        body = checked(ServiceCreate, SERVICE_FIELDS, reading, **_service_read(form, reading))
        services.create_service(
            session,
            runtime.chain,
            name=body.name,
            description=body.description,
            price_cents=body.price_cents,
            purposes=body.purposes,
            active=body.active,
        )
    except DomainError as error:
        return _services_page(
            request,
            session,
            principal,
            status_code=error.status,
            problems=refused_by_domain(request, error, SERVICE_FIELDS).problems,
            form=form,
        )
    except FormRefused as refusal:
        return _services_page(
            request, session, principal, status_code=refusal.status, problems=refusal.problems, form=form
        )
    return pages.redirect(request, "/gemeente/diensten?klaar=created")


def _service_page(
    request: Request,
    session: Session,
    service_id: int,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    form: ServiceForm | None = None,
) -> Response:
    service = ServicePublic.of(services.get_service(session, service_id))
    if form is None:
        form = ServiceForm(
            name=service.name,
            description=service.description,
            price=Formats(pages.language_of(request)).euro_number(service.price_cents),
            purposes=service.purposes,
            active="ja" if service.active else "",
        )
    return pages.render(
        request,
        "programme/service.html",
        status_code=status_code,
        problems=list(problems),
        service=service,
        form=form,
        purposes=PURPOSES,
    )


@router.get("/diensten/{service_id}")
def service_page(
    request: Request, _: pages.AdminPage, session: SessionDep, service_id: ServiceId
) -> Response:
    return _service_page(request, session, service_id)


@router.post("/diensten/{service_id}")
def update_service(
    request: Request,
    _: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    service_id: ServiceId,
    form: Annotated[ServiceForm, Form()],
) -> Response:
    """PATCH /municipality/services/{id}, with every field the form shows."""
    try:
        reading = Reading()
        body = checked(ServiceUpdate, SERVICE_FIELDS, reading, **_service_read(form, reading))
        services.update_service(session, runtime.chain, service_id, **body.model_dump(exclude_unset=True))
    except DomainError as error:
        if error.code == "service_not_found":
            raise
        return _service_page(
            request,
            session,
            service_id,
            status_code=error.status,
            problems=refused_by_domain(request, error, SERVICE_FIELDS).problems,
            form=form,
        )
    except FormRefused as refusal:
        return _service_page(
            request, session, service_id, status_code=refusal.status, problems=refusal.problems, form=form
        )
    return pages.redirect(request, "/gemeente/diensten?klaar=changed")


# --------------------------------------------------------------------------------------------------
# Payouts and their SEPA files
# --------------------------------------------------------------------------------------------------

BATCH_FIELDS: dict[str, str | None] = {
    "debtor_name": "debtor_name",
    "debtor_iban": "debtor_iban",
    "debtor_bic": "debtor_bic",
    "execution_date": "execution_date",
}


class BatchForm(BaseModel):
    debtor_name: str = ""
    debtor_iban: str = ""
    debtor_bic: str = ""
    execution_date: str = ""


def _payouts_page(
    request: Request,
    session: Session,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    form: BatchForm | None = None,
) -> Response:
    waiting = PayoutPublic.many(session, payouts.list_payouts(session, status="burned", limit=500)[::-1])
    on_the_way = PayoutPublic.many(session, payouts.list_payouts(session, status="pending", limit=LIST_LIMIT))
    batches = PayoutBatchPublic.many(session, payouts.list_batches(session, limit=LIST_LIMIT))
    return pages.render(
        request,
        "programme/payouts.html",
        status_code=status_code,
        problems=list(problems),
        form=form or BatchForm(),
        waiting=waiting,
        waiting_total=sum(p.amount_cents for p in waiting),
        on_the_way=on_the_way,
        batches=batches,
        merchants=rows_by(session, Merchant, Merchant.id, (p.merchant_id for p in waiting + on_the_way)),
        symbols={coin.address: coin.symbol for coin in catalogue(session)},
    )


@router.get("/uitbetalingen")
def payout_list(request: Request, _: pages.AdminPage, session: SessionDep) -> Response:
    return _payouts_page(request, session)


@router.post("/uitbetalingen")
def create_batch(
    request: Request, _: pages.AdminPage, session: SessionDep, form: Annotated[BatchForm, Form()]
) -> Response:
    """POST /municipality/payout-batches: every waiting payout into one pain.001 file."""
    try:
        reading = Reading()
        execution_date = reading.day("execution_date", form.execution_date, required=False)
        body = checked(
            PayoutBatchCreate,
            BATCH_FIELDS,
            reading,
            debtor_name=form.debtor_name,
            debtor_iban=form.debtor_iban,
            debtor_bic=form.debtor_bic.strip() or None,
            execution_date=execution_date,
        )
        with writing(session):
            batch = payouts.create_batch(
                session,
                debtor_name=body.debtor_name,
                debtor_iban=body.debtor_iban,
                debtor_bic=body.debtor_bic,
                execution_date=body.execution_date,
            )
            batch_id = batch.id
    except DomainError as error:
        return _payouts_page(
            request,
            session,
            status_code=error.status,
            problems=refused_by_domain(request, error, BATCH_FIELDS).problems,
            form=form,
        )
    except FormRefused as refusal:
        return _payouts_page(
            request, session, status_code=refusal.status, problems=refusal.problems, form=form
        )
    return pages.redirect(request, f"/gemeente/uitbetalingen/bestanden/{batch_id}?klaar=created")


def _batch_page(
    request: Request,
    session: Session,
    batch_id: int,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    done: str | None = None,
) -> Response:
    batch = PayoutBatchPublic.of(session, payouts.get_batch(session, batch_id))
    held = PayoutPublic.many(session, payouts.list_payouts(session, batch_id=batch_id, limit=500)[::-1])
    return pages.render(
        request,
        "programme/batch.html",
        status_code=status_code,
        problems=list(problems),
        batch=batch,
        payouts=held,
        merchants=rows_by(session, Merchant, Merchant.id, (p.merchant_id for p in held)),
        symbols={coin.address: coin.symbol for coin in catalogue(session)},
        done=done,
    )


@router.get("/uitbetalingen/bestanden/{batch_id}")
def batch_page(
    request: Request, _: pages.AdminPage, session: SessionDep, batch_id: BatchId, klaar: str | None = None
) -> Response:
    return _batch_page(request, session, batch_id, done=klaar)


@router.get("/uitbetalingen/bestanden/{batch_id}/pain.001.xml")
def download_batch(request: Request, _: pages.AdminPage, session: SessionDep, batch_id: BatchId) -> Response:
    """GET /municipality/payout-batches/{id}/pain.001.xml: the file for the bank, as the API gives it."""
    batch = payouts.get_batch(session, batch_id)
    return pages.with_page_headers(
        request,
        Response(
            batch.xml.encode("utf-8"),
            media_type="application/xml",
            headers={"Content-Disposition": f'attachment; filename="socialcoin-{batch.message_id}.xml"'},
        ),
    )


@router.post("/uitbetalingen/bestanden/{batch_id}/betaald")
def mark_paid(request: Request, _: pages.AdminPage, session: SessionDep, batch_id: BatchId) -> Response:
    """POST /municipality/payout-batches/{id}/paid: the bank paid it."""
    try:
        with writing(session):
            payouts.mark_paid(session, batch_id)
    except DomainError as error:
        if error.code == "payout_batch_not_found":
            raise
        return _batch_page(
            request,
            session,
            batch_id,
            status_code=error.status,
            problems=refused_by_domain(request, error, {}).problems,
        )
    return pages.redirect(request, f"/gemeente/uitbetalingen/bestanden/{batch_id}?klaar=paid")


# --------------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------------

PROGRAMME_FIELDS: dict[str, str | None] = {"name": "name", "coin": "coin", "budget_cents": "budget"}


class BudgetForm(BaseModel):
    budget: str = ""


class ProgrammeForm(BaseModel):
    name: str = ""
    coin: str = ""
    budget: str = ""


def _budget_field(programme_id: int) -> str:
    return f"budget-{programme_id}"


def _budgets_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    *,
    status_code: int = 200,
    problems: Sequence[Problem] = (),
    budget_forms: Mapping[int, BudgetForm] | None = None,
    programme_form: ProgrammeForm | None = None,
    done: str | None = None,
) -> Response:
    allowance = runtime.chain.minter_allowance(runtime.keys["minter"])
    overview = BudgetsPublic.of(
        programmes.budget_overview(session, runtime.chain.deployment.issuer, allowance)
    )
    now = int(datetime.now(ZONE).timestamp())
    return pages.render(
        request,
        "programme/budgets.html",
        status_code=status_code,
        problems=list(problems),
        overview=overview,
        budget_forms=budget_forms or {},
        programme_form=programme_form or ProgrammeForm(),
        coins=[coin for coin in catalogue(session) if coin.live(now)],
        done=done,
    )


@router.get("/budgetten")
def budget_overview(
    request: Request, _: pages.AdminPage, session: SessionDep, runtime: RuntimeDep, klaar: str | None = None
) -> Response:
    """GET /municipality/budgets: per programme and per coin, and the minter's allowance on chain."""
    return _budgets_page(request, session, runtime, done=klaar)


@router.post("/budgetten/{programme_id}")
def set_budget(
    request: Request,
    _: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    programme_id: ProgrammeId,
    form: Annotated[BudgetForm, Form()],
) -> Response:
    """PUT /municipality/programmes/{id}/budget: never below what claims and rewards already took."""
    field = _budget_field(programme_id)
    try:
        reading = Reading()
        budget_cents = reading.cents(field, form.budget)
        body = checked(BudgetUpdate, {"budget_cents": field}, reading, budget_cents=budget_cents)
        with writing(session):
            programmes.set_budget(session, programme_id, body.budget_cents)
    except DomainError as error:
        if error.code == "programme_not_found":
            raise
        problems = refused_by_domain(request, error, {"budget_cents": field}).problems
        return _budgets_page(
            request,
            session,
            runtime,
            status_code=error.status,
            problems=problems,
            budget_forms={programme_id: form},
        )
    except FormRefused as refusal:
        return _budgets_page(
            request,
            session,
            runtime,
            status_code=refusal.status,
            problems=refusal.problems,
            budget_forms={programme_id: form},
        )
    return pages.redirect(request, "/gemeente/budgetten?klaar=changed")


@router.post("/budgetten")
def create_programme(
    request: Request,
    _: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    form: Annotated[ProgrammeForm, Form()],
) -> Response:
    """POST /municipality/programmes: a budget for one coin."""
    try:
        reading = Reading()
        budget_cents = reading.cents("budget", form.budget)
        body = checked(
            ProgrammeCreate,
            PROGRAMME_FIELDS,
            reading,
            name=form.name,
            coin=form.coin,
            budget_cents=budget_cents,
        )
        with writing(session):
            programmes.create_programme(
                session, name=body.name, coin=body.coin, budget_cents=body.budget_cents
            )
    except DomainError as error:
        return _budgets_page(
            request,
            session,
            runtime,
            status_code=error.status,
            problems=refused_by_domain(request, error, PROGRAMME_FIELDS).problems,
            programme_form=form,
        )
    except FormRefused as refusal:
        return _budgets_page(
            request,
            session,
            runtime,
            status_code=refusal.status,
            problems=refusal.problems,
            programme_form=form,
        )
    return pages.redirect(request, "/gemeente/budgetten?klaar=created")


# --------------------------------------------------------------------------------------------------
# A form's address asked with GET (a refused form's page reloaded, or its language switched): the page
# the form is on.
# --------------------------------------------------------------------------------------------------


@router.get("/activiteiten/{activity_id}/{action}")
def activity_form_address(
    request: Request,
    _: pages.StaffPage,
    activity_id: ActivityId,
    action: Literal["taken", "goedkeuren", "afwijzen"],
) -> Response:
    return pages.redirect(request, f"/gemeente/activiteiten/{activity_id}")


@router.get("/claims/{claim_id}/{action}")
def claim_form_address(
    request: Request, _: pages.AdminPage, claim_id: ClaimId, action: Literal["goedkeuren", "afwijzen"]
) -> Response:
    return pages.redirect(request, f"/gemeente/claims/{claim_id}")


@router.get("/uitbetalingen/bestanden/{batch_id}/betaald")
def paid_form_address(request: Request, _: pages.AdminPage, batch_id: BatchId) -> Response:
    return pages.redirect(request, f"/gemeente/uitbetalingen/bestanden/{batch_id}")


@router.get("/budgetten/{programme_id}")
def budget_form_address(request: Request, _: pages.AdminPage, programme_id: ProgrammeId) -> Response:
    return pages.redirect(request, "/gemeente/budgetten")
