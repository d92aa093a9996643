"""The municipality's portal: the dashboard, residents, organisations, merchants, who did what.

Roles are the API's: the dashboard is for staff (admins and debt counsellors), and everything the API keeps
for admins (residents, organisations, merchants, access codes, the stuck outbox's actions, the chain's
corrective operations) is refused to a debt counsellor here too, with the API's own 403. The log of who did
what is for admins. Every route calls the domain function the API route calls, with the same arguments.

Secrets shown once (an activation code, an access code) are in the answer to the form that made them and
nowhere else: that answer is a page of its own (201), not a redirect, as nothing stores them to show after
one. Every other form answers with a redirect (303) to where its result shows.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import File, Form, Path, Query, Request, Response, UploadFile
from sqlalchemy.orm import Session

from ...api.deps import MAX_ID, RuntimeDep, SessionDep, operator_of
from ...api.schemas.debts import DebtCasePublic
from ...api.schemas.merchants import MerchantPublic
from ...api.schemas.organisations import OrganisationPublic
from ...api.schemas.payments import BalanceOut
from ...api.schemas.residents import ResidentPublic
from ...api.schemas.tasks import TaskPublic
from ...api.schemas.tokens import TokenPublic
from ...api.staff_log import note
from ...chain.constants import Purpose
from ...chain.errors import ChainUnavailable
from ...cli.batch import RESIDENTS
from ...cli.csvfile import Fault, read_data
from ...db.base import writing
from ...db.models import Resident
from ...domain import (
    activation_codes,
    admission,
    admission_batch,
    debts,
    health,
    operations,
    overview,
    payments,
    people,
    pin_resets,
    programmes,
    staff_actions,
    stuck,
    tasks,
)
from ...domain.access import Principal, Role
from ...domain.batch import MAX_ROWS, BatchInvalid
from ...domain.chain_refusals import explain
from ...domain.coins import catalogue
from ...domain.errors import DomainError
from ...runtime import Runtime
from .. import pages
from ..i18n import TIME_ZONE

router = pages.page_router()

PAGE_SIZE = 50
# Access codes for a till or an organisation: valid this many days (the API's bounds: 60 s to 90 days).
ACCESS_DAYS = (1, 7, 30, 90)
DEFAULT_ACCESS_DAYS = 30
# An upload is a page's form: the API's body limit for pages holds (1 MB); larger files go through the
# command line, which sends them in slices.
UPLOAD_LIMIT_BYTES = 1024 * 1024
PURPOSES = [purpose.name for purpose in Purpose]


ResidentId = Annotated[int, Path(ge=1, le=MAX_ID)]
OrganisationId = Annotated[int, Path(ge=1, le=MAX_ID)]
MerchantId = Annotated[int, Path(ge=1, le=MAX_ID)]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID)]
TxId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Form(max_length=1000)]


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    return pages.render(request, f"municipality/{template}", status_code=status_code, **context)


def _language(request: Request) -> str:
    return pages.language_of(request)


def _refusal(request: Request, error: DomainError) -> dict[str, Any]:
    """A domain refusal for a form: its text in the page's language and the field it names."""
    return {"error": pages.message(error, _language(request)), "error_field": error.field}


def _key() -> str:
    """An idempotency key for a form that asks the chain for something: sent twice, done once."""
    return secrets.token_hex(16)


# --------------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------------


def _dashboard(
    request: Request,
    principal: Principal,
    session: Session,
    runtime: Runtime,
    *,
    status_code: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    admin = principal.role == Role.ADMIN
    status = health.health(session, runtime.chain)
    budget = stuck_txs = allowance = None
    if admin:  # budgets and the stuck outbox are the admin's (GET /municipality/budgets, .../outbox/stuck)
        if status.chain_available:
            try:
                allowance = runtime.chain.minter_allowance(runtime.keys["minter"])
            except ChainUnavailable:
                allowance = None
        budget = programmes.budget_overview(session, runtime.chain.deployment.issuer, allowance or 0)
        stuck_txs = stuck.stuck_transactions(session)
    return _render(
        request,
        "dashboard.html",
        status_code=status_code,
        admin=admin,
        health=status,
        active=overview.active_residents(session),
        settled=overview.debts_settled(session, overview.month_start()),
        budget=budget,
        allowance=allowance,
        stuck=stuck_txs,
        error=error,
        done=done,
    )


@router.get("/gemeente")
def dashboard(
    request: Request,
    principal: pages.StaffPage,
    session: SessionDep,
    runtime: RuntimeDep,
    gedaan: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _dashboard(request, principal, session, runtime, done=gedaan)


def _stuck_action(
    request: Request, principal: Principal, session: Session, runtime: Runtime, tx_id: int, action: str
) -> Response:
    try:
        with writing(session):
            (stuck.retry if action == "retry" else stuck.cancel)(session, tx_id)
    except DomainError as error:
        session.rollback()
        return _dashboard(
            request,
            principal,
            session,
            runtime,
            status_code=error.status,
            error=pages.message(error, _language(request)),
        )
    return pages.redirect(request, f"/gemeente?gedaan={action}#stuck")


@router.post("/gemeente/uitgaand/{tx_id}/opnieuw")
def retry_stuck_transaction(
    request: Request, tx_id: TxId, principal: pages.AdminPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return _stuck_action(request, principal, session, runtime, tx_id, "retry")


@router.post("/gemeente/uitgaand/{tx_id}/annuleren")
def cancel_stuck_transaction(
    request: Request, tx_id: TxId, principal: pages.AdminPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return _stuck_action(request, principal, session, runtime, tx_id, "cancel")


# --------------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------------


@router.get("/gemeente/inwoners")
def residents(
    request: Request,
    _principal: pages.AdminPage,
    session: SessionDep,
    zoek: Annotated[str, Query(max_length=200)] = "",
    vanaf: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    found = people.list_residents(session, search=zoek, limit=PAGE_SIZE + 1, offset=vanaf)
    shown = found[:PAGE_SIZE]
    return _render(
        request,
        "residents.html",
        residents=ResidentPublic.many(session, shown),
        activation=activation_codes.states(session, shown),
        search=zoek,
        offset=vanaf,
        next_offset=vanaf + PAGE_SIZE if len(found) > PAGE_SIZE else None,
        previous_offset=max(0, vanaf - PAGE_SIZE) if vanaf else None,
    )


NEW_RESIDENT_FIELDS = ("name", "case_number", "area", "email", "phone", "wallet_address")


def _new_resident_form(
    request: Request, status_code: int = 200, values: dict[str, str] | None = None, **context: Any
) -> Response:
    values = values or {}
    form = {name: values.get(name, "") for name in NEW_RESIDENT_FIELDS}
    form["wallet"] = values.get("wallet") or "letter"
    form["consent"] = values.get("consent", "")
    context.setdefault("error", None)
    context.setdefault("errors", {})
    return _render(request, "resident_new.html", status_code=status_code, form=form, **context)


@router.get("/gemeente/inwoners/nieuw")
def new_resident(request: Request, _principal: pages.AdminPage) -> Response:
    return _new_resident_form(request)


@router.post("/gemeente/inwoners/nieuw")
def admit_resident(
    request: Request,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    name: Text = "",
    case_number: Text = "",
    area: Text = "",
    email: Text = "",
    phone: Text = "",
    wallet: Annotated[str, Form(max_length=10)] = "letter",
    wallet_address: Text = "",
    consent: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """One resident: with a letter (a wallet the municipality keeps, awaiting the PIN the resident chooses
    with the letter's activation code: the batch admission with one row, the domain call that issues the
    code, shown here once) or with their own wallet (the single admission, POST /municipality/residents)."""
    values = {
        "name": name,
        "case_number": case_number,
        "area": area,
        "email": email,
        "phone": phone,
        "wallet": wallet,
        "wallet_address": wallet_address,
        "consent": consent,
    }
    language = _language(request)
    try:
        admission.check_consent(consent == "yes")
        if wallet == "own":
            resident = admission.admit_resident(
                session,
                runtime.settings,
                chain=runtime.chain,
                name=name,
                case_number=case_number,
                area=area,
                email=email or None,
                phone=phone or None,
                wallet_address=wallet_address,
                consent=True,
            )
            note(request, resident_id=resident.id)
            return pages.redirect(request, f"/gemeente/inwoners/{resident.id}?gedaan=aangemeld")
        row = admission_batch.ResidentRow(1, name, case_number, area, email or None, phone or None)
        letter = admission_batch.Residents(runtime.settings, issued_by=principal.token_id)
        (admitted,) = admission_batch.admit(session, letter, [row], chain=runtime.chain)
    except BatchInvalid as invalid:
        errors = {e.field or "": e.nl if language == "nl" else e.en for e in invalid.errors}
        return _new_resident_form(request, 422, values, error=None, errors=errors)
    except DomainError as error:
        field = error.field or ""
        return _new_resident_form(
            request, error.status, values, error=pages.message(error, language), errors={field: ""}
        )
    note(request, resident_id=admitted.resident_id)
    if admitted.status == "exists":
        exists = admission.resident_exists(admitted.case_number)
        return _new_resident_form(
            request,
            exists.status,
            values,
            error=pages.message(exists, language),
            errors={"case_number": ""},
            existing_id=admitted.resident_id,
        )
    return _render(
        request,
        "activation_code.html",
        status_code=201,
        resident_id=admitted.resident_id,
        case_number=admitted.case_number,
        name=name.strip(),
        code=admitted.activation_code,
        code_id=admitted.activation_code_id,
        reason="admission",
    )


@router.get("/gemeente/inwoners/upload")
def residents_upload(request: Request, _principal: pages.AdminPage) -> Response:
    return _render(request, "residents_upload.html", limit=UPLOAD_LIMIT_BYTES, max_rows=MAX_ROWS)


def _row(values: dict[str, Any], line: int) -> admission_batch.ResidentRow:
    return admission_batch.ResidentRow(
        line,
        values.get("name"),
        values.get("case_number"),
        values.get("area"),
        values.get("email"),
        values.get("phone"),
        values.get("wallet_address"),
    )


@router.post("/gemeente/inwoners/upload")
def admit_residents_upload(
    request: Request,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """The command line's `socialcoin admit`, from the page: the same reading of the file (cli/csvfile.py
    with the same columns), the same server checks (the batch admission, first as a dry run of the lines
    the file's own checks left), every fault at its line and column, and nothing admitted until every line
    is right. Then all lines in one transaction, and the activation codes shown once."""
    name = FilePath(file.filename or "upload.csv").name
    table = read_data(
        file.file.read(UPLOAD_LIMIT_BYTES + 1), FilePath(name), RESIDENTS.columns, RESIDENTS.keys
    )
    faults: list[Fault] = list(table.faults)
    too_many = len(table.rows) > MAX_ROWS
    rows = [_row(row.values, row.line) for row in table.valid_rows()]
    check = admission_batch.Residents(runtime.settings)
    results: list[admission_batch.Admitted] = []
    if not too_many and rows:
        try:
            if faults:  # the file's own faults: still check the other lines, to show every fault at once
                admission_batch.admit(session, check, rows, dry_run=True, chain=runtime.chain)
            else:
                apply = admission_batch.Residents(runtime.settings, issued_by=principal.token_id)
                results = admission_batch.admit(session, apply, rows, chain=runtime.chain)
        except BatchInvalid as invalid:
            faults += [table.fault(e.line, e.field, e.nl, e.en) for e in invalid.errors]
    faults.sort(key=lambda f: (f.line or 0, f.column or 0))
    if faults or too_many or not results:
        return _render(
            request,
            "residents_upload.html",
            status_code=422,
            limit=UPLOAD_LIMIT_BYTES,
            max_rows=MAX_ROWS,
            file_name=name,
            faults=faults,
            too_many=too_many,
            lines=len(table.rows),
        )
    note(request, resident_ids=[r.resident_id for r in results if r.status == "admitted"][:50])
    by_line = {row.line: row.values for row in table.rows}
    return _render(
        request,
        "residents_admitted.html",
        file_name=name,
        results=results,
        names={r.line: by_line.get(r.line, {}).get("name", "") for r in results},
        admitted=sum(r.status == "admitted" for r in results),
        existing=sum(r.status == "exists" for r in results),
        codes=[r for r in results if r.activation_code],
        waiting=[r for r in results if r.activation == "unacknowledged"],
    )


@router.post("/gemeente/inwoners/codes-genoteerd")
def acknowledge_codes(
    request: Request,
    principal: pages.StaffPage,
    session: SessionDep,
    code: Annotated[list[int], Form(max_length=MAX_ROWS)],
    then: Annotated[str, Form(max_length=200)] = "/gemeente/inwoners",
) -> Response:
    """The codes shown are written down (the letters): a batch sent again shows them as issued before.
    Only codes issued to this person's own access code are marked (the domain checks)."""
    with writing(session):
        activation_codes.acknowledge(session, code, principal.token_id)
    return pages.redirect(request, pages.local_path(then, "/gemeente/inwoners"))


def _resident_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    resident: Resident,
    *,
    status_code: int = 200,
    operation_id: int | None = None,
    done: str | None = None,
    form: str | None = None,
    error: str | None = None,
    error_field: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    participant = pending = None
    chain_reached = True
    try:
        participant = runtime.chain.participants([resident.wallet_address])[resident.wallet_address]
        if resident.wallet_custody == "own":
            pending = runtime.chain.recovery_request(resident.wallet_address)
    except ChainUnavailable:
        chain_reached = False
    operation = operation_view = None
    if operation_id is not None:
        try:
            operation = operations.get_operation(session, operation_id)
        except DomainError:
            operation = None
        if operation is not None:
            try:
                operation_view = operations.view(session, runtime.chain, operation)
            except ChainUnavailable:
                operation_view = operations.view(session, None, operation)
    operation_error = (
        explain(operation_view.error_code, operation_view.error_detail) if operation_view else None
    )
    cases = debts.list_cases(session, resident_id=resident.id, limit=500)
    return _render(
        request,
        "resident.html",
        status_code=status_code,
        resident=ResidentPublic.of(session, resident),
        activation=activation_codes.states(session, [resident]).get(resident.id),
        awaiting=resident.activation_pending,
        codes=activation_codes.history(session, resident.id),
        code_status=activation_codes.status,
        participant=participant,
        pending=pending,
        chain_reached=chain_reached,
        operation=operation_view,
        operation_error=operation_error,
        balances=[
            BalanceOut.of(v, resident=True) for v in payments.balances(session, resident.wallet_address)
        ],
        tasks=TaskPublic.many(session, tasks.list_tasks(session, resident_id=resident.id)),
        debts=DebtCasePublic.many(session, cases),
        done=done,
        form=form,
        error=error,
        error_field=error_field,
        values=values or {},
        key=_key(),
        from_timestamp=lambda seconds: datetime.fromtimestamp(seconds, UTC),
    )


@router.get("/gemeente/inwoners/{resident_id}")
def resident(
    request: Request,
    resident_id: ResidentId,
    _principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    opdracht: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    gedaan: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    found = people.get_resident(session, resident_id)
    return _resident_page(request, session, runtime, found, operation_id=opdracht, done=gedaan)


def _operation_done(request: Request, resident_id: int, operation_id: int) -> Response:
    note(request, operation_id=operation_id)
    return pages.redirect(request, f"/gemeente/inwoners/{resident_id}?opdracht={operation_id}")


def _chain_operation(
    request: Request,
    session: Session,
    runtime: Runtime,
    resident_id: int,
    form: str,
    values: dict[str, str],
    do: Any,
) -> Response:
    """Runs `do(resident)` (a chain operation) and shows where it stands; a refusal shows on the resident's
    page, at the form that asked, with what was typed."""
    found = people.get_resident(session, resident_id)
    try:
        operation = do(found)
    except DomainError as error:
        session.rollback()
        return _resident_page(
            request, session, runtime, found, status_code=error.status, form=form, values=values,
            **_refusal(request, error),
        )  # fmt: skip
    return _operation_done(request, resident_id, operation.id)


@router.post("/gemeente/inwoners/{resident_id}/bevriezen")
def freeze_resident(
    request: Request,
    resident_id: ResidentId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    reason: Text = "",
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    return _frozen(request, resident_id, principal, session, runtime, reason, key, True)


@router.post("/gemeente/inwoners/{resident_id}/ontdooien")
def unfreeze_resident(
    request: Request,
    resident_id: ResidentId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    reason: Text = "",
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    return _frozen(request, resident_id, principal, session, runtime, reason, key, False)


def _frozen(
    request: Request,
    resident_id: int,
    principal: Principal,
    session: Session,
    runtime: Runtime,
    reason: str,
    key: str,
    frozen: bool,
) -> Response:
    """POST /municipality/chain/freeze (or unfreeze) for the resident's wallet."""
    return _chain_operation(
        request,
        session,
        runtime,
        resident_id,
        "freeze" if frozen else "unfreeze",
        {"reason": reason},
        lambda found: operations.set_frozen(
            session,
            operator_of(runtime),
            frozen,
            wallet_addresses=[found.wallet_address],
            reason=reason,
            key=key or None,
            requested_by=principal.token_id,
        ),
    )


@router.post("/gemeente/inwoners/{resident_id}/herstel")
def request_recovery(
    request: Request,
    resident_id: ResidentId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    new_wallet: Text = "",
    recovery_case: Text = "",
    reason: Text = "",
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The first step of recovering a lost wallet: POST /municipality/chain/recovery/request."""
    values = {"new_wallet": new_wallet, "recovery_case": recovery_case, "reason": reason}
    return _chain_operation(
        request,
        session,
        runtime,
        resident_id,
        "recovery",
        values,
        lambda found: operations.request_recovery(
            session,
            operator_of(runtime),
            lost_wallet=found.wallet_address,
            new_wallet=new_wallet,
            case_number=recovery_case,
            reason=reason,
            key=key or None,
            requested_by=principal.token_id,
        ),
    )


@router.post("/gemeente/inwoners/{resident_id}/herstel/uitvoeren")
def execute_recovery(
    request: Request,
    resident_id: ResidentId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    new_wallet: Text = "",
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The second step, once the delay has passed: POST /municipality/chain/recovery/execute."""
    return _chain_operation(
        request,
        session,
        runtime,
        resident_id,
        "execute",
        {},
        lambda found: operations.execute_recovery(
            session,
            operator_of(runtime),
            lost_wallet=found.wallet_address,
            new_wallet=new_wallet,
            reason=None,
            key=key or None,
            requested_by=principal.token_id,
        ),
    )


@router.post("/gemeente/inwoners/{resident_id}/herstel/intrekken")
def cancel_recovery(
    request: Request,
    resident_id: ResidentId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    reason: Text = "",
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Withdraws a pending recovery: POST /municipality/chain/recovery/cancel."""
    return _chain_operation(
        request,
        session,
        runtime,
        resident_id,
        "cancel",
        {"cancel_reason": reason},
        lambda found: operations.cancel_recovery(
            session,
            operator_of(runtime),
            lost_wallet=found.wallet_address,
            reason=reason,
            key=key or None,
            requested_by=principal.token_id,
        ),
    )


@router.post("/gemeente/inwoners/{resident_id}/activeringscode")
def reissue_activation_code(
    request: Request,
    resident_id: ResidentId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """A new activation code (the old one stops working): POST /municipality/residents/{id}/activation-code.
    Shown once, here."""
    secret = runtime.settings.secret_key.get_secret_value()
    try:
        with writing(session):
            found, issued = activation_codes.reissue(session, secret, resident_id, principal.token_id)
    except DomainError as error:
        session.rollback()
        found = people.get_resident(session, resident_id)
        return _resident_page(
            request,
            session,
            runtime,
            found,
            status_code=error.status,
            form="code",
            **_refusal(request, error),
        )
    return _render(
        request,
        "activation_code.html",
        status_code=201,
        resident_id=found.id,
        case_number=found.case_number,
        name=found.name,
        code=issued.code,
        code_id=issued.id,
        reason="reissue",
    )


# --------------------------------------------------------------------------------------------------
# A forgotten PIN: for admins and debt counsellors (POST /municipality/residents/{id}/pin-reset)
# --------------------------------------------------------------------------------------------------


def _pin_page(
    request: Request,
    principal: Principal,
    session: Session,
    runtime: Runtime,
    resident: Resident,
    *,
    status_code: int = 200,
    error: str | None = None,
    reason: str = "",
) -> Response:
    latest = pin_resets.latest(session, resident.id)
    reset = None if latest is None else pin_resets.view(session, operator_of(runtime), latest)
    not_now = pin_resets.refusal(session, resident)
    return _render(
        request,
        "pin_reset.html",
        status_code=status_code,
        admin=principal.role == Role.ADMIN,
        resident=resident,
        activation=activation_codes.states(session, [resident]).get(resident.id),
        reset=reset,
        reset_error=explain(latest.error_code) if latest is not None else (None, None),
        not_now=None if not_now is None else pages.message(not_now, _language(request)),
        error=error,
        reason=reason,
        from_timestamp=lambda seconds: datetime.fromtimestamp(seconds, UTC),
    )


@router.get("/gemeente/inwoners/{resident_id}/pincode")
def pin(
    request: Request,
    resident_id: ResidentId,
    principal: pages.StaffPage,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    return _pin_page(request, principal, session, runtime, people.get_resident(session, resident_id))


@router.post("/gemeente/inwoners/{resident_id}/pincode")
def reset_pin(
    request: Request,
    resident_id: ResidentId,
    principal: pages.StaffPage,
    session: SessionDep,
    runtime: RuntimeDep,
    reason: Text = "",
) -> Response:
    """Starts a PIN reset; the new activation code is shown once, here."""
    try:
        started = pin_resets.start(
            session, operator_of(runtime), resident_id, reason=reason, requested_by=principal.token_id
        )
    except DomainError as error:
        session.rollback()
        found = people.get_resident(session, resident_id)
        return _pin_page(
            request,
            principal,
            session,
            runtime,
            found,
            status_code=error.status,
            error=pages.message(error, _language(request)),
            reason=reason,
        )
    note(request, pin_reset_id=started.reset.id)
    found = people.get_resident(session, resident_id)
    return _render(
        request,
        "activation_code.html",
        status_code=201,
        resident_id=found.id,
        case_number=found.case_number,
        name=found.name,
        code=started.code.code,
        code_id=started.code.id,
        reason=started.code.reason,
        then=f"/gemeente/inwoners/{found.id}/pincode",
    )


# --------------------------------------------------------------------------------------------------
# Access codes (API tokens) for a till or an organisation's verifier
# --------------------------------------------------------------------------------------------------


def _access_codes(session: Session, role: Role, subject_id: int) -> list[TokenPublic]:
    return [
        TokenPublic.of(t) for t in people.list_tokens(session, role=role, subject_id=subject_id, limit=50)
    ]


def _issue_access_code(
    request: Request,
    principal: Principal,
    session: Session,
    runtime: Runtime,
    role: Role,
    subject_id: int,
    label: str,
    days: int,
    back: str,
) -> Response | DomainError:
    """POST /municipality/tokens's domain call; the code is shown once, on the page this answers with."""
    try:
        with writing(session):
            row, token = people.issue_api_token(
                session,
                runtime.settings,
                role=role,
                subject_id=subject_id,
                label=label,
                ttl_seconds=days * 24 * 3600,
                issued_by=principal.token_id,
            )
    except DomainError as error:
        session.rollback()
        return error
    note(request, token_id=row.id)
    return _render(
        request, "access_code.html", status_code=201, token=token, issued=TokenPublic.of(row), back=back
    )


def _checked_days(days: int) -> int:
    return days if days in ACCESS_DAYS else DEFAULT_ACCESS_DAYS


@router.post("/gemeente/toegangscodes/{token_id}/intrekken")
def revoke_access_code(
    request: Request,
    token_id: TokenId,
    _principal: pages.AdminPage,
    session: SessionDep,
    then: Annotated[str, Form(max_length=200)] = "/gemeente",
) -> Response:
    """POST /municipality/tokens/{id}/revoke: the code and every code issued with it stop working."""
    with writing(session):
        people.revoke_token(session, token_id)
    return pages.redirect(request, pages.local_path(then, "/gemeente"))


# --------------------------------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------------------------------


@router.get("/gemeente/organisaties")
def organisations(
    request: Request,
    _principal: pages.AdminPage,
    session: SessionDep,
    vanaf: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    found = people.list_organisations(session, limit=PAGE_SIZE + 1, offset=vanaf)
    return _render(
        request,
        "organisations.html",
        organisations=OrganisationPublic.many(session, found[:PAGE_SIZE]),
        next_offset=vanaf + PAGE_SIZE if len(found) > PAGE_SIZE else None,
        previous_offset=max(0, vanaf - PAGE_SIZE) if vanaf else None,
    )


@router.get("/gemeente/organisaties/nieuw")
def new_organisation(request: Request, _principal: pages.AdminPage) -> Response:
    return _render(request, "organisation_new.html", values={}, error=None, error_field=None)


@router.post("/gemeente/organisaties/nieuw")
def register_organisation(
    request: Request,
    _principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    name: Text = "",
    area: Text = "",
    wallet_address: Text = "",
) -> Response:
    """POST /municipality/organisations."""
    values = {"name": name, "area": area, "wallet_address": wallet_address}
    try:
        found = admission.register_organisation(
            session,
            runtime.settings,
            chain=runtime.chain,
            name=name,
            area=area,
            wallet_address=wallet_address,
        )
    except DomainError as error:
        return _render(
            request,
            "organisation_new.html",
            status_code=error.status,
            values=values,
            **_refusal(request, error),
        )
    note(request, organisation_id=found.id)
    return pages.redirect(request, f"/gemeente/organisaties/{found.id}?gedaan=geregistreerd")


def _organisation_page(
    request: Request, session: Session, organisation_id: int, status_code: int = 200, **context: Any
) -> Response:
    found = people.get_organisation(session, organisation_id)
    context.setdefault("error", None)
    context.setdefault("error_field", None)
    context.setdefault("form", None)
    context.setdefault("values", {})
    context.setdefault("done", None)
    return _render(
        request,
        "organisation.html",
        status_code=status_code,
        organisation=OrganisationPublic.of(session, found),
        coins=list(catalogue(session)),
        symbols={coin.address: coin.symbol for coin in catalogue(session)},
        access_codes=_access_codes(session, Role.VERIFIER, found.id),
        days=ACCESS_DAYS,
        default_days=DEFAULT_ACCESS_DAYS,
        **context,
    )


@router.get("/gemeente/organisaties/{organisation_id}")
def organisation(
    request: Request,
    organisation_id: OrganisationId,
    _principal: pages.AdminPage,
    session: SessionDep,
    gedaan: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _organisation_page(request, session, organisation_id, done=gedaan)


@router.post("/gemeente/organisaties/{organisation_id}/controleurs")
def authorise_verifier(
    request: Request,
    organisation_id: OrganisationId,
    _principal: pages.AdminPage,
    session: SessionDep,
    address: Text = "",
    coin: Annotated[str, Form(max_length=42)] = "",
) -> Response:
    """POST /municipality/organisations/{id}/verifiers: its key may attest activities paid in the coin."""
    try:
        with writing(session):
            verifier = admission.authorise_verifier(session, organisation_id, address, coin)
    except DomainError as error:
        session.rollback()
        return _organisation_page(
            request, session, organisation_id, status_code=error.status, form="verifier",
            values={"address": address, "coin": coin}, **_refusal(request, error),
        )  # fmt: skip
    note(request, verifier_id=verifier.id)
    return pages.redirect(request, f"/gemeente/organisaties/{organisation_id}?gedaan=controleur")


@router.post("/gemeente/organisaties/{organisation_id}/toegangscodes")
def issue_organisation_access_code(
    request: Request,
    organisation_id: OrganisationId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    label: Text = "",
    days: Annotated[int, Form(ge=1, le=90)] = DEFAULT_ACCESS_DAYS,
) -> Response:
    """An access code for the organisation's verifier, to sign in at /toegang."""
    people.get_organisation(session, organisation_id)
    back = f"/gemeente/organisaties/{organisation_id}"
    answer = _issue_access_code(
        request, principal, session, runtime, Role.VERIFIER, organisation_id, label, _checked_days(days), back
    )
    if isinstance(answer, DomainError):
        return _organisation_page(
            request, session, organisation_id, status_code=answer.status, form="access",
            values={"label": label}, **_refusal(request, answer),
        )  # fmt: skip
    return answer


# --------------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------------


@router.get("/gemeente/ondernemers")
def merchants(
    request: Request,
    _principal: pages.AdminPage,
    session: SessionDep,
    vanaf: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    found = people.list_merchants(session, limit=PAGE_SIZE + 1, offset=vanaf)
    return _render(
        request,
        "merchants.html",
        merchants=MerchantPublic.many(session, found[:PAGE_SIZE]),
        next_offset=vanaf + PAGE_SIZE if len(found) > PAGE_SIZE else None,
        previous_offset=max(0, vanaf - PAGE_SIZE) if vanaf else None,
    )


def _merchant_form(request: Request, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("values", {"wallet": "own", "purposes": []})
    context.setdefault("error", None)
    context.setdefault("error_field", None)
    return _render(request, "merchant_new.html", status_code=status_code, purposes=PURPOSES, **context)


@router.get("/gemeente/ondernemers/nieuw")
def new_merchant(request: Request, _principal: pages.AdminPage) -> Response:
    return _merchant_form(request)


@router.post("/gemeente/ondernemers/nieuw")
def register_merchant(
    request: Request,
    _principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    name: Text = "",
    iban: Text = "",
    bic: Text = "",
    area: Text = "",
    purposes: Annotated[list[str] | None, Form(max_length=len(PURPOSES))] = None,
    wallet: Annotated[str, Form(max_length=10)] = "own",
    wallet_address: Text = "",
    pin: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """POST /municipality/merchants: an own wallet address, or a wallet the municipality keeps under the
    merchant's PIN."""
    chosen = [p for p in purposes or [] if p in PURPOSES]
    values = {
        "name": name,
        "iban": iban,
        "bic": bic,
        "area": area,
        "purposes": chosen,
        "wallet": wallet,
        "wallet_address": wallet_address,
    }
    try:
        found = admission.register_merchant(
            session,
            runtime.settings,
            chain=runtime.chain,
            name=name,
            iban=iban,
            area=area,
            purposes=chosen,
            wallet_address=wallet_address if wallet == "own" else None,
            pin=pin if wallet == "pin" else None,
            bic=bic or None,
        )
    except DomainError as error:
        return _merchant_form(request, error.status, values=values, **_refusal(request, error))
    note(request, merchant_id=found.id)
    return pages.redirect(request, f"/gemeente/ondernemers/{found.id}?gedaan=geregistreerd")


def _merchant_page(
    request: Request, session: Session, merchant_id: int, status_code: int = 200, **context: Any
) -> Response:
    found = people.get_merchant(session, merchant_id)
    context.setdefault("error", None)
    context.setdefault("error_field", None)
    context.setdefault("values", {})
    context.setdefault("done", None)
    return _render(
        request,
        "merchant.html",
        status_code=status_code,
        merchant=MerchantPublic.of(session, found),
        access_codes=_access_codes(session, Role.MERCHANT, found.id),
        days=ACCESS_DAYS,
        default_days=DEFAULT_ACCESS_DAYS,
        **context,
    )


@router.get("/gemeente/ondernemers/{merchant_id}")
def merchant(
    request: Request,
    merchant_id: MerchantId,
    _principal: pages.AdminPage,
    session: SessionDep,
    gedaan: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _merchant_page(request, session, merchant_id, done=gedaan)


@router.post("/gemeente/ondernemers/{merchant_id}/toegangscodes")
def issue_merchant_access_code(
    request: Request,
    merchant_id: MerchantId,
    principal: pages.AdminPage,
    session: SessionDep,
    runtime: RuntimeDep,
    label: Text = "",
    days: Annotated[int, Form(ge=1, le=90)] = DEFAULT_ACCESS_DAYS,
) -> Response:
    """An access code for a till of the merchant, to sign in at /toegang."""
    people.get_merchant(session, merchant_id)
    back = f"/gemeente/ondernemers/{merchant_id}"
    answer = _issue_access_code(
        request, principal, session, runtime, Role.MERCHANT, merchant_id, label, _checked_days(days), back
    )
    if isinstance(answer, DomainError):
        return _merchant_page(
            request, session, merchant_id, status_code=answer.status, values={"label": label},
            **_refusal(request, answer),
        )  # fmt: skip
    return answer


# --------------------------------------------------------------------------------------------------
# Who did what
# --------------------------------------------------------------------------------------------------


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _midnight(day: date) -> datetime:
    """The start of a day in the municipality's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(TIME_ZONE))


@router.get("/gemeente/logboek")
def staff_log(
    request: Request,
    _principal: pages.AdminPage,
    session: SessionDep,
    persoon: Annotated[str, Query(max_length=200)] = "",
    van: Annotated[str, Query(max_length=10)] = "",
    tot: Annotated[str, Query(max_length=10)] = "",
    voor: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """Who did what, newest first: by person (the name on their access code) and by date (from, to: whole
    days in the municipality's time zone)."""
    since, until = _day(van), _day(tot)
    found = staff_actions.find(
        session,
        person=persoon or None,
        since=_midnight(since) if since else None,
        until=_midnight(until + timedelta(days=1)) if until else None,
        before_id=voor,
        limit=staff_actions.PAGE_SIZE + 1,
    )
    shown = found[: staff_actions.PAGE_SIZE]
    return _render(
        request,
        "log.html",
        actions=shown,
        outcome=staff_actions.outcome,
        people=staff_actions.people(session),
        person=persoon,
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
        older=shown[-1].id if len(found) > staff_actions.PAGE_SIZE else None,
        bad_dates=[name for name, text in (("van", van), ("tot", tot)) if text and _day(text) is None],
    )
