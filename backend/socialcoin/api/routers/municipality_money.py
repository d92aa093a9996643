"""The municipality's money desk: debt cases and settlement reports for creditors (debt counsellors and
admins), services residents can pay with coins, orders, and merchant payouts as SEPA batches (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ...domain import debts, payouts, reports, services
from ..deps import Admin, Counsellor, RuntimeDep, SessionDep, Staff, WriteSessionDep
from ..problems import BATCH_INVALID, PROBLEM_RESPONSES
from ..schemas.common import Limit, Offset
from ..schemas.debts import (
    CaseId,
    CreditorFilter,
    CreditorQuery,
    DebtBatch,
    DebtBatchOut,
    DebtCaseCreate,
    DebtCasePublic,
    DebtStatusFilter,
    ReportLanguage,
    ResidentFilter,
    SinceQuery,
    UntilQuery,
)
from ..schemas.payouts import (
    BatchId,
    MerchantFilter,
    PayoutBatchCreate,
    PayoutBatchPublic,
    PayoutPublic,
    PayoutStatusFilter,
)
from ..schemas.services import (
    OrderPublic,
    OrderStatusFilter,
    ServiceCreate,
    ServiceId,
    ServicePublic,
    ServiceUpdate,
)

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)


# --------------------------------------------------------------------------------------------------
# Debts
# --------------------------------------------------------------------------------------------------


@router.post("/debts", response_model=DebtCasePublic, status_code=201, summary="Record a resident's debt")
def record_debt(body: DebtCaseCreate, principal: Counsellor, session: WriteSessionDep) -> DebtCasePublic:
    case = debts.create_case(
        session,
        resident_id=body.resident_id,
        creditor=body.creditor,
        creditor_reference=body.creditor_reference,
        amount_cents=body.amount_cents,
    )
    return DebtCasePublic.of(session, case)


@router.post(
    "/debts/batch",
    response_model=DebtBatchOut,
    responses=BATCH_INVALID,
    summary="Record residents' debts from a spreadsheet (up to 10,000 rows)",
    description="Checks every row as for one debt (the resident by case number), and within the request (the "
    "same creditor reference twice). When any row is at fault, nothing is recorded: 422 `batch_invalid` "
    "lists every fault by line and field. Otherwise every debt is recorded in one transaction. A debt "
    "recorded before (same creditor and creditor reference) with the same data is `exists`, so a file can be "
    "sent again; with another resident or amount it is a `debt_case_exists` fault saying what differs.",
)
def record_debts_batch(body: DebtBatch, principal: Counsellor, session: WriteSessionDep) -> DebtBatchOut:
    rows = [debts.DebtRow(**row.model_dump()) for row in body.rows]
    results = debts.record_cases(session, rows, dry_run=body.dry_run)
    return DebtBatchOut.of(results)


@router.get("/debts", response_model=list[DebtCasePublic], summary="Debt cases")
def list_debts(
    principal: Counsellor,
    session: SessionDep,
    resident_id: ResidentFilter = None,
    creditor: CreditorFilter = None,
    status: DebtStatusFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DebtCasePublic]:
    found = debts.list_cases(
        session, resident_id=resident_id, creditor=creditor, status=status, limit=limit, offset=offset
    )
    return DebtCasePublic.many(session, found)


@router.get("/debts/{case_id}", response_model=DebtCasePublic, summary="A debt case with its settlements")
def get_debt(case_id: CaseId, principal: Counsellor, session: SessionDep) -> DebtCasePublic:
    return DebtCasePublic.of(session, debts.get_case(session, case_id), with_settlements=True)


@router.get(
    "/debt-reports/settlements.csv",
    response_class=Response,
    summary="Settlement report for a creditor (CSV)",
    responses={200: {"content": {"text/csv": {}}, "description": "One line per confirmed settlement"}},
)
def settlement_report_csv(
    principal: Counsellor,
    session: SessionDep,
    creditor: CreditorQuery,
    since: SinceQuery = None,
    until: UntilQuery = None,
    lang: ReportLanguage = "nl",
) -> Response:
    lines = debts.settlement_report(session, creditor, since=since, until=until)
    return Response(
        reports.settlement_csv(lines, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="afgeloste-schulden.csv"'},
    )


@router.get(
    "/debt-reports/settlements.pdf",
    response_class=Response,
    summary="Settlement report for a creditor (PDF)",
    responses={200: {"content": {"application/pdf": {}}, "description": "The same lines, to send on"}},
)
def settlement_report_pdf(
    principal: Counsellor,
    session: SessionDep,
    creditor: CreditorQuery,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Response:
    lines = debts.settlement_report(session, creditor, since=since, until=until)
    pdf = reports.settlement_pdf(lines, creditor.strip(), since=since, until=until)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="afgeloste-schulden.pdf"'},
    )


# --------------------------------------------------------------------------------------------------
# Services and orders
# --------------------------------------------------------------------------------------------------


@router.post("/services", response_model=ServicePublic, status_code=201, summary="Offer a service for coins")
def create_service(
    body: ServiceCreate, principal: Admin, session: SessionDep, runtime: RuntimeDep
) -> ServicePublic:
    return ServicePublic.of(
        services.create_service(
            session,
            runtime.chain,
            name=body.name,
            description=body.description,
            price_cents=body.price_cents,
            purposes=body.purposes,
            active=body.active,
        )
    )


@router.get("/services", response_model=list[ServicePublic], summary="Every service, also inactive ones")
def list_services(principal: Staff, session: SessionDep) -> list[ServicePublic]:
    return [ServicePublic.of(s) for s in services.list_services(session)]


@router.patch(
    "/services/{service_id}",
    response_model=ServicePublic,
    summary="Change a service's price, purposes or availability",
)
def update_service(
    service_id: ServiceId,
    body: ServiceUpdate,
    principal: Admin,
    session: SessionDep,
    runtime: RuntimeDep,
) -> ServicePublic:
    return ServicePublic.of(
        services.update_service(session, runtime.chain, service_id, **body.model_dump(exclude_unset=True))
    )


@router.get("/orders", response_model=list[OrderPublic], summary="Orders residents paid with coins")
def list_orders(
    principal: Admin,
    session: SessionDep,
    status: OrderStatusFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[OrderPublic]:
    return OrderPublic.many(session, services.list_orders(session, status=status, limit=limit, offset=offset))


# --------------------------------------------------------------------------------------------------
# Payouts
# --------------------------------------------------------------------------------------------------


@router.get(
    "/payouts",
    response_model=list[PayoutPublic],
    summary="Merchant payouts",
    description="`burned` payouts wait for the next batch.",
)
def list_payouts(
    principal: Admin,
    session: SessionDep,
    status: PayoutStatusFilter = None,
    merchant_id: MerchantFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[PayoutPublic]:
    found = payouts.list_payouts(session, merchant_id=merchant_id, status=status, limit=limit, offset=offset)
    return PayoutPublic.many(session, found)


@router.post(
    "/payout-batches",
    response_model=PayoutBatchPublic,
    status_code=201,
    summary="Put every waiting payout into a SEPA credit-transfer file (pain.001.001.03)",
    description="The file is validated against the pain.001.001.03 schema before it is stored.",
)
def create_batch(body: PayoutBatchCreate, principal: Admin, session: WriteSessionDep) -> PayoutBatchPublic:
    batch = payouts.create_batch(
        session,
        debtor_name=body.debtor_name,
        debtor_iban=body.debtor_iban,
        debtor_bic=body.debtor_bic,
        execution_date=body.execution_date,
    )
    return PayoutBatchPublic.of(session, batch)


@router.get("/payout-batches", response_model=list[PayoutBatchPublic], summary="SEPA batches, newest first")
def list_batches(
    principal: Admin, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> list[PayoutBatchPublic]:
    return PayoutBatchPublic.many(session, payouts.list_batches(session, limit=limit, offset=offset))


@router.get("/payout-batches/{batch_id}", response_model=PayoutBatchPublic, summary="One SEPA batch")
def get_batch(batch_id: BatchId, principal: Admin, session: SessionDep) -> PayoutBatchPublic:
    return PayoutBatchPublic.of(session, payouts.get_batch(session, batch_id))


@router.get(
    "/payout-batches/{batch_id}/pain.001.xml",
    response_class=Response,
    summary="Download the batch as a pain.001.001.03 file for the bank",
    responses={200: {"content": {"application/xml": {}}, "description": "The SEPA credit-transfer file"}},
)
def download_batch(batch_id: BatchId, principal: Admin, session: SessionDep) -> Response:
    batch = payouts.get_batch(session, batch_id)
    return Response(
        batch.xml.encode("utf-8"),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="socialcoin-{batch.message_id}.xml"'},
    )


@router.post(
    "/payout-batches/{batch_id}/paid",
    response_model=PayoutBatchPublic,
    summary="The bank executed the batch: mark it and its payouts paid",
)
def mark_paid(batch_id: BatchId, principal: Admin, session: WriteSessionDep) -> PayoutBatchPublic:
    return PayoutBatchPublic.of(session, payouts.mark_paid(session, batch_id))
