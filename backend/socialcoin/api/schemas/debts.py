"""Debts: cases a debt counsellor records (one by one or from a spreadsheet), the settlements a resident
pays them off with, and the reports for creditors."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Literal, Self

from fastapi import Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.enums import SpendStatus
from ...db.models import DebtCase, Settlement
from ...domain import debts
from ...domain.spending import failure_codes
from ..batches import BatchAnswer, BatchRequest, Line
from ..deps import MAX_ID
from .common import PAID_TX_HASH, WHEN, Create
from .spending import SpendRequest

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, examples=[2])]
# Filters of the list of cases.
ResidentFilter = Annotated[int | None, Query(ge=0, le=MAX_ID, examples=[1])]
CreditorFilter = Annotated[str | None, Query(examples=["CJIB"])]
DebtStatusFilter = Annotated[str | None, Query(pattern="^(open|closed)$", examples=["open"])]
# The settlement reports for a creditor.
CreditorQuery = Annotated[str, Query(min_length=1, max_length=200, examples=["CJIB"])]
SinceQuery = Annotated[
    datetime | None, Query(description="From this moment (inclusive)", examples=["2026-01-01T00:00:00+01:00"])
]
UntilQuery = Annotated[
    datetime | None,
    Query(description="Up to this moment (exclusive)", examples=["2026-04-01T00:00:00+02:00"]),
]
ReportLanguage = Annotated[
    Literal["nl", "en"],
    Query(
        description="nl: Dutch column names, semicolons, decimal commas, UTF-8 with BOM (as Dutch Excel "
        "opens it); en: English column names, commas, decimal points",
        examples=["nl"],
    ),
]

CREDITOR_REFERENCE = "CJIB-2026-000123"


class DebtCaseCreate(Create):
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    creditor: str = Field(
        min_length=1, max_length=200, description="Who the debt is owed to", examples=["CJIB"]
    )
    creditor_reference: str = Field(
        min_length=1,
        max_length=100,
        description="The creditor's own reference",
        examples=[CREDITOR_REFERENCE],
    )
    amount_cents: int = Field(gt=0, le=debts.MAX_AMOUNT_CENTS, examples=[5000])


class DebtRow(Create):
    """One line of the spreadsheet. Fields are checked as for one debt, and faults come back by line."""

    line: Line
    case_number: str | None = Field(
        default=None, max_length=1000, description="The resident's case number", examples=["2026-0042"]
    )
    creditor: str | None = Field(default=None, max_length=1000, examples=["CJIB"])
    creditor_reference: str | None = Field(default=None, max_length=1000, examples=[CREDITOR_REFERENCE])
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


class SettlementCreate(SpendRequest):
    coin: str = Field(description="A coin for paying off debts: symbol or address", examples=["ARS"])
    amount_cents: int = Field(gt=0, le=10**10, examples=[1000])


class SettlementPublic(BaseModel):
    id: int = Field(examples=[4])
    debt_case_id: int = Field(ge=1, le=MAX_ID, examples=[2])
    amount_cents: int = Field(examples=[1000])
    coin: str = Field(examples=["0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"])
    status: str = Field(description="pending, settled or failed", examples=["settled"])
    tx_hash: str | None = Field(examples=[PAID_TX_HASH])
    settled_at: datetime | None = Field(examples=[WHEN])
    created_at: datetime = Field(examples=["2026-03-02T09:29:58Z"])
    error_code: str | None = Field(default=None, description="Why it failed", examples=[None])

    @classmethod
    def of(cls, session: Session, settlement: Settlement) -> SettlementPublic:
        return cls.many(session, [settlement])[0]

    @classmethod
    def many(cls, session: Session, settlements: list[Settlement]) -> list[SettlementPublic]:
        errors = failure_codes(session, [s.outbox_key for s in settlements if s.status == SpendStatus.FAILED])
        return [cls._with(s, errors) for s in settlements]

    @classmethod
    def _with(cls, settlement: Settlement, errors: dict[str, str]) -> SettlementPublic:
        return cls(
            id=settlement.id,
            debt_case_id=settlement.debt_case_id,
            amount_cents=settlement.amount_cents,
            coin=settlement.coin,
            status=str(settlement.status),
            tx_hash=settlement.tx_hash,
            settled_at=settlement.confirmed_at,
            created_at=settlement.created_at,
            error_code=errors.get(settlement.outbox_key),
        )


class DebtCasePublic(BaseModel):
    id: int = Field(examples=[2])
    resident_id: int = Field(ge=1, le=MAX_ID, examples=[1])
    creditor: str = Field(examples=["CJIB"])
    creditor_reference: str = Field(examples=[CREDITOR_REFERENCE])
    amount_cents: int = Field(examples=[5000])
    remaining_cents: int = Field(description="Still to pay, after confirmed payments", examples=[4000])
    pending_cents: int = Field(description="Paid, waiting for confirmation", examples=[0])
    status: str = Field(description="open or closed", examples=["open"])
    chain_reference: str = Field(
        description="The reference burns carry on chain (reveals nothing)", examples=["0x3b1f" + "0" * 60]
    )
    created_at: datetime = Field(examples=["2026-03-01T10:00:00Z"])
    closed_at: datetime | None = Field(examples=[None])
    settlements: list[SettlementPublic] = Field(default_factory=list, examples=[[]])

    @classmethod
    def many(cls, session: Session, cases: list[DebtCase], with_settlements: bool = False) -> list[Self]:
        """The cases with what is on its way to each (and their settlements), in a few queries."""
        ids = [case.id for case in cases]
        settled = debts.settlements_of(session, ids) if with_settlements else {}
        shown: dict[int, list[SettlementPublic]] = defaultdict(list)
        for settlement in SettlementPublic.many(session, [s for found in settled.values() for s in found]):
            shown[settlement.debt_case_id].append(settlement)
        pending = debts.pending_cents_by_case(session, ids)
        return [
            cls(
                id=case.id,
                resident_id=case.resident_id,
                creditor=case.creditor,
                creditor_reference=case.creditor_reference,
                amount_cents=case.amount_cents,
                remaining_cents=case.remaining_cents,
                pending_cents=pending.get(case.id, 0),
                status=str(case.status),
                chain_reference=case.chain_reference,
                created_at=case.created_at,
                closed_at=case.closed_at,
                settlements=shown.get(case.id, []),
            )
            for case in cases
        ]

    @classmethod
    def of(cls, session: Session, case: DebtCase, with_settlements: bool = False) -> Self:
        return cls.many(session, [case], with_settlements)[0]
