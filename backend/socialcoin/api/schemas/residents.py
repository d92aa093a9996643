"""Residents as the municipality admits and sees them: one at a time, from a spreadsheet, and where their
registration on chain stands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ...db.models import Resident
from ...domain import people
from ...domain.batch import MAX_ROWS
from ..batches import BatchAnswer, BatchRequest, Line
from .common import WHEN, Create
from .people import ADDRESS, ChainStatusPublic, OnChain, RegistrationState


class ResidentCreate(Create):
    name: str = Field(min_length=1, max_length=200, examples=["Eva de Vries"])
    email: str | None = Field(default=None, max_length=200, examples=["eva.devries@example.nl"])
    phone: str | None = Field(default=None, max_length=40, examples=["06 12345678"])
    case_number: str = Field(
        min_length=1,
        max_length=60,
        description="The municipality's case number. Never a BSN: one is refused.",
        examples=["2026-0042"],
    )
    area: str = Field(
        max_length=10, description="CBS code of where the resident lives", examples=["BU02020101"]
    )
    wallet_address: str | None = Field(
        default=None,
        max_length=42,
        description="The resident's own wallet; or give a PIN instead",
        examples=[None],
    )
    pin: str | None = Field(
        default=None,
        max_length=8,
        description="5 to 8 digits, not easy to guess: the service creates a wallet and keeps it encrypted "
        "under this PIN; or give wallet_address instead",
        examples=["24680"],
    )
    consent: bool = Field(
        description="The resident agreed to take part and to the use of their data for it", examples=[True]
    )


class ResidentPublic(BaseModel):
    id: int = Field(examples=[1])
    name: str = Field(examples=["Eva de Vries"])
    email: str | None = Field(examples=["eva.devries@example.nl"])
    phone: str | None = Field(examples=["06 12345678"])
    case_number: str = Field(examples=["2026-0042"])
    area: str = Field(examples=["BU02020101"])
    wallet_address: str = Field(examples=[ADDRESS])
    wallet_custody: Literal["own", "custodial"] = Field(
        description="own: the resident holds the key; custodial: the service keeps it under the PIN",
        examples=["custodial"],
    )
    consent_at: datetime = Field(examples=[WHEN])
    created_at: datetime = Field(examples=[WHEN])
    registration: ChainStatusPublic = Field(description="The registration on chain")

    @classmethod
    def with_write(cls, resident: Resident, write: people.ChainWrite) -> ResidentPublic:
        return cls(
            id=resident.id,
            name=resident.name,
            email=resident.email,
            phone=resident.phone,
            case_number=resident.case_number,
            area=resident.area,
            wallet_address=resident.wallet_address,
            wallet_custody=resident.wallet_custody,
            consent_at=resident.consent_at,
            created_at=resident.created_at,
            registration=ChainStatusPublic.of(write),
        )

    @classmethod
    def of(cls, session: Session, resident: Resident) -> ResidentPublic:
        return cls.with_write(resident, people.chain_write(session, resident.registration_key))

    @classmethod
    def many(cls, session: Session, residents: list[Resident]) -> list[ResidentPublic]:
        writes = people.chain_writes(session, (r.registration_key for r in residents))
        return [
            cls.with_write(r, writes.get(r.registration_key, people.ChainWrite("none"))) for r in residents
        ]


CASE_NUMBER = "2026-0042"


class ResidentRow(Create):
    """One line of the spreadsheet. Fields are checked as for one admission, and faults come back by line."""

    line: Line
    name: str | None = Field(default=None, max_length=1000, examples=["Eva de Vries"])
    case_number: str | None = Field(
        default=None, max_length=1000, description="Never a BSN: one is refused", examples=[CASE_NUMBER]
    )
    area: str | None = Field(default=None, max_length=1000, examples=["BU02020101"])
    email: str | None = Field(default=None, max_length=1000, examples=["eva.devries@example.nl"])
    phone: str | None = Field(default=None, max_length=1000, examples=["06 12345678"])
    wallet_address: str | None = Field(
        default=None,
        max_length=1000,
        description="The resident's own wallet; empty: a custodial wallet that waits for the resident's PIN",
        examples=[None],
    )


class ResidentBatch(BatchRequest[ResidentRow]):
    """The spreadsheet's rows, for admission."""


class ResidentBatchResult(BaseModel):
    line: int = Field(examples=[2])
    status: Literal["admitted", "exists"] = Field(
        description="admitted now, or admitted before with the same data (nothing changed)",
        examples=["admitted"],
    )
    case_number: str = Field(examples=[CASE_NUMBER])
    resident_id: int | None = Field(description="None in a dry run for a new resident", examples=[1])
    wallet_address: str | None = Field(
        description="None in a dry run for a new custodial wallet", examples=[ADDRESS]
    )
    activation: Literal["code_issued", "issued_before", "unacknowledged", "activated"] | None = Field(
        description="A custodial wallet awaiting the resident's PIN: code_issued (now, in activation_code: "
        "the only time it is shown), issued_before (not shown again; POST /municipality/residents/{id}/"
        "activation-code issues a new one, which replaces it), unacknowledged (issued before and never "
        "acknowledged as written down, so possibly lost: reissue it), activated (the resident has a PIN). "
        "None for an own wallet, and for a new row in a dry run",
        examples=["code_issued"],
    )
    activation_code: str | None = Field(
        description="For the letter to the resident, who chooses a PIN with it (POST /auth/activate): only "
        "in the answer that admitted the resident",
        examples=["HGUU-ZLS5-5JRE"],
    )
    activation_code_id: int | None = Field(
        description="The code's record: acknowledge it once the code is written down (POST "
        "/municipality/residents/activation-codes/acknowledge)",
        examples=[12],
    )
    onchain: OnChain | None = Field(
        description="The registration on chain; None in a dry run for a new resident", examples=["pending"]
    )


class ResidentBatchOut(BatchAnswer[ResidentBatchResult]):
    """A result per row: admitted or exists."""


class ResidentLookup(Create):
    case_numbers: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        min_length=1, max_length=MAX_ROWS, examples=[[CASE_NUMBER]]
    )


class ResidentRegistration(RegistrationState):
    case_number: str = Field(examples=[CASE_NUMBER])
    resident_id: int | None = Field(description="None: no resident has this case number", examples=[1])
