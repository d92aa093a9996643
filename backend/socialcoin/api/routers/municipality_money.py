"""The municipality's money desk: debt cases and settlement reports for creditors (debt counsellors and
admins), services residents can pay with coins, orders, and merchant payouts as SEPA batches (admins)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ...db.models import PayoutBatch
from ...domain import debts, payouts, reports, services
from ..batches import BatchAnswer, BatchRequest, Line
from ..deps import MAX_ID, Admin, Counsellor, RuntimeDep, SessionDep, Staff, WriteSessionDep
from ..problems import BATCH_INVALID, PROBLEM_RESPONSES
from .merchants import PayoutPublic
from .residents_money import DebtCasePublic, OrderPublic, ServicePublic

router = APIRouter(prefix="/municipality", tags=["municipality"], responses=PROBLEM_RESPONSES)


# --------------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------------


class DebtCaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    creditor: str = Field(
        min_length=1, max_length=200, description="Who the debt is owed to", examples=["CJIB"]
    )
    creditor_reference: str = Field(
        min_length=1,
        max_length=100,
        description="The creditor's own reference",
        examples=["CJIB-2026-000123"],
    )
    amount_cents: int = Field(gt=0, le=debts.MAX_AMOUNT_CENTS, examples=[5000])


class DebtRow(BaseModel):
    """One line of the spreadsheet. Fields are checked as for one debt, and faults come back by line."""

    model_config = ConfigDict(extra="forbid")

    line: Line
    case_number: str | None = Field(
        default=None, max_length=1000, description="The resident's case number", examples=["2026-0042"]
    )
    creditor: str | None = Field(default=None, max_length=1000, examples=["CJIB"])
    creditor_reference: str | None = Field(default=None, max_length=1000, examples=["CJIB-2026-000123"])
    amount_cents: int | None = Field(default=None, description="Integer cents, more than 0", examples=[5000])


class DebtBatch(BatchRequest[DebtRow]):
    """The spreadsheet's rows, to record."""


class DebtBatchResult(BaseModel):
    line: int = Field(examples=[2])
    status: Literal["recorded", "exists"] = Field(
        description="recorded now, or recorded before with the same data (nothing changed)",
        examples=["recorded"],
    )
    case_id: int | None = Field(description="The debt case; None in a dry run for a new debt", examples=[2])
    resident_id: int = Field(examples=[1])


class DebtBatchOut(BatchAnswer[DebtBatchResult]):
    """A result per row: recorded or exists."""


class ServiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Sportpas 2026"])
    description: str = Field(
        default="", max_length=500, examples=["Een jaar lang sporten bij de clubs in Arnhem."]
    )
    price_cents: int = Field(gt=0, le=10**9, examples=[2500])
    purposes: list[str] = Field(
        min_length=1,
        description="Purposes of the coins it accepts (which residents may use for services)",
        examples=[["SPORT_CULTURE", "MUNICIPAL_SERVICES"]],
    )
    active: bool = Field(default=True, examples=[True])


class ServiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Sportpas 2027"])
    description: str | None = Field(default=None, max_length=500, examples=["Nu ook zwemmen."])
    price_cents: int | None = Field(default=None, gt=0, le=10**9, examples=[2750])
    purposes: list[str] | None = Field(default=None, min_length=1, examples=[["SPORT_CULTURE"]])
    active: bool | None = Field(default=None, examples=[False])


class PayoutBatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    debtor_name: str = Field(
        min_length=1,
        max_length=70,
        description="The municipality's account holder name",
        examples=["Gemeente Arnhem"],
    )
    debtor_iban: str = Field(
        min_length=15,
        max_length=42,
        description="The account the euros are paid from",
        examples=["NL91ABNA0417164300"],
    )
    debtor_bic: str | None = Field(default=None, min_length=8, max_length=11, examples=["ABNANL2A"])
    execution_date: date | None = Field(
        default=None, description="Today when left out", examples=["2026-03-06"]
    )


class PayoutBatchPublic(BaseModel):
    id: int = Field(examples=[1])
    message_id: str = Field(description="The pain.001 MsgId", examples=["20260306093000-1a2b3c4d5e6f"])
    total_cents: int = Field(examples=[4250])
    payout_count: int = Field(examples=[3])
    created_at: datetime = Field(examples=["2026-03-06T09:30:00Z"])
    paid_at: datetime | None = Field(examples=[None])

    @classmethod
    def of(cls, batch: PayoutBatch, count: int) -> PayoutBatchPublic:
        return cls(
            id=batch.id,
            message_id=batch.message_id,
            total_cents=batch.total_cents,
            payout_count=count,
            created_at=batch.created_at,
            paid_at=batch.paid_at,
        )


# --------------------------------------------------------------------------------------------------
# Debts
# --------------------------------------------------------------------------------------------------

CreditorQuery = Annotated[str, Query(min_length=1, max_length=200, examples=["CJIB"])]
SinceQuery = Annotated[
    datetime | None, Query(description="From this moment (inclusive)", examples=["2026-01-01T00:00:00+01:00"])
]
UntilQuery = Annotated[
    datetime | None,
    Query(description="Up to this moment (exclusive)", examples=["2026-04-01T00:00:00+02:00"]),
]


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
    resident_id: Annotated[int | None, Query(ge=0, le=MAX_ID, examples=[1])] = None,
    creditor: Annotated[str | None, Query(examples=["CJIB"])] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$", examples=["open"])] = None,
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, examples=[0])] = 0,
) -> list[DebtCasePublic]:
    found = debts.list_cases(
        session, resident_id=resident_id, creditor=creditor, status=status, limit=limit, offset=offset
    )
    return DebtCasePublic.many(session, found)


@router.get("/debts/{case_id}", response_model=DebtCasePublic, summary="A debt case with its settlements")
def get_debt(
    case_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[2])], principal: Counsellor, session: SessionDep
) -> DebtCasePublic:
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
    lang: Annotated[
        Literal["nl", "en"],
        Query(
            description="nl: Dutch column names, semicolons, decimal commas, UTF-8 with BOM (as Dutch Excel "
            "opens it); en: English column names, commas, decimal points",
            examples=["nl"],
        ),
    ] = "nl",
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
    service_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])],
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
    status: Annotated[str | None, Query(pattern="^(pending|paid|failed)$", examples=["paid"])] = None,
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, examples=[0])] = 0,
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
    status: Annotated[
        str | None, Query(pattern="^(pending|burned|batched|paid|failed)$", examples=["burned"])
    ] = None,
    merchant_id: Annotated[int | None, Query(ge=0, le=MAX_ID, examples=[3])] = None,
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, examples=[0])] = 0,
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
    return PayoutBatchPublic.of(batch, payouts.batch_counts(session, [batch.id]).get(batch.id, 0))


@router.get("/payout-batches", response_model=list[PayoutBatchPublic], summary="SEPA batches, newest first")
def list_batches(
    principal: Admin,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500, examples=[100])] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, examples=[0])] = 0,
) -> list[PayoutBatchPublic]:
    found = payouts.list_batches(session, limit=limit, offset=offset)
    counts = payouts.batch_counts(session, [b.id for b in found])
    return [PayoutBatchPublic.of(b, counts.get(b.id, 0)) for b in found]


@router.get("/payout-batches/{batch_id}", response_model=PayoutBatchPublic, summary="One SEPA batch")
def get_batch(
    batch_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])], principal: Admin, session: SessionDep
) -> PayoutBatchPublic:
    batch = payouts.get_batch(session, batch_id)
    return PayoutBatchPublic.of(batch, payouts.batch_counts(session, [batch.id]).get(batch.id, 0))


@router.get(
    "/payout-batches/{batch_id}/pain.001.xml",
    response_class=Response,
    summary="Download the batch as a pain.001.001.03 file for the bank",
    responses={200: {"content": {"application/xml": {}}, "description": "The SEPA credit-transfer file"}},
)
def download_batch(
    batch_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])], principal: Admin, session: SessionDep
) -> Response:
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
def mark_paid(
    batch_id: Annotated[int, Path(ge=1, le=MAX_ID, examples=[1])], principal: Admin, session: WriteSessionDep
) -> PayoutBatchPublic:
    batch = payouts.mark_paid(session, batch_id)
    return PayoutBatchPublic.of(batch, payouts.batch_counts(session, [batch.id]).get(batch.id, 0))
